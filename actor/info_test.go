package actor_test

import (
	"context"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

type namedServer struct{}

func (namedServer) HandleCall(*actor.Process, actor.From, any) (any, error) { return nil, nil }
func (namedServer) BehaviorName() string                                    { return "named" }

// Info says what a process runs, since when, and how much it has handled.
func TestInfoDescribesTheProcess(t *testing.T) {
	node, err := actor.NewNode(actor.Config{Name: "info@test"})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Stop(context.Background())
	before := time.Now()
	server, _ := node.Spawn(actor.Server(&infoEcho{}))
	named, _ := node.Spawn(actor.Server(namedServer{}))
	fn, _ := node.Spawn(actor.Func(func(*actor.Process, any) error { return nil }))
	after := time.Now()
	for range 5 {
		if _, err := node.Call(context.Background(), server, "x"); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		pid      actor.PID
		behavior string
		handled  uint64
	}{
		{server, "*actor_test.infoEcho", 5},
		{named, "named", 0},
		{fn, "actor.Func", 0},
	}
	for _, c := range cases {
		info, err := node.Info(c.pid)
		if err != nil {
			t.Fatal(err)
		}
		if info.Behavior != c.behavior || info.MessagesHandled != c.handled {
			t.Errorf("%v: behavior %q, handled %d; want %q, %d", c.pid, info.Behavior, info.MessagesHandled, c.behavior, c.handled)
		}
		if info.Started.Before(before) || info.Started.After(after) {
			t.Errorf("%v: started %v, not between %v and %v", c.pid, info.Started, before, after)
		}
	}
}

type infoEcho struct{}

func (*infoEcho) HandleCall(_ *actor.Process, _ actor.From, req any) (any, error) { return req, nil }

// The node's count of messages handled goes on including processes that
// exited.
func TestNodeMessagesHandled(t *testing.T) {
	node, err := actor.NewNode(actor.Config{Name: "handled@test"})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Stop(context.Background())
	ctx := context.Background()
	before := node.MessagesHandled()
	pid, _ := node.Spawn(actor.Server(&infoEcho{}))
	for range 4 {
		if _, err := node.Call(ctx, pid, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if got := node.MessagesHandled() - before; got != 4 {
		t.Fatalf("handled %d, want 4", got)
	}
	if err := node.StopProcess(ctx, pid, actor.Normal); err != nil {
		t.Fatal(err)
	}
	if got := node.MessagesHandled() - before; got < 5 { // the stop request is an entry too
		t.Fatalf("after the exit: handled %d, want the 4 calls and the stop", got)
	}
}

// ObserveCalls sees every call with its duration and error.
func TestObserveCalls(t *testing.T) {
	node, err := actor.NewNode(actor.Config{Name: "calls@test"})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Stop(context.Background())
	var calls, failed int
	node.ObserveCalls(func(d time.Duration, err error) {
		calls++
		if err != nil {
			failed++
		}
		if d <= 0 {
			t.Errorf("duration %v", d)
		}
	})
	pid, _ := node.Spawn(actor.Server(&infoEcho{}))
	for range 3 {
		if _, err := node.Call(context.Background(), pid, "x"); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = node.Call(context.Background(), actor.Name{Name: "nobody"}, "x")
	node.ObserveCalls(nil)
	_, _ = node.Call(context.Background(), pid, "x")
	if calls != 4 || failed != 1 {
		t.Fatalf("observed %d calls, %d failed; want 4 and 1", calls, failed)
	}
}
