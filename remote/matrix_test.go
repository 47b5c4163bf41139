package remote_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/remote/wire"
)

// The envelope kinds under a full send queue: messages and requests (Send,
// Call, StopProcess, Resolve) fail at once at their sender with
// ErrSendQueueFull; every signal (link, unlink, exit, link exit, monitor,
// demonitor, DOWN, reply) is taken anyway and arrives once the queue drains.
//
// The other conditions of the matrix apply to the kinds that carry a payload
// (a message, a call, a reply; an exit reason); the rest carry only PIDs,
// names and refs, which always encode, fit and decode. They are tested in
// TestUnknownTypes and TestOversizeMessageIsSenderError (a message or call
// that does not encode, is too large, or does not decode at the receiver),
// TestRepliesThatCannotTravel (the same for replies) and
// TestOversizeReasonsTravelCut (exit reasons too large for a frame).
func TestKindsUnderAFullQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(90)
		a := startNode(t, net, "a", remote.Config{SendQueueBytes: 2048})
		b := startNode(t, net, "b", remote.Config{})
		connect(t, a, b)
		connect(t, b, a)

		// On b: processes the signals from a act on.
		linkTarget := spawnProbe(t, b, actor.WithTrapExit())
		exitTarget, _ := b.Spawn(actor.Func(func(*actor.Process, any) error { return nil }))
		monTarget := spawnProbe(t, b)
		bWatcher := spawnProbe(t, b)
		echoB, _ := b.Spawn(actor.Server(&echo{}), actor.WithName("echo"))
		// On a: a process b watches, and a server b calls that answers late.
		dying := spawnProbe(t, a)
		bWatcher.do(t, b, func(p *actor.Process) { p.Monitor(dying.pid) })
		held := make(chan actor.From, 1)
		lateServer, _ := a.Spawn(actor.Server(&deferred{held: held}))
		replied := make(chan any, 1)
		go func() {
			v, err := b.Call(actor.WithoutCallTimeout(context.Background()), lateServer, "answer later")
			if err != nil {
				replied <- err
				return
			}
			replied <- v
		}()
		from := <-held
		aProc := spawnProbe(t, a)
		linkExitSrc := spawnProbe(t, a)
		linkExitSrc.do(t, a, func(p *actor.Process) { _ = p.Link(linkTarget.pid) })
		synctest.Wait()

		// Stall a's writer to b and fill its queue with messages.
		release := make(chan struct{})
		var stalled atomic.Bool
		stalled.Store(true)
		net.SetHook(func(from, to string, frame []byte) ([]byte, bool) {
			if from == "a" && to == "b" && stalled.Load() {
				<-release
			}
			return frame, true
		})
		fill := func() {
			for i := 0; ; i++ {
				if err := a.Send(echoB, "x"); errors.Is(err, remote.ErrSendQueueFull) {
					return
				} else if i > 10000 {
					t.Fatal("the queue never filled")
				}
			}
		}
		fill()
		// The writer may have taken a batch as the queue filled: once it is
		// stuck in the hook, fill what that freed too.
		synctest.Wait()
		fill()

		// Messages and requests: the sender hears at once.
		if err := a.Send(echoB, "x"); !errors.Is(err, remote.ErrSendQueueFull) {
			t.Errorf("message: %v", err)
		}
		if _, err := a.Call(context.Background(), echoB, "x"); !errors.Is(err, remote.ErrSendQueueFull) {
			t.Errorf("call: %v", err)
		}
		if err := a.StopProcess(context.Background(), echoB, actor.Normal); !errors.Is(err, remote.ErrSendQueueFull) {
			t.Errorf("stop: %v", err)
		}
		if _, err := a.Resolve(context.Background(), actor.Name{Node: "b", Name: "echo"}); !errors.Is(err, remote.ErrSendQueueFull) {
			t.Errorf("whereis: %v", err)
		}

		// Signals: taken despite the full queue.
		var monRef actor.Ref
		aProc.do(t, a, func(p *actor.Process) {
			if err := p.Link(linkTarget.pid); err != nil {
				t.Errorf("link: %v", err)
			}
			p.Unlink(linkTarget.pid)
			if err := p.Exit(exitTarget, errBoom); err != nil {
				t.Errorf("exit: %v", err)
			}
			monRef = p.Monitor(monTarget.pid)
			p.Demonitor(monRef)
			p.Monitor(monTarget.pid)
		})
		linkExitSrc.do(t, a, func(*actor.Process) {})
		_ = a.Exit(linkExitSrc.pid, errBoom) // its link exit goes to b
		_ = a.Exit(dying.pid, errBoom)       // its DOWN goes to b
		if err := a.Reply(from, "late answer"); err != nil {
			t.Errorf("reply: %v", err)
		}
		synctest.Wait()

		stalled.Store(false)
		close(release)
		synctest.Wait()
		if _, err := b.Info(exitTarget); !errors.Is(err, actor.ErrNoProc) {
			t.Error("exit signal: the target lives")
		}
		if m := recvAs(t, linkTarget); m.From != linkExitSrc.pid || !errors.Is(m.Reason, errBoom) {
			t.Errorf("link exit: %+v", m)
		}
		info, _ := b.Info(linkTarget.pid)
		for _, l := range info.Links {
			if l == aProc.pid {
				t.Error("unlink: the link is still there")
			}
		}
		if info, _ := b.Info(monTarget.pid); len(info.MonitoredBy) != 1 || info.MonitoredBy[0] != aProc.pid {
			t.Errorf("monitor/demonitor: monitored by %v", info.MonitoredBy)
		}
		if d, ok := bWatcher.recv(t).(actor.DownMessage); !ok || d.PID != dying.pid || !errors.Is(d.Reason, errBoom) {
			t.Errorf("down: %#v", d)
		}
		if v := <-replied; v != "late answer" {
			t.Errorf("reply: %v", v)
		}
	})
}

// recvAs receives an ExitMessage on a probe.
func recvAs(t *testing.T, pr *probe) actor.ExitMessage {
	t.Helper()
	m, ok := pr.recv(t).(actor.ExitMessage)
	if !ok {
		t.Fatalf("probe got %#v, want an exit message", m)
	}
	return m
}

// deferred is a gen_server that keeps its first call's From for the test.
type deferred struct{ held chan actor.From }

func (s *deferred) HandleCall(_ *actor.Process, from actor.From, _ any) (any, error) {
	s.held <- from
	return actor.NoReply, nil
}

var errBoom = wire.MustRegisterError(errors.New("remote_test: boom"))

// An exit reason too large for a frame still travels, cut short, keeping its
// sentinel: a DOWN, a link exit and an exit signal are never lost to size.
func TestOversizeReasonsTravelCut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(91)
		a := startNode(t, net, "a", remote.Config{MaxFrameSize: 4096})
		b := startNode(t, net, "b", remote.Config{MaxFrameSize: 4096})
		connect(t, a, b)
		huge := &hugeError{text: strings.Repeat("x", 10000)}
		dying := spawnProbe(t, a)
		w := spawnProbe(t, b, actor.WithTrapExit())
		w.do(t, b, func(p *actor.Process) {
			p.Monitor(dying.pid)
			_ = p.Link(dying.pid)
		})
		synctest.Wait()
		dying.do(t, a, func(p *actor.Process) {})
		_ = a.Exit(dying.pid, huge)
		for range 2 {
			var reason error
			switch m := w.recv(t).(type) {
			case actor.DownMessage:
				reason = m.Reason
			case actor.ExitMessage:
				reason = m.Reason
			default:
				t.Fatalf("got %#v", m)
			}
			if !errors.Is(reason, errBoom) || !strings.Contains(reason.Error(), "bytes cut") || len(reason.Error()) > 2048 {
				t.Fatalf("reason of %d bytes: %.80q..., want it cut and still boom", len(reason.Error()), reason.Error())
			}
		}
	})
}

// hugeError is a boom with a long story.
type hugeError struct{ text string }

func (e *hugeError) Error() string { return e.text }
func (e *hugeError) Unwrap() error { return errBoom }
