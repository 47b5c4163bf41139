package actor_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/actor"
)

// errBoom is the abnormal exit reason most tests use.
var errBoom = errors.New("boom")

// bubble runs f in a synctest bubble with a node made inside it (as synctest
// requires). The node is stopped before the bubble ends, so a process left
// stuck fails the test as a deadlock instead of hanging it. Inside a bubble a
// receive that can never complete is reported as a deadlock too.
func bubble(t *testing.T, f func(t *testing.T, n *actor.Node)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		f(t, newNode(t, actor.Config{Name: "a@test"}))
	})
}

// newNode makes a node that is stopped when the test ends.
func newNode(t *testing.T, cfg actor.Config) *actor.Node {
	t.Helper()
	n, err := actor.NewNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Stop(context.Background()); err != nil {
			t.Errorf("stop node: %v", err)
		}
	})
	return n
}

// probe is a process a test drives from outside: it runs the functions it is
// sent (so that the test can act as that process) and forwards every other
// message to a channel.
type probe struct {
	n   *actor.Node
	pid actor.PID
	ch  chan any
}

// runFn makes a probe call fn; the probe exits if fn returns an error.
type runFn struct {
	fn   func(p *actor.Process) error
	done chan struct{}
}

func (pr *probe) Receive(p *actor.Process, msg any) error {
	if r, ok := msg.(runFn); ok {
		defer close(r.done)
		return r.fn(p)
	}
	pr.ch <- msg
	return nil
}

// spawner is what Node and Process have in common.
type spawner interface {
	Spawn(b actor.Behavior, opts ...actor.SpawnOption) (actor.PID, error)
}

// spawnProbe starts a probe on n.
func spawnProbe(t *testing.T, n *actor.Node, opts ...actor.SpawnOption) *probe {
	t.Helper()
	pr, err := startProbe(n, n, opts...)
	if err != nil {
		t.Fatalf("spawn probe: %v", err)
	}
	return pr
}

func startProbe(n *actor.Node, s spawner, opts ...actor.SpawnOption) (*probe, error) {
	pr := &probe{n: n, ch: make(chan any, 1<<14)}
	pid, err := s.Spawn(pr, opts...)
	pr.pid = pid
	return pr, err
}

// spawnChild starts a probe from inside parent (so WithLink applies to it).
func (pr *probe) spawnChild(t *testing.T, opts ...actor.SpawnOption) *probe {
	t.Helper()
	var child *probe
	var err error
	pr.do(t, func(p *actor.Process) error {
		child, err = startProbe(pr.n, p, opts...)
		return nil
	})
	if err != nil {
		t.Fatalf("spawn child probe: %v", err)
	}
	return child
}

// async makes the probe run fn and returns a channel closed once fn returned.
func (pr *probe) async(t *testing.T, fn func(p *actor.Process) error) <-chan struct{} {
	t.Helper()
	done := make(chan struct{})
	if err := pr.n.Send(pr.pid, runFn{fn: fn, done: done}); err != nil {
		t.Fatalf("send to probe %v: %v", pr.pid, err)
	}
	return done
}

// do makes the probe run fn and waits for it.
func (pr *probe) do(t *testing.T, fn func(p *actor.Process) error) {
	t.Helper()
	<-pr.async(t, fn)
}

// recv returns the next message the probe received.
func (pr *probe) recv(t *testing.T) any {
	t.Helper()
	return <-pr.ch
}

// quiet fails the test if the probe has received anything not yet taken by
// recv. Call it inside a bubble after synctest.Wait.
func (pr *probe) quiet(t *testing.T) {
	t.Helper()
	select {
	case m := <-pr.ch:
		t.Fatalf("probe %v received unexpected %#v", pr.pid, m)
	default:
	}
}

// recvAs receives the probe's next message and fails the test unless it is a T.
func recvAs[T any](t *testing.T, pr *probe) T {
	t.Helper()
	m := pr.recv(t)
	v, ok := m.(T)
	if !ok {
		var zero T
		t.Fatalf("probe %v received %#v, want a %T", pr.pid, m, zero)
	}
	return v
}

// watch starts a probe that monitors pid; its DownMessage tells that pid died.
func watch(t *testing.T, n *actor.Node, pid actor.PID) *probe {
	t.Helper()
	w := spawnProbe(t, n)
	w.do(t, func(p *actor.Process) error {
		p.Monitor(pid)
		return nil
	})
	return w
}

// down waits for the watcher's DownMessage and returns its reason.
func (pr *probe) down(t *testing.T) error {
	t.Helper()
	return recvAs[actor.DownMessage](t, pr).Reason
}

// alive reports whether pid is a live process of n.
func alive(n *actor.Node, pid actor.PID) bool {
	_, err := n.Info(pid)
	return err == nil
}

// testServer is a gen_server for tests. It answers a callFn request by running
// it, and any other request by echoing it; casts, infos and its termination go
// to ch.
type testServer struct {
	ch   chan any
	init func(p *actor.Process) error
}

// callFn is a request the test server answers by running it.
type callFn func(p *actor.Process, from actor.From) (any, error)

type (
	gotCast    struct{ msg any }
	gotInfo    struct{ msg any }
	terminated struct{ reason error }
)

func newServer() *testServer { return &testServer{ch: make(chan any, 1024)} }

func (s *testServer) Init(p *actor.Process) error {
	if s.init != nil {
		return s.init(p)
	}
	return nil
}

func (s *testServer) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	if f, ok := req.(callFn); ok {
		return f(p, from)
	}
	return req, nil
}

func (s *testServer) HandleCast(p *actor.Process, msg any) error {
	if f, ok := msg.(func(p *actor.Process) error); ok {
		return f(p)
	}
	s.ch <- gotCast{msg}
	return nil
}

func (s *testServer) HandleInfo(p *actor.Process, msg any) error {
	s.ch <- gotInfo{msg}
	return nil
}

func (s *testServer) Terminate(p *actor.Process, reason error) { s.ch <- terminated{reason} }

// spawnServer starts a testServer on n.
func spawnServer(t *testing.T, n *actor.Node, opts ...actor.SpawnOption) (actor.PID, *testServer) {
	t.Helper()
	s := newServer()
	pid, err := n.Spawn(actor.Server(s), opts...)
	if err != nil {
		t.Fatalf("spawn server: %v", err)
	}
	return pid, s
}

// exitWith is a callFn that stops the server with reason.
func exitWith(reason error) callFn {
	return func(*actor.Process, actor.From) (any, error) { return nil, reason }
}
