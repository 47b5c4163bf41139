package actor_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/actor"
)

func TestRegister(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		pr := spawnProbe(t, n)
		if err := n.Register("svc", pr.pid); err != nil {
			t.Fatalf("Register: %v", err)
		}
		if pid, ok := n.WhereIs("svc"); !ok || pid != pr.pid {
			t.Fatalf("WhereIs = %v, %v; want %v", pid, ok, pr.pid)
		}
		if info, _ := n.Info(pr.pid); info.Name != "svc" {
			t.Fatalf("Info.Name = %q", info.Name)
		}
		pr.do(t, func(p *actor.Process) error {
			if p.Name() != "svc" {
				t.Errorf("Process.Name = %q", p.Name())
			}
			return nil
		})
		for _, to := range []actor.Name{{Name: "svc"}, {Node: n.Name(), Name: "svc"}} {
			if err := n.Send(to, to.String()); err != nil {
				t.Fatalf("SendName(%v): %v", to, err)
			}
			if m := pr.recv(t); m != to.String() {
				t.Fatalf("got %#v", m)
			}
		}
		if !n.Unregister("svc") {
			t.Fatal("Unregister of a registered name returned false")
		}
		if n.Unregister("svc") {
			t.Fatal("second Unregister returned true")
		}
		if _, ok := n.WhereIs("svc"); ok {
			t.Fatal("name still registered after Unregister")
		}
		if err := n.Send(actor.Name{Name: "svc"}, "x"); !errors.Is(err, actor.ErrNotRegistered) {
			t.Fatalf("SendName after Unregister = %v, want ErrNotRegistered", err)
		}
		// The process can take a name again.
		pr.do(t, func(p *actor.Process) error { return p.Register("svc2") })
		if pid, _ := n.WhereIs("svc2"); pid != pr.pid {
			t.Fatalf("Process.Register did not register: %v", pid)
		}
	})
}

func TestRegisterErrors(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		a := spawnProbe(t, n, actor.WithName("a"))
		b := spawnProbe(t, n)
		dead := spawnProbe(t, n)
		w := watch(t, n, dead.pid)
		dead.do(t, func(*actor.Process) error { return actor.Normal })
		w.down(t)
		tests := []struct {
			name string
			reg  string
			pid  actor.PID
			want error
		}{
			{"taken", "a", b.pid, actor.ErrNameTaken},
			{"already named", "other", a.pid, actor.ErrAlreadyNamed},
			{"dead process", "other", dead.pid, actor.ErrNoProc},
			{"same name again", "a", a.pid, actor.ErrAlreadyNamed},
		}
		for _, tc := range tests {
			if err := n.Register(tc.reg, tc.pid); !errors.Is(err, tc.want) {
				t.Errorf("%s: Register = %v, want %v", tc.name, err, tc.want)
			}
		}
		if err := n.Register("", b.pid); err == nil {
			t.Error("Register of an empty name succeeded")
		}
		if pid, _ := n.WhereIs("a"); pid != a.pid {
			t.Errorf("a failed Register moved the name to %v", pid)
		}
		if _, ok := n.WhereIs("other"); ok {
			t.Error("a failed Register left the name registered")
		}
		before := n.Processes()
		if _, err := n.Spawn(&probe{}, actor.WithName("a")); !errors.Is(err, actor.ErrNameTaken) {
			t.Errorf("Spawn WithName of a taken name = %v, want ErrNameTaken", err)
		}
		if after := n.Processes(); !slices.Equal(before, after) {
			t.Errorf("failed Spawn changed Processes from %v to %v", before, after)
		}
	})
}

func TestNameFreedOnExit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The logger holds the exiting process at its last step (logging the
		// abnormal exit) so that the test looks at the name while the process
		// is still finishing: the name must be free before the DOWN goes out.
		gate := make(chan struct{})
		n := newNode(t, actor.Config{Name: "a@test", Logger: slog.New(gateHandler{gate})})
		first := spawnProbe(t, n, actor.WithName("svc"))
		w := watch(t, n, first.pid)
		first.async(t, func(*actor.Process) error { return errBoom })
		w.down(t)
		if _, ok := n.WhereIs("svc"); ok {
			t.Fatal("name still registered after the DOWN")
		}
		second := spawnProbe(t, n, actor.WithName("svc"))
		if pid, _ := n.WhereIs("svc"); pid != second.pid {
			t.Fatalf("WhereIs = %v, want the new process %v", pid, second.pid)
		}
		close(gate)
	})
}

// gateHandler is a slog handler that blocks every record until gate is closed.
type gateHandler struct{ gate chan struct{} }

func (h gateHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (h gateHandler) Handle(context.Context, slog.Record) error { <-h.gate; return nil }
func (h gateHandler) WithAttrs([]slog.Attr) slog.Handler        { return h }
func (h gateHandler) WithGroup(string) slog.Handler             { return h }

func TestSendNameUnknown(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		to := actor.Name{Name: "nobody"}
		if err := n.Send(to, "x"); !errors.Is(err, actor.ErrNotRegistered) {
			t.Errorf("Node.SendName = %v, want ErrNotRegistered", err)
		}
		if err := n.Cast(to, "x"); !errors.Is(err, actor.ErrNotRegistered) {
			t.Errorf("Node.CastName = %v, want ErrNotRegistered", err)
		}
		spawnProbe(t, n).do(t, func(p *actor.Process) error {
			if err := p.Send(to, "x"); !errors.Is(err, actor.ErrNotRegistered) {
				t.Errorf("Process.SendName = %v, want ErrNotRegistered", err)
			}
			if err := p.Cast(to, "x"); !errors.Is(err, actor.ErrNotRegistered) {
				t.Errorf("Process.CastName = %v, want ErrNotRegistered", err)
			}
			return nil
		})
	})
}
