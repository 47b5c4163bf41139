package actor_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gotp-dev/gotp/actor"
)

// tally counts casts and shows its count when inspected.
type tally struct{ n int }

func (t *tally) HandleCall(*actor.Process, actor.From, any) (any, error) { return t.n, nil }
func (t *tally) HandleCast(*actor.Process, any) error                    { t.n++; return nil }
func (t *tally) Inspect() any {
	if t.n < 0 {
		panic("negative")
	}
	return map[string]int{"n": t.n}
}

func TestInspect(t *testing.T) {
	node, err := actor.NewNode(actor.Config{Name: "inspect@test"})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Stop(context.Background())
	ctx := context.Background()
	counter := &tally{}
	pid, _ := node.Spawn(actor.Server(counter), actor.WithName("tally"))
	for range 3 {
		node.Cast(pid, "x")
	}
	// The request waits its turn behind the casts, as sys:get_state does.
	v, err := node.Inspect(ctx, actor.Name{Name: "tally"})
	if m, ok := v.(map[string]int); err != nil || !ok || m["n"] != 3 {
		t.Fatalf("Inspect = %v, %v; want n=3", v, err)
	}

	plain, _ := node.Spawn(actor.Server(&infoEcho{}))
	if _, err := node.Inspect(ctx, plain); !errors.Is(err, actor.ErrNotInspectable) {
		t.Errorf("a server without Inspect: %v", err)
	}
	fn, _ := node.Spawn(actor.Func(func(*actor.Process, any) error { return nil }))
	if _, err := node.Inspect(ctx, fn); !errors.Is(err, actor.ErrNotInspectable) {
		t.Errorf("a Func: %v", err)
	}

	// A panicking Inspect is the asker's error; the process lives on.
	counter.n = -1
	if _, err := node.Inspect(ctx, pid); err == nil {
		t.Error("a panicking Inspect answered")
	}
	if _, err := node.Info(pid); err != nil {
		t.Errorf("the process died of its Inspect: %v", err)
	}

	node.StopProcess(ctx, plain, actor.Normal)
	if _, err := node.Inspect(ctx, plain); !errors.Is(err, actor.ErrNoProc) {
		t.Errorf("a gone process: %v", err)
	}
	if _, err := node.Inspect(ctx, actor.Name{Node: "elsewhere", Name: "tally"}); err == nil {
		t.Error("a process of another node was inspected")
	}
}
