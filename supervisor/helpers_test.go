package supervisor_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/supervisor"
)

// errBoom is the abnormal exit reason the tests use.
var errBoom = errors.New("boom")

var ctx = context.Background()

// bubble runs f in a synctest bubble with a node made inside it. The node is
// stopped before the bubble ends; a process left stuck fails the test as a
// deadlock instead of hanging it.
func bubble(t *testing.T, f func(t *testing.T, n *actor.Node)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		n, err := actor.NewNode(actor.Config{Name: "sup@test"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := n.Stop(context.Background()); err != nil {
				t.Errorf("stop node: %v", err)
			}
		})
		f(t, n)
	})
}

// eventLog records what children do, in order, from their callbacks.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(format string, args ...any) {
	l.mu.Lock()
	l.events = append(l.events, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

// take returns the events recorded since the last take.
func (l *eventLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev := l.events
	l.events = nil
	return ev
}

// expect checks the events recorded since the last take, after letting every
// process in the bubble settle.
func (l *eventLog) expect(t *testing.T, want ...string) {
	t.Helper()
	synctest.Wait()
	got := l.take()
	if !slices.Equal(got, want) {
		t.Errorf("events:\n got  %q\n want %q", got, want)
	}
}

// exitWith makes a worker exit with a reason.
type exitWith struct{ reason error }

// worker is a gen_server child that records its start and its stop. It traps
// exits, so that its supervisor's exit(shutdown) makes it stop and run
// Terminate, the way OTP gen_servers under a supervisor do.
type worker struct {
	id   string
	log  *eventLog
	args []any
}

func (w *worker) Init(p *actor.Process) error {
	if len(w.args) > 0 {
		w.log.add("start %s %v", w.id, w.args)
		return nil
	}
	w.log.add("start %s", w.id)
	return nil
}

func (w *worker) Terminate(p *actor.Process, reason error) {
	w.log.add("stop %s %v", w.id, reason)
}

func (w *worker) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	if e, ok := req.(exitWith); ok {
		return nil, e.reason
	}
	return req, nil
}

func (w *worker) HandleCast(p *actor.Process, msg any) error {
	if e, ok := msg.(exitWith); ok {
		return e.reason
	}
	return nil
}

// recWorker is the spec of a permanent worker that records into log.
func recWorker(id string, log *eventLog, opts ...actor.SpawnOption) supervisor.ChildSpec {
	opts = append(opts, actor.WithTrapExit())
	return supervisor.Worker(id, func() actor.GenServer { return &worker{id: id, log: log} }, opts...)
}

// withRestart sets a spec's restart type.
func withRestart(c supervisor.ChildSpec, r supervisor.Restart) supervisor.ChildSpec {
	c.Restart = r
	return c
}

// stubborn is a child that traps exits and does not stop when asked: it
// exits on its own lateBy after the request (never if lateBy is zero).
func stubborn(id string, log *eventLog, shutdown, lateBy time.Duration) supervisor.ChildSpec {
	c := supervisor.BehaviorWorker(id, func() actor.Behavior {
		return actor.Func(func(p *actor.Process, msg any) error {
			switch msg.(type) {
			case actor.ExitMessage:
				log.add("%s asked to stop", id)
				if lateBy > 0 {
					p.SendAfter(lateBy, p.Self(), "done")
				}
			case string:
				log.add("%s stops", id)
				return actor.Shutdown
			}
			return nil
		})
	}, actor.WithTrapExit())
	c.Shutdown = shutdown
	return c
}

// exit makes the child pid exit with reason and waits for everything to
// settle.
func exit(t *testing.T, n *actor.Node, pid actor.PID, reason error) {
	t.Helper()
	if err := n.Cast(pid, exitWith{reason}); err != nil {
		t.Fatalf("cast to %v: %v", pid, err)
	}
	synctest.Wait()
}

// start starts a top-level supervisor or fails the test.
func start(t *testing.T, n *actor.Node, spec supervisor.Spec) actor.PID {
	t.Helper()
	sup, err := supervisor.Start(n, spec)
	if err != nil {
		t.Fatalf("start supervisor: %v", err)
	}
	return sup
}

// children returns the supervisor's children.
func children(t *testing.T, n *actor.Node, sup actor.PID) []supervisor.ChildInfo {
	t.Helper()
	infos, err := supervisor.WhichChildren(ctx, n, sup)
	if err != nil {
		t.Fatalf("which children: %v", err)
	}
	return infos
}

// pidOf returns the PID of the supervisor's child id (zero if not running).
func pidOf(t *testing.T, n *actor.Node, sup actor.PID, id string) actor.PID {
	t.Helper()
	for _, c := range children(t, n, sup) {
		if c.ID == id {
			return c.PID
		}
	}
	t.Fatalf("no child %q", id)
	return actor.PID{}
}

// pids returns the PIDs of the supervisor's children by ID.
func pids(t *testing.T, n *actor.Node, sup actor.PID) map[string]actor.PID {
	t.Helper()
	m := make(map[string]actor.PID)
	for _, c := range children(t, n, sup) {
		m[c.ID] = c.PID
	}
	return m
}

// describe renders children as "id:state" for comparison, state being run,
// none or restarting.
func describe(infos []supervisor.ChildInfo) string {
	var parts []string
	for _, c := range infos {
		state := "run"
		switch {
		case c.Restarting:
			state = "restarting"
		case c.PID.IsZero():
			state = "none"
		}
		parts = append(parts, c.ID+":"+state)
	}
	return strings.Join(parts, " ")
}

// monitor reports pid's DOWN on the returned channel, and logs it as
// "down <name> <reason>" if log is not nil.
func monitor(t *testing.T, n *actor.Node, pid actor.PID, name string, log *eventLog) <-chan actor.DownMessage {
	t.Helper()
	ch := make(chan actor.DownMessage, 1)
	_, err := n.Spawn(&downWatcher{target: pid, name: name, log: log, ch: ch})
	if err != nil {
		t.Fatalf("spawn monitor: %v", err)
	}
	return ch
}

type downWatcher struct {
	target actor.PID
	name   string
	log    *eventLog
	ch     chan actor.DownMessage
}

func (w *downWatcher) Init(p *actor.Process) error {
	p.Monitor(w.target)
	return nil
}

func (w *downWatcher) Receive(p *actor.Process, msg any) error {
	d, ok := msg.(actor.DownMessage)
	if !ok {
		return nil
	}
	if w.log != nil {
		w.log.add("down %s %v", w.name, d.Reason)
	}
	w.ch <- d
	return actor.Normal
}

// down returns the DOWN waiting on ch, failing the test if there is none once
// everything has settled.
func down(t *testing.T, ch <-chan actor.DownMessage) actor.DownMessage {
	t.Helper()
	synctest.Wait()
	select {
	case d := <-ch:
		return d
	default:
		t.Fatal("no DOWN: the process is still alive")
		return actor.DownMessage{}
	}
}

// alive reports whether pid is a live process.
func alive(n *actor.Node, pid actor.PID) bool {
	_, err := n.Info(pid)
	return err == nil
}

// probe is a process the test acts through: it runs the functions it is
// sent and forwards every other message (ExitMessages among them) to msgs.
type probe struct {
	n    *actor.Node
	pid  actor.PID
	msgs chan any
}

type runFn struct {
	fn   func(p *actor.Process) error
	done chan struct{}
}

func spawnProbe(t *testing.T, n *actor.Node, opts ...actor.SpawnOption) *probe {
	t.Helper()
	pr := &probe{n: n, msgs: make(chan any, 64)}
	pid, err := n.Spawn(pr, opts...)
	if err != nil {
		t.Fatalf("spawn probe: %v", err)
	}
	pr.pid = pid
	return pr
}

func (pr *probe) Receive(p *actor.Process, msg any) error {
	if r, ok := msg.(runFn); ok {
		defer close(r.done)
		return r.fn(p)
	}
	pr.msgs <- msg
	return nil
}

// do makes the probe run fn and waits for it.
func (pr *probe) do(t *testing.T, fn func(p *actor.Process) error) {
	t.Helper()
	done := make(chan struct{})
	if err := pr.n.Send(pr.pid, runFn{fn: fn, done: done}); err != nil {
		t.Fatalf("send to probe: %v", err)
	}
	<-done
}
