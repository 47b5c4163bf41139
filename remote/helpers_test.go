package remote_test

import (
	"context"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// testNode is a node with its distribution layer.
type testNode struct {
	*actor.Node
	r *remote.Remote
}

// startNode starts node name with cfg; on an in-memory network (net non-nil)
// it listens on its own name. Both are stopped when the test ends.
func startNode(t testing.TB, net *transport.Network, name string, cfg remote.Config) *testNode {
	t.Helper()
	n, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if net != nil {
		cfg.Transport = net.Transport(name)
		if len(cfg.Listen) == 0 && !cfg.NoListen {
			cfg.Listen = []string{name}
		}
	}
	if cfg.Cookie == "" {
		cfg.Cookie = "test-cookie"
	}
	r, err := remote.Start(n, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Stop()
		if err := n.Stop(context.Background()); err != nil {
			t.Errorf("stop %s: %v", name, err)
		}
	})
	return &testNode{Node: n, r: r}
}

// connect connects a to b and fails the test if it cannot.
func connect(t *testing.T, a, b *testNode) {
	t.Helper()
	if err := a.r.Connect(context.Background(), b.r.Spec()); err != nil {
		t.Fatalf("connect %s -> %s: %v", a.Name(), b.Name(), err)
	}
}

// probe forwards everything it receives to a channel, and runs functions it is
// sent so that a test can act as a process.
type probe struct {
	pid actor.PID
	ch  chan any
}

type runFn struct {
	fn   func(p *actor.Process)
	done chan struct{}
}

func spawnProbe(t *testing.T, n *testNode, opts ...actor.SpawnOption) *probe {
	t.Helper()
	pr := &probe{ch: make(chan any, 1024)}
	pid, err := n.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		if r, ok := msg.(runFn); ok {
			r.fn(p)
			close(r.done)
			return nil
		}
		pr.ch <- msg
		return nil
	}), opts...)
	if err != nil {
		t.Fatal(err)
	}
	pr.pid = pid
	return pr
}

// do runs fn as the probe process and waits for it.
func (pr *probe) do(t *testing.T, n *testNode, fn func(p *actor.Process)) {
	t.Helper()
	done := make(chan struct{})
	if err := n.Send(pr.pid, runFn{fn: fn, done: done}); err != nil {
		t.Fatalf("probe gone: %v", err)
	}
	<-done
}

func (pr *probe) recv(t *testing.T) any {
	t.Helper()
	return <-pr.ch
}

// echo is a gen_server that answers every call with its request and forwards
// casts and info to a channel.
type echo struct{ got chan any }

func (e *echo) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	switch req {
	case "crash":
		panic("crash requested")
	case "self":
		return p.Self(), nil
	}
	return req, nil
}

func (e *echo) HandleCast(p *actor.Process, msg any) error {
	if e.got != nil {
		e.got <- msg
	}
	return nil
}

func (e *echo) HandleInfo(p *actor.Process, msg any) error {
	if e.got != nil {
		e.got <- msg
	}
	return nil
}
