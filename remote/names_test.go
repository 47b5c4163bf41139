package remote_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
)

// Names across the wire: monitor, link, whereis and gen_server:stop by
// {Name, Node}, and errors that name the destination.
func TestNamesAcrossNodes(t *testing.T) {
	onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
		a, b := mk("a", remote.Config{}), mk("b", remote.Config{})
		connect(t, a, b)
		got := make(chan any, 16)
		server, err := b.Spawn(actor.Server(&echo{got: got}), actor.WithName("svc"), actor.WithTrapExit())
		if err != nil {
			t.Fatal(err)
		}
		svc := actor.Name{Node: "b", Name: "svc"}
		if pid, err := a.Resolve(ctxT(t), svc); err != nil || pid != server {
			t.Fatalf("Resolve = %v, %v; want %v", pid, err, server)
		}
		nope := actor.Name{Node: "b", Name: "nope"}
		if _, err := a.Resolve(ctxT(t), nope); !errors.Is(err, actor.ErrNotRegistered) {
			t.Fatalf("Resolve of a free name: %v", err)
		}
		_, err = a.Call(ctxT(t), nope, "x")
		if !errors.Is(err, actor.ErrNotRegistered) || !errors.Is(err, actor.ErrNoProc) || !strings.Contains(err.Error(), "{nope,b}") {
			t.Fatalf("call to a free remote name: %v", err)
		}

		w := spawnProbe(t, a, actor.WithTrapExit())
		var ref, freeRef actor.Ref
		w.do(t, a, func(p *actor.Process) {
			ref = p.Monitor(svc)
			_ = p.Link(svc)
			freeRef = p.Monitor(nope)
		})
		if d, ok := w.recv(t).(actor.DownMessage); !ok || d.Ref != freeRef || !errors.Is(d.Reason, actor.ErrNotRegistered) || d.Name != nope {
			t.Fatalf("DOWN for a free name: %#v", d)
		}
		// The link reached the holder: the holder, trapping, hears of w's exit.
		// Then stop the holder remotely, as gen_server:stop.
		if err := a.StopProcess(ctxT(t), svc, actor.Shutdown); err != nil {
			t.Fatalf("StopProcess: %v", err)
		}
		var sawDown, sawExit bool
		for !sawDown || !sawExit {
			switch m := w.recv(t).(type) {
			case actor.DownMessage:
				if m.Ref != ref || m.PID != server || m.Name != svc || !errors.Is(m.Reason, actor.Shutdown) {
					t.Fatalf("DOWN %+v", m)
				}
				sawDown = true
			case actor.ExitMessage:
				if m.From != server || !errors.Is(m.Reason, actor.Shutdown) {
					t.Fatalf("exit %+v", m)
				}
				sawExit = true
			default:
				t.Fatalf("probe got %#v", m)
			}
		}
		if err := a.StopProcess(ctxT(t), svc, actor.Shutdown); !errors.Is(err, actor.ErrNoProc) {
			t.Fatalf("StopProcess of a gone name: %v", err)
		}
	})
}
