package actor_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/actor"
)

// fakeRemote records the envelopes a node forwards.
type fakeRemote struct {
	envs chan actor.Envelope
}

// endpoints holds each test node's end of its distribution layer.
var endpoints sync.Map // *actor.Node -> *actor.Endpoint

// endpoint returns n's distribution endpoint, attaching a fake remote layer
// if n has none.
func endpoint(n *actor.Node) *actor.Endpoint {
	if v, ok := endpoints.Load(n); ok {
		return v.(*actor.Endpoint)
	}
	installRemote(n)
	return endpoint(n)
}

func installRemote(n *actor.Node) *fakeRemote {
	r := &fakeRemote{envs: make(chan actor.Envelope, 1024)}
	endpoints.Store(n, n.Attach(r))
	return r
}

func (r *fakeRemote) Forward(env actor.Envelope) error {
	r.envs <- env
	return nil
}

// next returns the next forwarded envelope.
func (r *fakeRemote) next(t *testing.T) actor.Envelope {
	t.Helper()
	return <-r.envs
}

// quiet fails the test if anything was forwarded and not taken by next.
func (r *fakeRemote) quiet(t *testing.T) {
	t.Helper()
	select {
	case env := <-r.envs:
		t.Fatalf("unexpected envelope %+v", env)
	default:
	}
}

var (
	remotePID  = actor.PID{Node: "b@test", Creation: 7, ID: 3}
	remotePID2 = actor.PID{Node: "b@test", Creation: 7, ID: 4}
	otherPID   = actor.PID{Node: "c@test", Creation: 9, ID: 3}
	remoteRef  = actor.Ref{Node: "b@test", Creation: 7, ID: 100}
)

func TestRemoteWithoutConnection(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		remoteName := actor.Name{Node: "b@test", Name: "svc"}
		fromNode := []struct {
			name string
			f    func() error
		}{
			{"Send", func() error { return n.Send(remotePID, "x") }},
			{"Cast", func() error { return n.Cast(remotePID, "x") }},
			{"SendName", func() error { return n.Send(remoteName, "x") }},
			{"Exit", func() error { return n.Exit(remotePID, errBoom) }},
			{"Call", func() error { _, err := n.Call(t.Context(), remotePID, "x"); return err }},
			{"CallName", func() error { _, err := n.Call(t.Context(), remoteName, "x"); return err }},
		}
		for _, tc := range fromNode {
			if err := tc.f(); !errors.Is(err, actor.ErrNoConnection) {
				t.Errorf("Node.%s = %v, want ErrNoConnection", tc.name, err)
			}
		}
		pr := spawnProbe(t, n, actor.WithTrapExit())
		var ref actor.Ref
		pr.do(t, func(p *actor.Process) error {
			if err := p.Send(remotePID, "x"); !errors.Is(err, actor.ErrNoConnection) {
				t.Errorf("Process.Send = %v, want ErrNoConnection", err)
			}
			if _, err := p.Call(t.Context(), remotePID, "x"); !errors.Is(err, actor.ErrNoConnection) {
				t.Errorf("Process.Call = %v, want ErrNoConnection", err)
			}
			if err := p.Link(remotePID); !errors.Is(err, actor.ErrNoConnection) {
				t.Errorf("Process.Link = %v, want ErrNoConnection", err)
			}
			ref = p.Monitor(remotePID)
			return nil
		})
		if m := recvAs[actor.ExitMessage](t, pr); m != (actor.ExitMessage{From: remotePID, Reason: actor.ErrNoConnection}) {
			t.Fatalf("after Link got %#v, want ExitMessage noconnection", m)
		}
		if d := recvAs[actor.DownMessage](t, pr); d != (actor.DownMessage{Ref: ref, PID: remotePID, Reason: actor.ErrNoConnection}) {
			t.Fatalf("after Monitor got %#v, want DOWN noconnection", d)
		}
	})
}

// The zero PID names no process: it is not an address on some other node.
func TestZeroPID(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		r := installRemote(n)
		if err := n.Send(actor.PID{}, "x"); !errors.Is(err, actor.ErrNoProc) {
			t.Errorf("Node.Send = %v, want ErrNoProc", err)
		}
		if err := n.Exit(actor.PID{}, errBoom); !errors.Is(err, actor.ErrNoProc) {
			t.Errorf("Node.Exit = %v, want ErrNoProc", err)
		}
		pr := spawnProbe(t, n, actor.WithTrapExit())
		var ref actor.Ref
		pr.do(t, func(p *actor.Process) error {
			if err := p.Send(actor.PID{}, "x"); !errors.Is(err, actor.ErrNoProc) {
				t.Errorf("Process.Send = %v, want ErrNoProc", err)
			}
			if err := p.Link(actor.PID{}); !errors.Is(err, actor.ErrNoProc) {
				t.Errorf("Process.Link = %v, want ErrNoProc", err)
			}
			ref = p.Monitor(actor.PID{})
			return nil
		})
		if m := recvAs[actor.ExitMessage](t, pr); m != (actor.ExitMessage{Reason: actor.ErrNoProc}) {
			t.Errorf("after Link got %#v, want ExitMessage noproc", m)
		}
		if d := recvAs[actor.DownMessage](t, pr); d != (actor.DownMessage{Ref: ref, Reason: actor.ErrNoProc}) {
			t.Errorf("after Monitor got %#v, want DOWN noproc", d)
		}
		synctest.Wait()
		r.quiet(t)
	})
}

func TestRemoteEnvelopes(t *testing.T) {
	tests := []struct {
		name string
		// act runs in a local process and returns the ref it made, if any, and
		// the reason the process then exits with, if any.
		act  func(p *actor.Process) (actor.Ref, error)
		want func(self actor.PID, ref actor.Ref) []actor.Envelope
	}{
		{"Send", func(p *actor.Process) (actor.Ref, error) {
			_ = p.Send(remotePID, "m")
			return actor.Ref{}, nil
		}, func(self actor.PID, _ actor.Ref) []actor.Envelope {
			return []actor.Envelope{{Kind: actor.EnvMessage, From: self, To: remotePID, Message: "m"}}
		}},
		{"SendName", func(p *actor.Process) (actor.Ref, error) {
			_ = p.Send(actor.Name{Node: "b@test", Name: "svc"}, "m")
			return actor.Ref{}, nil
		}, func(self actor.PID, _ actor.Ref) []actor.Envelope {
			return []actor.Envelope{{Kind: actor.EnvMessage, From: self, ToName: actor.Name{Node: "b@test", Name: "svc"}, Message: "m"}}
		}},
		{"Cast", func(p *actor.Process) (actor.Ref, error) {
			_ = p.Cast(remotePID, "c")
			return actor.Ref{}, nil
		}, func(self actor.PID, _ actor.Ref) []actor.Envelope {
			return []actor.Envelope{{Kind: actor.EnvMessage, From: self, To: remotePID, Message: actor.CastMessage{Message: "c"}}}
		}},
		{"Link and Unlink", func(p *actor.Process) (actor.Ref, error) {
			_ = p.Link(remotePID)
			p.Unlink(remotePID)
			return actor.Ref{}, nil
		}, func(self actor.PID, _ actor.Ref) []actor.Envelope {
			return []actor.Envelope{
				{Kind: actor.EnvLink, From: self, To: remotePID},
				{Kind: actor.EnvUnlink, From: self, To: remotePID},
			}
		}},
		{"Monitor and Demonitor", func(p *actor.Process) (actor.Ref, error) {
			ref := p.Monitor(remotePID)
			p.Demonitor(ref)
			return ref, nil
		}, func(self actor.PID, ref actor.Ref) []actor.Envelope {
			return []actor.Envelope{
				{Kind: actor.EnvMonitor, From: self, To: remotePID, Ref: ref},
				{Kind: actor.EnvDemonitor, From: self, To: remotePID, Ref: ref},
			}
		}},
		{"Exit", func(p *actor.Process) (actor.Ref, error) {
			_ = p.Exit(remotePID, errBoom)
			return actor.Ref{}, nil
		}, func(self actor.PID, _ actor.Ref) []actor.Envelope {
			return []actor.Envelope{{Kind: actor.EnvExit, From: self, To: remotePID, Reason: errBoom}}
		}},
		{"linked process exits", func(p *actor.Process) (actor.Ref, error) {
			_ = p.Link(remotePID)
			return actor.Ref{}, errBoom
		}, func(self actor.PID, _ actor.Ref) []actor.Envelope {
			return []actor.Envelope{
				{Kind: actor.EnvLink, From: self, To: remotePID},
				{Kind: actor.EnvLinkExit, From: self, To: remotePID, Reason: errBoom},
			}
		}},
		{"monitored by a remote process, exits", func(p *actor.Process) (actor.Ref, error) {
			err := endpoint(p.Node()).Deliver(actor.Envelope{Kind: actor.EnvMonitor, From: remotePID, To: p.Self(), Ref: remoteRef})
			if err != nil {
				return actor.Ref{}, err
			}
			return actor.Ref{}, actor.Normal
		}, func(self actor.PID, _ actor.Ref) []actor.Envelope {
			return []actor.Envelope{{Kind: actor.EnvDown, From: self, To: remotePID, Ref: remoteRef, Reason: actor.Normal}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				r := installRemote(n)
				pr := spawnProbe(t, n)
				var ref actor.Ref
				pr.do(t, func(p *actor.Process) (err error) {
					ref, err = tc.act(p)
					return err
				})
				for _, want := range tc.want(pr.pid, ref) {
					if env := r.next(t); env != want {
						t.Fatalf("forwarded %+v, want %+v", env, want)
					}
				}
				synctest.Wait()
				r.quiet(t)
			})
		})
	}
}

func TestRemoteCall(t *testing.T) {
	tests := []struct {
		name    string
		cleared bool // the callee dropped the call's monitor itself
	}{
		{"callee clears its monitor", true},
		{"caller demonitors", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				r := installRemote(n)
				type result struct {
					v   any
					err error
				}
				res := make(chan result, 1)
				go func() {
					v, err := n.Call(context.Background(), remotePID, "req")
					res <- result{v, err}
				}()
				call := r.next(t)
				if call.Kind != actor.EnvCall || call.To != remotePID || call.Message != "req" ||
					call.Ref.Node != n.Name() || call.Ref.Creation != n.Creation() || call.From.Node != n.Name() {
					t.Fatalf("forwarded %+v, want an EnvCall to %v", call, remotePID)
				}
				err := endpoint(n).Deliver(actor.Envelope{Kind: actor.EnvReply, From: remotePID, Ref: call.Ref, Message: "resp", Cleared: tc.cleared})
				if err != nil {
					t.Fatalf("Deliver reply: %v", err)
				}
				if got := <-res; got.err != nil || got.v != "resp" {
					t.Fatalf("Call = %v, %v; want resp, nil", got.v, got.err)
				}
				if !tc.cleared {
					want := actor.Envelope{Kind: actor.EnvDemonitor, From: call.From, To: remotePID, Ref: call.Ref, Alias: false}
					if env := r.next(t); env.Kind != want.Kind || env.To != want.To || env.Ref != want.Ref {
						t.Fatalf("after the reply forwarded %+v, want %+v", env, want)
					}
				}
				// A second answer for the same call is dropped.
				if err := endpoint(n).Deliver(actor.Envelope{Kind: actor.EnvReply, From: remotePID, Ref: call.Ref, Message: "again"}); err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				r.quiet(t)

				// The callee's DOWN before a reply fails the call.
				go func() {
					v, err := n.Call(context.Background(), remotePID, "req")
					res <- result{v, err}
				}()
				call = r.next(t)
				if err := endpoint(n).Deliver(actor.Envelope{Kind: actor.EnvDown, Alias: true, From: remotePID, Ref: call.Ref, Reason: errBoom}); err != nil {
					t.Fatal(err)
				}
				var ee *actor.ExitError
				if got := <-res; !errors.As(got.err, &ee) || ee.PID != remotePID || ee.Reason != errBoom {
					t.Fatalf("Call = %v, %v; want ExitError{%v, boom}", got.v, got.err, remotePID)
				}
			})
		})
	}
}

func TestRemoteDeliver(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		r := installRemote(n)
		pr := spawnProbe(t, n, actor.WithName("svc"), actor.WithTrapExit())
		server, _ := spawnServer(t, n)
		dead := spawnProbe(t, n)
		w := watch(t, n, dead.pid)
		dead.async(t, func(*actor.Process) error { return actor.Normal })
		w.down(t)

		deliver := func(env actor.Envelope) {
			t.Helper()
			if err := endpoint(n).Deliver(env); err != nil {
				t.Fatalf("Deliver %+v: %v", env, err)
			}
		}
		// Messages, by PID and by name.
		deliver(actor.Envelope{Kind: actor.EnvMessage, From: remotePID, To: pr.pid, Message: "by pid"})
		deliver(actor.Envelope{Kind: actor.EnvMessage, From: remotePID, ToName: actor.Name{Node: n.Name(), Name: "svc"}, Message: "by name"})
		for _, want := range []string{"by pid", "by name"} {
			if m := pr.recv(t); m != want {
				t.Fatalf("got %#v, want %q", m, want)
			}
		}
		if err := endpoint(n).Deliver(actor.Envelope{Kind: actor.EnvMessage, To: dead.pid, Message: "x"}); !errors.Is(err, actor.ErrNoProc) {
			t.Fatalf("Deliver to a dead process = %v, want ErrNoProc", err)
		}
		if err := endpoint(n).Deliver(actor.Envelope{Kind: 200, To: pr.pid}); err == nil {
			t.Fatal("Deliver of an unknown kind succeeded")
		}

		// A call from the remote node is answered through the remote layer.
		deliver(actor.Envelope{Kind: actor.EnvCall, From: remotePID, To: server, Ref: remoteRef, Message: "ping"})
		want := actor.Envelope{Kind: actor.EnvReply, From: server, Ref: remoteRef, Message: "ping", Cleared: true}
		if env := r.next(t); env != want {
			t.Fatalf("reply forwarded as %+v, want %+v", env, want)
		}

		// Exit signals and DOWNs from the remote node.
		ref := actor.Ref{}
		pr.do(t, func(p *actor.Process) error {
			ref = p.Monitor(remotePID)
			return p.Link(remotePID2)
		})
		for range 2 {
			r.next(t) // EnvMonitor, EnvLink
		}
		deliver(actor.Envelope{Kind: actor.EnvDown, From: remotePID, To: pr.pid, Ref: ref, Reason: errBoom})
		deliver(actor.Envelope{Kind: actor.EnvLinkExit, From: remotePID2, To: pr.pid, Reason: errBoom})
		deliver(actor.Envelope{Kind: actor.EnvExit, From: remotePID, To: pr.pid, Reason: actor.Shutdown})
		for _, want := range []any{
			actor.DownMessage{Ref: ref, PID: remotePID, Reason: errBoom},
			actor.ExitMessage{From: remotePID2, Reason: errBoom},
			actor.ExitMessage{From: remotePID, Reason: actor.Shutdown},
		} {
			if m := pr.recv(t); m != want {
				t.Fatalf("got %#v, want %#v", m, want)
			}
		}

		// A link and a monitor from the remote node fire when the process exits.
		deliver(actor.Envelope{Kind: actor.EnvLink, From: remotePID, To: pr.pid})
		deliver(actor.Envelope{Kind: actor.EnvMonitor, From: remotePID2, To: pr.pid, Ref: remoteRef})
		synctest.Wait()
		if info, _ := n.Info(pr.pid); len(info.Links) != 1 || info.Links[0] != remotePID || len(info.MonitoredBy) != 1 {
			t.Fatalf("links %v, monitored by %v", info.Links, info.MonitoredBy)
		}
		pr.async(t, func(*actor.Process) error { return errBoom })
		got := map[actor.EnvelopeKind]actor.Envelope{}
		for range 2 {
			env := r.next(t)
			got[env.Kind] = env
		}
		if env := got[actor.EnvLinkExit]; env != (actor.Envelope{Kind: actor.EnvLinkExit, From: pr.pid, To: remotePID, Reason: errBoom}) {
			t.Errorf("link exit forwarded as %+v", env)
		}
		if env := got[actor.EnvDown]; env != (actor.Envelope{Kind: actor.EnvDown, From: pr.pid, To: remotePID2, Ref: remoteRef, Reason: errBoom}) {
			t.Errorf("DOWN forwarded as %+v", env)
		}

		// A link, monitor or call from the remote node to a missing process is
		// answered with noproc.
		deliver(actor.Envelope{Kind: actor.EnvLink, From: remotePID, To: dead.pid})
		deliver(actor.Envelope{Kind: actor.EnvMonitor, From: remotePID, To: dead.pid, Ref: remoteRef})
		deliver(actor.Envelope{Kind: actor.EnvCall, From: remotePID, To: dead.pid, Ref: remoteRef, Message: "x"})
		for _, want := range []actor.Envelope{
			{Kind: actor.EnvLinkExit, From: dead.pid, To: remotePID, Reason: actor.ErrNoProc},
			{Kind: actor.EnvDown, From: dead.pid, To: remotePID, Ref: remoteRef, Reason: actor.ErrNoProc},
			{Kind: actor.EnvDown, From: dead.pid, Ref: remoteRef, Reason: actor.ErrNoProc, Alias: true},
		} {
			if env := r.next(t); env != want {
				t.Errorf("forwarded %+v, want %+v", env, want)
			}
		}
		synctest.Wait()
		r.quiet(t)
	})
}

func TestNodeDown(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		r := installRemote(n)
		trapper := spawnProbe(t, n, actor.WithTrapExit())
		plain := spawnProbe(t, n)
		wPlain := watch(t, n, plain.pid)
		nodeWatcher, undone := spawnProbe(t, n), spawnProbe(t, n)
		monitoredByRemote := spawnProbe(t, n)

		var refB actor.Ref
		trapper.do(t, func(p *actor.Process) error {
			refB = p.Monitor(remotePID)
			p.Monitor(otherPID)
			if err := p.Link(otherPID); err != nil {
				return err
			}
			return p.Link(remotePID)
		})
		plain.do(t, func(p *actor.Process) error { return p.Link(remotePID2) })
		nodeWatcher.do(t, func(p *actor.Process) error { p.MonitorNode("b@test"); p.MonitorNode("c@test"); return nil })
		undone.do(t, func(p *actor.Process) error {
			p.MonitorNode("b@test")
			p.MonitorNode("b@test")
			p.DemonitorNode("b@test")
			p.DemonitorNode("b@test")
			return nil
		})
		if err := endpoint(n).Deliver(actor.Envelope{Kind: actor.EnvMonitor, From: remotePID, To: monitoredByRemote.pid, Ref: remoteRef}); err != nil {
			t.Fatal(err)
		}
		// Pending calls: one to the lost node, one to another.
		lost, kept := make(chan error, 1), make(chan error, 1)
		keptCtx, cancelKept := context.WithCancel(context.Background())
		go func() { _, err := n.Call(context.Background(), remotePID, "x"); lost <- err }()
		go func() { _, err := n.Call(keptCtx, otherPID, "x"); kept <- err }()
		synctest.Wait()
		for len(r.envs) > 0 {
			<-r.envs // the links, monitors and calls just made
		}

		endpoint(n).NodeDown("b@test", nil)

		wantDown := actor.DownMessage{Ref: refB, PID: remotePID, Reason: actor.ErrNoConnection}
		wantExit := actor.ExitMessage{From: remotePID, Reason: actor.ErrNoConnection}
		if a, b := trapper.recv(t), trapper.recv(t); !(a == wantDown && b == wantExit || a == wantExit && b == wantDown) {
			t.Errorf("trapping process with a link and a monitor to the lost node got %#v and %#v, want %#v and %#v", a, b, wantDown, wantExit)
		}
		if reason := wPlain.down(t); !errors.Is(reason, actor.ErrNoConnection) {
			t.Errorf("non-trapping linked process exited with %v, want noconnection", reason)
		}
		if m := recvAs[actor.NodeDownMessage](t, nodeWatcher); m != (actor.NodeDownMessage{Node: "b@test"}) {
			t.Errorf("node monitor got %+v", m)
		}
		if err := <-lost; !errors.Is(err, actor.ErrNoConnection) {
			t.Errorf("pending call to the lost node = %v, want ErrNoConnection", err)
		}
		synctest.Wait()
		select {
		case err := <-kept:
			t.Fatalf("call to another node ended with %v", err)
		default:
		}
		cancelKept()
		<-kept
		for _, pr := range []*probe{trapper, nodeWatcher, undone} {
			pr.quiet(t)
		}
		info, _ := n.Info(trapper.pid)
		if len(info.Links) != 1 || info.Links[0] != otherPID || len(info.Monitors) != 1 || info.Monitors[0] != otherPID {
			t.Errorf("trapper links %v, monitors %v; want only those to c@test", info.Links, info.Monitors)
		}
		// Giving up the call to c@test told the callee so.
		if env := r.next(t); env.Kind != actor.EnvDemonitor || env.To != otherPID {
			t.Fatalf("after the cancelled call forwarded %+v, want its EnvDemonitor", env)
		}
		// The monitor from the lost node is gone: an exit sends it no DOWN.
		w := watch(t, n, monitoredByRemote.pid)
		monitoredByRemote.async(t, func(*actor.Process) error { return errBoom })
		w.down(t)
		synctest.Wait()
		r.quiet(t)
	})
}
