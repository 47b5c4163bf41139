package supervisor

import (
	"fmt"
	"math"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

// Strategy says which children a supervisor restarts when one of them exits
// and must be restarted.
type Strategy uint8

// The restart strategies of OTP's supervisor. The zero value is OneForOne.
const (
	// OneForOne restarts only the child that exited.
	OneForOne Strategy = iota
	// OneForAll stops all other children (in reverse start order) and then
	// starts all of them again (in start order).
	OneForAll
	// RestForOne stops the children started after the one that exited (in
	// reverse start order) and then starts it and them again (in start order).
	RestForOne
	// SimpleOneForOne is OneForOne for a supervisor whose children are all
	// made from one template spec and started on demand with StartChildArgs.
	SimpleOneForOne
)

func (s Strategy) String() string {
	switch s {
	case OneForOne:
		return "one_for_one"
	case OneForAll:
		return "one_for_all"
	case RestForOne:
		return "rest_for_one"
	case SimpleOneForOne:
		return "simple_one_for_one"
	}
	return fmt.Sprintf("Strategy(%d)", uint8(s))
}

// Restart says when a child that exited is restarted.
type Restart uint8

// Restart types. The zero value is Permanent, OTP's default.
const (
	// Permanent children are always restarted, whatever their exit reason.
	Permanent Restart = iota
	// Transient children are restarted only after an abnormal exit: not after
	// actor.Normal, actor.Shutdown or an error wrapping either (see
	// actor.IsNormalExit).
	Transient
	// Temporary children are never restarted; the supervisor forgets them
	// when they exit.
	Temporary
)

func (r Restart) String() string {
	switch r {
	case Permanent:
		return "permanent"
	case Transient:
		return "transient"
	case Temporary:
		return "temporary"
	}
	return fmt.Sprintf("Restart(%d)", uint8(r))
}

// ChildType says whether a child is a worker or a supervisor. It changes the
// default Shutdown and the counts reported by CountChildren.
type ChildType uint8

// Child types. The zero value is WorkerChild.
const (
	WorkerChild ChildType = iota
	SupervisorChild
)

func (t ChildType) String() string {
	switch t {
	case WorkerChild:
		return "worker"
	case SupervisorChild:
		return "supervisor"
	}
	return fmt.Sprintf("ChildType(%d)", uint8(t))
}

// Special values of ChildSpec.Shutdown.
const (
	// BrutalKill ends the child with actor.Kill at once, without asking it
	// to shut down.
	BrutalKill time.Duration = -1
	// Infinity asks the child to shut down and waits for it however long it
	// takes. It is the default for supervisor children.
	Infinity time.Duration = math.MaxInt64
)

// Defaults, as in OTP.
const (
	// DefaultWorkerShutdown is how long a worker is given to shut down before
	// it is killed, when its ChildSpec.Shutdown is zero.
	DefaultWorkerShutdown = 5 * time.Second
	// DefaultIntensity and DefaultPeriod are the restart limit used when
	// Spec.Intensity and Spec.Period are zero: one restart in five seconds.
	DefaultIntensity = 1
	DefaultPeriod    = 5 * time.Second
	// NoRestarts as Spec.Intensity allows no restart at all: the first child
	// that must be restarted makes the supervisor give up and exit.
	NoRestarts = -1
)

// StartFunc starts a child. It runs on the supervisor's own goroutine and is
// given the supervisor's process, so that it can spawn the child linked to the
// supervisor: p.Spawn(b, actor.WithLink(), ...). It returns the child's PID,
// or actor.Ignore to leave the child not running, or another error.
//
// args are the extra arguments of StartChildArgs for the template of a
// SimpleOneForOne supervisor (kept and passed again on every restart); every
// other start gets none.
//
// The child must be linked to p: the supervisor learns of a child's exit
// through the link. A StartFunc must not call the supervisor (that would wait
// for itself).
type StartFunc func(p *actor.Process, args ...any) (actor.PID, error)

// ChildSpec describes one child: OTP's child_spec map.
type ChildSpec struct {
	// ID names the child among its supervisor's children. Required.
	ID string
	// Start starts the child. Required.
	Start StartFunc
	// Restart says when the child is restarted. Default Permanent.
	Restart Restart
	// Shutdown is how long the child is given to shut down, after
	// exit(shutdown), before it is killed: a positive duration, BrutalKill
	// (kill at once) or Infinity (wait for ever). Zero means the default:
	// DefaultWorkerShutdown for workers, Infinity for supervisors.
	Shutdown time.Duration
	// Type is WorkerChild (default) or SupervisorChild.
	Type ChildType
}

// Spec describes a supervisor: OTP's sup_flags and its list of child specs.
// The zero value (apart from Children) is OTP's default: one_for_one, at most
// one restart in five seconds.
type Spec struct {
	// Strategy is the restart strategy. Default OneForOne.
	Strategy Strategy
	// Intensity is the most restarts allowed within Period; one more and the
	// supervisor stops its children and exits with
	// ErrReachedMaxRestartIntensity. Zero means DefaultIntensity; NoRestarts
	// allows none.
	Intensity int
	// Period is the window over which restarts are counted. Zero means
	// DefaultPeriod.
	Period time.Duration
	// Children are started in this order when the supervisor starts and
	// stopped in the reverse order. A SimpleOneForOne supervisor takes exactly
	// one, the template of the children started with StartChildArgs.
	Children []ChildSpec
}

// Worker returns the spec of a permanent worker child named id that runs the
// gen_server made by newServer, spawned linked to its supervisor with the
// given extra options (actor.WithName, actor.WithTrapExit, ...). Adjust the
// returned spec's Restart or Shutdown as needed.
func Worker(id string, newServer func() actor.GenServer, opts ...actor.SpawnOption) ChildSpec {
	return BehaviorWorker(id, func() actor.Behavior { return actor.Server(newServer()) }, opts...)
}

// BehaviorWorker is Worker for a plain process: newBehavior makes the Behavior
// of each start.
func BehaviorWorker(id string, newBehavior func() actor.Behavior, opts ...actor.SpawnOption) ChildSpec {
	opts = append(opts[:len(opts):len(opts)], actor.WithLink())
	return ChildSpec{
		ID: id,
		Start: func(p *actor.Process, _ ...any) (actor.PID, error) {
			return p.Spawn(newBehavior(), opts...)
		},
	}
}

// ChildSupervisor returns the spec of a permanent child that is itself a
// supervisor running spec, started with StartLink and the given options. Its
// Shutdown defaults to Infinity, so that it has all the time it needs to stop
// its own children.
func ChildSupervisor(id string, spec Spec, opts ...actor.SpawnOption) ChildSpec {
	return ChildSpec{
		ID:   id,
		Type: SupervisorChild,
		Start: func(p *actor.Process, _ ...any) (actor.PID, error) {
			return StartLink(p, spec, opts...)
		},
	}
}

// Validate reports whether spec can be started: a known strategy, an
// Intensity of NoRestarts or more, a Period not negative, and children with
// unique non-empty IDs, a Start function, known restart and child types and a
// Shutdown that is positive, zero (the default), BrutalKill or Infinity. A
// SimpleOneForOne spec needs exactly one child. The error wraps
// ErrInvalidSpec.
func (s Spec) Validate() error {
	_, err := s.normalize()
	return err
}

// normalize validates s and fills in its defaults, on a copy.
func (s Spec) normalize() (Spec, error) {
	if s.Strategy > SimpleOneForOne {
		return s, fmt.Errorf("%w: unknown strategy %d", ErrInvalidSpec, s.Strategy)
	}
	switch {
	case s.Intensity == 0:
		s.Intensity = DefaultIntensity
	case s.Intensity == NoRestarts:
		s.Intensity = 0
	case s.Intensity < 0:
		return s, fmt.Errorf("%w: intensity %d (use NoRestarts to allow none)", ErrInvalidSpec, s.Intensity)
	}
	switch {
	case s.Period == 0:
		s.Period = DefaultPeriod
	case s.Period < 0:
		return s, fmt.Errorf("%w: negative period %v", ErrInvalidSpec, s.Period)
	}
	if s.Strategy == SimpleOneForOne && len(s.Children) != 1 {
		return s, fmt.Errorf("%w: simple_one_for_one needs exactly one child spec, got %d", ErrInvalidSpec, len(s.Children))
	}
	children := make([]ChildSpec, len(s.Children))
	seen := make(map[string]bool, len(s.Children))
	for i, c := range s.Children {
		nc, err := c.normalize()
		if err != nil {
			return s, err
		}
		if seen[c.ID] {
			return s, fmt.Errorf("%w: duplicate child id %q", ErrInvalidSpec, c.ID)
		}
		seen[c.ID] = true
		children[i] = nc
	}
	s.Children = children
	return s, nil
}

// normalize validates c and fills in its default Shutdown.
func (c ChildSpec) normalize() (ChildSpec, error) {
	if c.ID == "" {
		return c, fmt.Errorf("%w: child with empty id", ErrInvalidSpec)
	}
	if c.Start == nil {
		return c, fmt.Errorf("%w: child %q: nil Start", ErrInvalidSpec, c.ID)
	}
	if c.Restart > Temporary {
		return c, fmt.Errorf("%w: child %q: unknown restart type %d", ErrInvalidSpec, c.ID, c.Restart)
	}
	if c.Type > SupervisorChild {
		return c, fmt.Errorf("%w: child %q: unknown child type %d", ErrInvalidSpec, c.ID, c.Type)
	}
	switch {
	case c.Shutdown == 0 && c.Type == SupervisorChild:
		c.Shutdown = Infinity
	case c.Shutdown == 0:
		c.Shutdown = DefaultWorkerShutdown
	case c.Shutdown < 0 && c.Shutdown != BrutalKill:
		return c, fmt.Errorf("%w: child %q: negative shutdown %v (use BrutalKill)", ErrInvalidSpec, c.ID, c.Shutdown)
	}
	return c, nil
}
