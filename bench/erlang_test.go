package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/erlang/dist"
	"github.com/gotp-dev/gotp/erlang/etf"
)

// Erlang: a gotp node and two Erlang VMs (erl -name, separate OS
// processes) on loopback, all through a port mapper of gotp's own. Skipped,
// saying so, where erl is missing.
//
// ErlangSend: one sender sends b.N binaries (64 B or 1 KiB) to a receiver
// that counts them; an op ends when the receiver has counted all. Pairs:
// Erlang→Erlang (e1 to e2, the baseline), Erlang→gotp (e1 to a gotp
// process) and gotp→Erlang (a gotp process to e2). Reports msgs/s.
//
// ErlangCall: b.N sequential gen_server calls, each timed by the caller:
// Erlang→Erlang (e1 calls e2's net_kernel, a real gen_server, with is_auth),
// Erlang→gotp (e1 calls a gotp echo server) and gotp→Erlang (gotp's
// Node.Call to e2's net_kernel). Reports p50-ns and p99-ns.

// erlDriver is the script each VM runs: a registered driver that sends or
// calls on command, and a registered sink that counts what it gets.
const erlDriver = `
	Sink = fun S(Count, Target, ReplyTo) ->
		receive
			{expect, N, R} -> self() ! check, S(Count, N, R);
			check when Target > 0, Count >= Target -> ReplyTo ! done, S(Count - Target, 0, none);
			check -> S(Count, Target, ReplyTo);
			_ when Target > 0, Count + 1 >= Target -> ReplyTo ! done, S(Count + 1 - Target, 0, none);
			_ -> S(Count + 1, Target, ReplyTo)
		end
	end,
	register(sink, spawn(fun() -> Sink(0, 0, none) end)),
	Driver = fun D() ->
		receive
			{send, To, N, Payload} -> [To ! Payload || _ <- lists:seq(1, N)], D();
			{calls, To, N, Req, ReplyTo} ->
				Lat = [begin T0 = erlang:monotonic_time(nanosecond), gen_server:call(To, Req),
					erlang:monotonic_time(nanosecond) - T0 end || _ <- lists:seq(1, N)],
				S = lists:sort(Lat),
				ReplyTo ! {latency, lists:nth(max(1, N div 2), S), lists:nth(max(1, (N * 99) div 100), S)},
				D()
		end
	end,
	register(driver, spawn(Driver)),
	io:format("ready~n"),
	receive stop -> ok end`

// erlBench is the gotp node and the two VMs.
type erlBench struct {
	node   *actor.Node
	d      *dist.Dist
	e1, e2 string
	inbox  actor.PID
	got    chan any
	stop   func()
}

func startErlBench(tb testing.TB) *erlBench {
	tb.Helper()
	erl, err := exec.LookPath("erl")
	if err != nil {
		tb.Skip("erl not found: the Erlang benchmarks need a real VM (Debian's erlang-base)")
	}
	// Long names on the loopback address: nothing depends on the machine's
	// host name resolving.
	host := "127.0.0.1"
	epmd, err := dist.ListenEPMD("127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var cmds []*exec.Cmd
	for _, name := range []string{"bench1", "bench2"} {
		cmd := exec.Command(erl, "-name", name+"@"+host, "-setcookie", remoteCookie, "-noshell", "-noinput", "-eval", erlDriver)
		cmd.Env = append(os.Environ(), fmt.Sprintf("ERL_EPMD_PORT=%d", epmd.Port()))
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		if !sc.Scan() || sc.Text() != "ready" {
			tb.Fatalf("erl %s: %q", name, sc.Text())
		}
		go func() {
			for sc.Scan() {
			}
		}()
		cmds = append(cmds, cmd)
	}
	node, err := actor.NewNode(actor.Config{Name: "gobench@" + host})
	if err != nil {
		tb.Fatal(err)
	}
	d, err := dist.Start(node, dist.Config{Cookie: remoteCookie, EPMDPort: epmd.Port()})
	if err != nil {
		tb.Fatal(err)
	}
	eb := &erlBench{node: node, d: d, e1: "bench1@" + host, e2: "bench2@" + host, got: make(chan any, 16)}
	eb.inbox, _ = node.Spawn(actor.Func(func(p *actor.Process, msg any) error { eb.got <- msg; return nil }))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, e := range []string{eb.e1, eb.e2} {
		if err := d.Connect(ctx, e); err != nil {
			tb.Fatal(err)
		}
	}
	// The VMs connect to each other (and the path is warm) before timing.
	_ = node.Send(actor.Name{Node: eb.e1, Name: "driver"}, etf.Tuple{etf.Atom("calls"),
		etf.Tuple{etf.Atom("net_kernel"), etf.Atom(eb.e2)}, int64(1), etf.Tuple{etf.Atom("is_auth"), etf.Atom(eb.e1)}, eb.inbox})
	<-eb.got
	eb.stop = func() {
		d.Stop()
		_ = node.Stop(context.Background())
		for _, cmd := range cmds {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		epmd.Close()
	}
	return eb
}

func (eb *erlBench) wait(tb testing.TB) any {
	select {
	case m := <-eb.got:
		return m
	case <-time.After(5 * time.Minute):
		tb.Fatal("no answer from the VMs for 5 minutes")
		return nil
	}
}

func BenchmarkErlangSend(b *testing.B) {
	for _, size := range []int{64, 1024} {
		payload := make([]byte, size)
		for _, pair := range []string{"erlang_to_erlang", "erlang_to_gotp", "gotp_to_erlang"} {
			b.Run(fmt.Sprintf("%s/payload=%d", pair, size), func(b *testing.B) {
				eb := startErlBench(b)
				defer eb.stop()
				count := make(chan struct{}, 1)
				var want, seen int
				sink, _ := eb.node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
					if seen++; seen == want {
						count <- struct{}{}
					}
					return nil
				}))
				var sender actor.PID
				if pair == "gotp_to_erlang" {
					to := actor.Name{Node: eb.e2, Name: "sink"}
					sender, _ = eb.node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
						for range msg.(int) {
							for p.Send(to, payload) != nil {
							}
						}
						return nil
					}))
				}
				b.ResetTimer()
				switch pair {
				case "erlang_to_erlang":
					_ = eb.node.Send(actor.Name{Node: eb.e2, Name: "sink"}, etf.Tuple{etf.Atom("expect"), int64(b.N), eb.inbox})
					_ = eb.node.Send(actor.Name{Node: eb.e1, Name: "driver"}, etf.Tuple{etf.Atom("send"), etf.Tuple{etf.Atom("sink"), etf.Atom(eb.e2)}, int64(b.N), payload})
					eb.wait(b)
				case "erlang_to_gotp":
					want, seen = b.N, 0
					_ = eb.node.Send(actor.Name{Node: eb.e1, Name: "driver"}, etf.Tuple{etf.Atom("send"), sink, int64(b.N), payload})
					<-count
				case "gotp_to_erlang":
					_ = eb.node.Send(actor.Name{Node: eb.e2, Name: "sink"}, etf.Tuple{etf.Atom("expect"), int64(b.N), eb.inbox})
					_ = eb.node.Send(sender, b.N)
					eb.wait(b)
				}
				b.StopTimer()
				b.ReportMetric(perSecond(b, b.N), "msgs/s")
			})
		}
	}
}

type benchEcho struct{}

func (benchEcho) HandleCall(p *actor.Process, from actor.From, req any) (any, error) { return req, nil }

func BenchmarkErlangCall(b *testing.B) {
	for _, pair := range []string{"erlang_to_erlang", "erlang_to_gotp", "gotp_to_erlang"} {
		b.Run(pair, func(b *testing.B) {
			eb := startErlBench(b)
			defer eb.stop()
			_, _ = eb.node.Spawn(actor.Server(benchEcho{}), actor.WithName("echo"))
			isAuth := etf.Tuple{etf.Atom("is_auth"), etf.Atom(eb.e1)}
			var p50, p99 int64
			b.ResetTimer()
			switch pair {
			case "erlang_to_erlang", "erlang_to_gotp":
				to := etf.Tuple{etf.Atom("net_kernel"), etf.Atom(eb.e2)}
				var req any = isAuth
				if pair == "erlang_to_gotp" {
					to, req = etf.Tuple{etf.Atom("echo"), etf.Atom(eb.node.Name())}, isAuth
				}
				_ = eb.node.Send(actor.Name{Node: eb.e1, Name: "driver"}, etf.Tuple{etf.Atom("calls"), to, int64(b.N), req, eb.inbox})
				m := eb.wait(b).(etf.Tuple)
				p50, p99 = m[1].(int64), m[2].(int64)
			case "gotp_to_erlang":
				durs := make([]time.Duration, b.N)
				to := actor.Name{Node: eb.e2, Name: "net_kernel"}
				for i := range b.N {
					t0 := time.Now()
					if _, err := eb.node.Call(context.Background(), to, isAuth); err != nil {
						b.Fatal(err)
					}
					durs[i] = time.Since(t0)
				}
				d50, d99 := percentiles(durs)
				p50, p99 = d50.Nanoseconds(), d99.Nanoseconds()
			}
			b.StopTimer()
			b.ReportMetric(float64(p50), "p50-ns")
			b.ReportMetric(float64(p99), "p99-ns")
		})
	}
}

func TestErlangBenchSmoke(t *testing.T) {
	eb := startErlBench(t)
	defer eb.stop()
	if !eb.d.IsConnected(eb.e1) || !eb.d.IsConnected(eb.e2) {
		t.Fatal("not connected to both VMs")
	}
}
