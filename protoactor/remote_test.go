package protoactor_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
	paremote "github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/protoactor"
	"github.com/gotp-dev/gotp/protoactor/bridgepb"
)

// The test binary is also the "legacy" Proto.Actor service of the
// cross-process tests: run with GOTP_PA_LEGACY set, it serves until its
// stdin closes.
func TestMain(m *testing.M) {
	if os.Getenv("GOTP_PA_LEGACY") != "" {
		legacyService(os.Getenv("GOTP_PA_PARENT"))
		return
	}
	os.Exit(m.Run())
}

// legacyService is an unchanged Proto.Actor service: it knows nothing of
// gotp, only Proto.Actor PIDs and protobuf messages.
func legacyService(parent string) {
	sys := pa.NewActorSystem(quiet)
	r := paremote.NewRemote(sys, paremote.Configure("127.0.0.1", 0))
	r.Start()
	// quotes answers an item's name with its price.
	_, _ = sys.Root.SpawnNamed(pa.PropsFromFunc(func(ctx pa.Context) {
		if q, ok := ctx.Message().(*wrapperspb.StringValue); ok {
			ctx.Respond(wrapperspb.Int64(int64(100 * len(q.Value))))
		}
	}), "quotes")
	// crasher panics on "crash" and is restarted by its supervisor; it
	// answers anything else with "alive".
	_, _ = sys.Root.SpawnNamed(pa.PropsFromFunc(func(ctx pa.Context) {
		if q, ok := ctx.Message().(*wrapperspb.StringValue); ok {
			if q.Value == "crash" {
				panic("crash requested")
			}
			ctx.Respond(wrapperspb.String("alive"))
		}
	}), "crasher")
	// caller asks the parent's actor named in the request ("name" or
	// "name:item") for the price of the item (tea unless named), and answers
	// with what it got.
	_, _ = sys.Root.SpawnNamed(pa.PropsFromFunc(func(ctx pa.Context) {
		if q, ok := ctx.Message().(*wrapperspb.StringValue); ok {
			name, item, found := strings.Cut(q.Value, ":")
			if !found {
				item = "tea"
			}
			v, err := ctx.RequestFuture(pa.NewPID(parent, name), wrapperspb.String(item), 5*time.Second).Result()
			if err != nil {
				v = wrapperspb.String("error: " + err.Error())
			}
			ctx.Respond(v)
		}
	}), "caller")
	// watcher watches the parent's actor named in the message and reports
	// its termination to the parent's "reports" actor.
	reports := pa.NewPID(parent, "reports")
	_, _ = sys.Root.SpawnNamed(pa.PropsFromFunc(func(ctx pa.Context) {
		switch m := ctx.Message().(type) {
		case *wrapperspb.StringValue:
			target := pa.NewPID(parent, m.Value)
			ctx.Watch(target)
			// The watch and a request after it travel in order on one
			// connection: once the request is answered, the watch is in
			// place on the other side.
			_, _ = ctx.RequestFuture(target, wrapperspb.String("tea"), 5*time.Second).Result()
			ctx.Respond(wrapperspb.String("watching"))
		case *pa.Terminated:
			ctx.Send(reports, wrapperspb.String("terminated "+m.Who.Id))
		}
	}), "watcher")
	fmt.Println("ADDR", sys.Address())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent goes
	r.Shutdown(false)
	sys.Shutdown()
}

// legacy is the legacy service's process, as the parent sees it.
type legacy struct {
	addr string
	cmd  *exec.Cmd
}

func startLegacy(t testing.TB, parent string) *legacy {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^$")
	cmd.Env = append(os.Environ(), "GOTP_PA_LEGACY=1", "GOTP_PA_PARENT="+parent)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "ADDR ")
	if err != nil || !ok {
		t.Fatalf("the legacy service did not start: %q, %v", line, err)
	}
	return &legacy{addr: addr, cmd: cmd}
}

// teaPrices is the gotp service the legacy one calls: it prices tea.
type teaPrices struct{}

func (teaPrices) HandleCall(_ *actor.Process, _ actor.From, req any) (any, error) {
	if q, ok := req.(*wrapperspb.StringValue); ok && q.Value == "tea" {
		return wrapperspb.Int64(250), nil
	}
	return fmt.Errorf("no price for %v", req), nil
}

// A gotp node with a Proto.Actor system whose remote is on, and an unchanged
// Proto.Actor service in another OS process: each side sends to, calls and
// watches the other; a crash under the service's own supervisor is no
// termination; the lost process is noconnection.
func TestAcrossOSProcesses(t *testing.T) {
	node, err := actor.NewNode(actor.Config{Name: "gotp@local"})
	if err != nil {
		t.Fatal(err)
	}
	sys := pa.NewActorSystem(quiet)
	r := paremote.NewRemote(sys, paremote.Configure("127.0.0.1", 0))
	r.Start()
	t.Cleanup(func() { _ = node.Stop(context.Background()); r.Shutdown(false); sys.Shutdown() })
	b := protoactor.New(node, sys)
	reports := make(chan any, 8)
	if _, err := sys.Root.SpawnNamed(pa.PropsFromFunc(func(ctx pa.Context) {
		if m, ok := ctx.Message().(*wrapperspb.StringValue); ok {
			reports <- m.Value
		}
	}), "reports"); err != nil {
		t.Fatal(err)
	}
	svc := startLegacy(t, sys.Address())
	ctx := context.Background()

	t.Run("gotp calls the legacy service", func(t *testing.T) {
		quotes, err := b.GotpPID(pa.NewPID(svc.addr, "quotes"))
		if err != nil {
			t.Fatal(err)
		}
		v, err := node.Call(ctx, quotes, wrapperspb.String("tea"))
		if err != nil || v.(*wrapperspb.Int64Value).GetValue() != 300 {
			t.Fatalf("call: %v, %v", v, err)
		}
		if _, err := node.Call(ctx, quotes, ping{N: 1}); !errors.Is(err, protoactor.ErrNotProto) {
			t.Fatalf("call with a Go struct: %v, want ErrNotProto", err)
		}
		before := b.Dropped()
		if err := node.Send(quotes, ping{N: 2}); err != nil {
			t.Fatal(err)
		}
		// The proxy handles in order: once a call after it returns, the
		// send was dropped and counted.
		if _, err := node.Call(ctx, quotes, wrapperspb.String("x")); err != nil {
			t.Fatal(err)
		}
		if b.Dropped() != before+1 {
			t.Fatalf("dropped %d, want %d", b.Dropped(), before+1)
		}
	})

	t.Run("the legacy service calls gotp", func(t *testing.T) {
		if _, err := node.Spawn(actor.Server(teaPrices{}), actor.WithName("pricing")); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Expose("pricing", actor.Name{Name: "pricing"}); err != nil {
			t.Fatal(err)
		}
		caller := pa.NewPID(svc.addr, "caller")
		v, err := sys.Root.RequestFuture(caller, wrapperspb.String("pricing"), 10*time.Second).Result()
		if err != nil || v.(*wrapperspb.Int64Value).GetValue() != 250 {
			t.Fatalf("legacy caller got %v, %v", v, err)
		}
	})

	t.Run("an error goes back as a bridge error", func(t *testing.T) {
		caller := pa.NewPID(svc.addr, "caller")
		v, err := sys.Root.RequestFuture(caller, wrapperspb.String("pricing:coffee"), 10*time.Second).Result()
		e, ok := v.(*bridgepb.Error)
		if err != nil || !ok || e.GetKind() != "other" || !strings.Contains(e.GetMessage(), "no price for") {
			t.Fatalf("legacy caller got %v, %v; want the server's error", v, err)
		}
	})

	t.Run("a legacy Watch of a gotp process", func(t *testing.T) {
		if _, err := node.Spawn(actor.Server(teaPrices{}), actor.WithName("short")); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Expose("short", actor.Name{Name: "short"}); err != nil {
			t.Fatal(err)
		}
		if v, err := sys.Root.RequestFuture(pa.NewPID(svc.addr, "watcher"), wrapperspb.String("short"), 10*time.Second).Result(); err != nil {
			t.Fatalf("watch: %v, %v", v, err)
		}
		if err := node.StopProcess(ctx, actor.Name{Name: "short"}, actor.Shutdown); err != nil {
			t.Fatal(err)
		}
		if m := recv[string](t, reports); m != "terminated short" {
			t.Fatalf("report %q", m)
		}
	})

	t.Run("a crash under the legacy supervisor is no termination", func(t *testing.T) {
		crasher, err := b.GotpPID(pa.NewPID(svc.addr, "crasher"))
		if err != nil {
			t.Fatal(err)
		}
		downs := monitor(t, node, crasher)
		if err := node.Send(crasher, wrapperspb.String("crash")); err != nil {
			t.Fatal(err)
		}
		v, err := node.Call(ctx, crasher, wrapperspb.String("still there?"))
		if err != nil || v.(*wrapperspb.StringValue).GetValue() != "alive" {
			t.Fatalf("after the crash: %v, %v", v, err)
		}
		select {
		case d := <-downs:
			t.Fatalf("a restart fired %v", d)
		default:
		}
	})

	t.Run("the legacy process dies: noconnection", func(t *testing.T) {
		quotes, err := b.GotpPID(pa.NewPID(svc.addr, "quotes"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := node.Call(ctx, quotes, wrapperspb.String("a")); err != nil {
			t.Fatal(err)
		}
		downs := monitor(t, node, quotes)
		_ = svc.cmd.Process.Kill()
		if d := recv[actor.DownMessage](t, downs); !errors.Is(d.Reason, actor.ErrNoConnection) {
			t.Fatalf("DOWN %v, want noconnection", d.Reason)
		}
	})
}
