package remote_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
)

// answering is a gen_server whose reply to "bad" is whatever it was built
// with.
type answering struct{ bad any }

func (s *answering) HandleCall(_ *actor.Process, _ actor.From, req any) (any, error) {
	if req == "bad" {
		return s.bad, nil
	}
	return req, nil
}

// A reply that cannot reach its caller (it does not encode, it is larger than
// a frame, or the caller cannot decode it) fails the call at once with why,
// instead of leaving the caller waiting for its deadline; the connection
// carries on.
func TestRepliesThatCannotTravel(t *testing.T) {
	cases := []struct {
		name string
		bad  any
		want string
	}{
		{"does not encode", make(chan int), "not sent"},
		{"larger than a frame", make([]byte, 8192), "not sent"},
		{"does not decode at the caller", flaky{3}, "cannot decode flaky here"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
				a := mk("a", remote.Config{MaxFrameSize: 4096})
				b := mk("b", remote.Config{MaxFrameSize: 4096})
				connect(t, a, b)
				server, _ := b.Spawn(actor.Server(&answering{bad: tc.bad}))
				start := time.Now()
				_, err := a.Call(ctxT(t), server, "bad")
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("call whose reply cannot travel: %v, want an error saying %q", err, tc.want)
				}
				if el := time.Since(start); el > 5*time.Second {
					t.Fatalf("the call waited %v for a reply that could not come", el)
				}
				if reply, err := a.Call(ctxT(t), server, "after"); err != nil || reply != "after" {
					t.Fatalf("after: %v, %v", reply, err)
				}
			})
		})
	}
}
