package supervisor

import (
	"time"

	"github.com/gotp-dev/gotp/actor"
)

// State is what a supervisor shows when inspected with actor.Node.Inspect
// (sys:get_state of an OTP supervisor shows its state record): its strategy
// and restart intensity, and the restarts it made.
type State struct {
	Strategy  Strategy
	Intensity int
	Period    time.Duration
	// Restarts counts the restarts since the supervisor started; Recent
	// those within the last Period, which the intensity limits.
	Restarts uint64
	Recent   int
	// Children lists the static children in start order (dynamic ones of a
	// SimpleOneForOne supervisor are counted in Dynamic).
	Children []ChildState
	Dynamic  int
}

// ChildState is one child of a supervisor's State.
type ChildState struct {
	ID       string
	PID      actor.PID // zero while not running
	Restarts uint64    // restarts this child's exits caused
}

var _ actor.Inspector = (*server)(nil)

// Inspect implements actor.Inspector.
func (s *server) Inspect() any {
	st := State{
		Strategy: s.spec.Strategy, Intensity: s.spec.Intensity, Period: s.spec.Period,
		Restarts: s.restartsTotal, Dynamic: len(s.dynamic),
	}
	now := time.Now()
	for _, t := range s.restarts {
		if now.Sub(t) <= s.spec.Period {
			st.Recent++
		}
	}
	for _, c := range s.children {
		st.Children = append(st.Children, ChildState{ID: c.spec.ID, PID: c.pid, Restarts: c.restarts})
	}
	return st
}

// MarshalText writes a strategy as its OTP name (one_for_one, ...), so that
// a State reads well as JSON.
func (s Strategy) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
