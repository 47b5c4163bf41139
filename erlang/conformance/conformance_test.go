package conformance_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/internal/erltest"
)

// erlangScenarios runs in one VM and prints a line per scenario: its name,
// '|', and its events joined by ';'.
const erlangScenarios = `
	F = fun(Tag, Events) -> io:format("~s|~s~n", [Tag, lists:join(";", Events)]) end,
	R = fun(X) -> lists:flatten(io_lib:format("~p", [X])) end,
	Self = self(),

	B1 = spawn(fun() -> receive go -> ok end, Self ! m1, Self ! m2, Self ! m3 end),
	M1 = erlang:monitor(process, B1),
	B1 ! go,
	F("order_before_down", [receive {'DOWN', M1, process, B1, R1} -> "down " ++ R(R1); X -> "msg " ++ R(X) end || _ <- [1, 2, 3, 4]]),

	process_flag(trap_exit, true),
	P2 = spawn_link(fun() -> exit(boom) end),
	F("trapped_link_exit", [receive {'EXIT', P2, R2} -> "exit " ++ R(R2) end]),

	P3 = spawn(fun() -> receive _ -> ok end end),
	M3 = erlang:monitor(process, P3),
	link(P3),
	exit(P3, kill),
	F("kill_is_killed", lists:sort([receive {'DOWN', M3, process, P3, R3} -> "down " ++ R(R3) end,
		receive {'EXIT', P3, R3b} -> "exit " ++ R(R3b) end])),

	P4 = spawn(fun() -> receive go -> exit(kill) end end),
	M4 = erlang:monitor(process, P4),
	link(P4),
	P4 ! go,
	F("exit_with_reason_kill", lists:sort([receive {'DOWN', M4, process, P4, R4} -> "down " ++ R(R4) end,
		receive {'EXIT', P4, R4b} -> "exit " ++ R(R4b) end])),

	W5 = spawn(fun() ->
		C = spawn_link(fun() -> receive go -> ok end end),
		Self ! {child, C},
		receive {ping, From} -> From ! pong end
	end),
	C5 = receive {child, C} -> C end,
	MC5 = erlang:monitor(process, C5),
	C5 ! go,
	receive {'DOWN', MC5, _, _, _} -> ok end,
	MW5 = erlang:monitor(process, W5),
	W5 ! {ping, Self},
	F("normal_exit_spares_links", [receive pong -> "alive"; {'DOWN', MW5, _, _, R5} -> "dead " ++ R(R5) end]),
	erlang:demonitor(MW5, [flush]),

	P6 = spawn(fun() -> receive {ping, From} -> From ! pong end end),
	exit(P6, normal),
	P6 ! {ping, Self},
	E6a = receive pong -> "untrapped alive" end,
	P6b = spawn(fun() -> process_flag(trap_exit, true), Self ! ready, receive {'EXIT', From, Rr} -> Self ! {got, From, Rr} end end),
	receive ready -> ok end,
	exit(P6b, normal),
	E6b = receive {got, Self, R6} -> "trapped exit " ++ R(R6) end,
	F("exit_signal_normal", [E6a, E6b]),

	P7 = spawn(fun() -> ok end),
	M7a = erlang:monitor(process, P7),
	receive {'DOWN', M7a, _, _, _} -> ok end,
	M7 = erlang:monitor(process, P7),
	F("monitor_a_dead_process", [receive {'DOWN', M7, process, P7, R7} -> "down " ++ R(R7) end]),

	P8 = spawn(fun() ->
		receive {'$gen_call', From, _} -> receive release -> gen:reply(From, late) end end,
		Self ! replied
	end),
	E8a = case catch gen_server:call(P8, x, 100) of {'EXIT', {timeout, _}} -> "timeout"; O -> R(O) end,
	P8 ! release,
	F("late_reply_dropped", [E8a, receive First -> "next " ++ R(First) end]),

	P9 = spawn(fun() -> [Self ! {n, I} || I <- lists:seq(1, 100)] end),
	Got9 = [receive {n, I} -> I end || _ <- lists:seq(1, 100)],
	F("pair_order", [case Got9 =:= lists:seq(1, 100) of true -> "in order"; false -> "out of order" end]),
	_ = P9,

	P10 = spawn(fun() -> receive _ -> ok end end),
	M10 = erlang:monitor(process, P10),
	erlang:demonitor(M10),
	exit(P10, kill),
	F("demonitor_then_exit", [receive {'DOWN', M10, _, _, _} -> "down" after 200 -> "no down" end])`

// reason renders a gotp exit reason as Erlang prints the matching atom.
func reason(err error) string {
	switch {
	case errors.Is(err, actor.Killed):
		return "killed"
	case errors.Is(err, actor.Kill):
		return "kill"
	case errors.Is(err, actor.Normal):
		return "normal"
	case errors.Is(err, actor.ErrNoProc):
		return "noproc"
	}
	return err.Error()
}

var errBoom = errors.New("boom")

// inbox is a gotp process standing in for the Erlang test process: it runs
// the functions it is sent and queues everything else.
type inbox struct {
	pid actor.PID
	ch  chan any
}

func newInbox(t *testing.T, n *actor.Node, opts ...actor.SpawnOption) *inbox {
	t.Helper()
	in := &inbox{ch: make(chan any, 256)}
	pid, err := n.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		if fn, ok := msg.(func(*actor.Process)); ok {
			fn(p)
			return nil
		}
		in.ch <- msg
		return nil
	}), opts...)
	if err != nil {
		t.Fatal(err)
	}
	in.pid = pid
	return in
}

func (in *inbox) do(n *actor.Node, fn func(p *actor.Process)) {
	done := make(chan struct{})
	_ = n.Send(in.pid, func(p *actor.Process) { fn(p); close(done) })
	<-done
}

func (in *inbox) recv() any {
	select {
	case m := <-in.ch:
		return m
	case <-time.After(10 * time.Second):
		return "nothing for 10 s"
	}
}

// goScenarios are the same scenarios in gotp.
var goScenarios = map[string]func(t *testing.T, n *actor.Node) []string{
	"order_before_down": func(t *testing.T, n *actor.Node) []string {
		in := newInbox(t, n)
		b, _ := n.Spawn(actor.Func(func(p *actor.Process, msg any) error {
			for _, m := range []string{"m1", "m2", "m3"} {
				_ = p.Send(in.pid, m)
			}
			return actor.Normal
		}))
		in.do(n, func(p *actor.Process) { p.Monitor(b) })
		_ = n.Send(b, "go")
		var ev []string
		for range 4 {
			switch m := in.recv().(type) {
			case actor.DownMessage:
				ev = append(ev, "down "+reason(m.Reason))
			default:
				ev = append(ev, fmt.Sprint("msg ", m))
			}
		}
		return ev
	},
	"trapped_link_exit": func(t *testing.T, n *actor.Node) []string {
		in := newInbox(t, n, actor.WithTrapExit())
		var child actor.PID
		in.do(n, func(p *actor.Process) {
			child, _ = p.Spawn(actor.Func(func(*actor.Process, any) error { return errBoom }), actor.WithLink())
		})
		_ = n.Send(child, "go")
		m := in.recv().(actor.ExitMessage)
		return []string{"exit " + reason(m.Reason)}
	},
	"kill_is_killed": func(t *testing.T, n *actor.Node) []string {
		in := newInbox(t, n, actor.WithTrapExit())
		p3, _ := n.Spawn(actor.Func(func(*actor.Process, any) error { return nil }))
		in.do(n, func(p *actor.Process) { p.Monitor(p3); _ = p.Link(p3) })
		_ = n.Exit(p3, actor.Kill)
		return sorted(in.recv(), in.recv())
	},
	"exit_with_reason_kill": func(t *testing.T, n *actor.Node) []string {
		in := newInbox(t, n, actor.WithTrapExit())
		p4, _ := n.Spawn(actor.Func(func(*actor.Process, any) error { return actor.Kill }))
		in.do(n, func(p *actor.Process) { p.Monitor(p4); _ = p.Link(p4) })
		_ = n.Send(p4, "go")
		return sorted(in.recv(), in.recv())
	},
	"normal_exit_spares_links": func(t *testing.T, n *actor.Node) []string {
		in := newInbox(t, n)
		children := make(chan actor.PID, 1)
		w, _ := n.Spawn(actor.Func(func(p *actor.Process, msg any) error {
			switch m := msg.(type) {
			case string:
				c, _ := p.Spawn(actor.Func(func(*actor.Process, any) error { return actor.Normal }), actor.WithLink())
				children <- c
			case actor.PID:
				_ = p.Send(m, "pong")
			}
			return nil
		}))
		_ = n.Send(w, "start")
		c := <-children
		in.do(n, func(p *actor.Process) { p.Monitor(c) })
		_ = n.Send(c, "go")
		if _, ok := in.recv().(actor.DownMessage); !ok {
			return []string{"no down"}
		}
		in.do(n, func(p *actor.Process) { p.Monitor(w) })
		_ = n.Send(w, in.pid)
		switch m := in.recv().(type) {
		case string:
			return []string{"alive"}
		case actor.DownMessage:
			return []string{"dead " + reason(m.Reason)}
		}
		return []string{"?"}
	},
	"exit_signal_normal": func(t *testing.T, n *actor.Node) []string {
		in := newInbox(t, n)
		p6, _ := n.Spawn(actor.Func(func(p *actor.Process, msg any) error {
			if pid, ok := msg.(actor.PID); ok {
				_ = p.Send(pid, "pong")
			}
			return nil
		}))
		var ev []string
		in.do(n, func(p *actor.Process) { _ = p.Exit(p6, actor.Normal); _ = p.Send(p6, in.pid) })
		if in.recv() == "pong" {
			ev = append(ev, "untrapped alive")
		}
		p6b, _ := n.Spawn(actor.Func(func(p *actor.Process, msg any) error {
			if x, ok := msg.(actor.ExitMessage); ok {
				_ = p.Send(in.pid, x)
			}
			return nil
		}), actor.WithTrapExit())
		in.do(n, func(p *actor.Process) { _ = p.Exit(p6b, actor.Normal) })
		if x, ok := in.recv().(actor.ExitMessage); ok && x.From == in.pid {
			ev = append(ev, "trapped exit "+reason(x.Reason))
		}
		return ev
	},
	"monitor_a_dead_process": func(t *testing.T, n *actor.Node) []string {
		in := newInbox(t, n)
		p7, _ := n.Spawn(actor.Func(func(*actor.Process, any) error { return actor.Normal }))
		in.do(n, func(p *actor.Process) { p.Monitor(p7) })
		_ = n.Send(p7, "go")
		in.recv()
		in.do(n, func(p *actor.Process) { p.Monitor(p7) })
		return []string{"down " + reason(in.recv().(actor.DownMessage).Reason)}
	},
	"late_reply_dropped": func(t *testing.T, n *actor.Node) []string {
		in := newInbox(t, n)
		release := make(chan struct{})
		p8, _ := n.Spawn(actor.Func(func(p *actor.Process, msg any) error {
			if req, ok := msg.(actor.CallRequest); ok {
				<-release
				_ = p.Reply(req.From, "late")
				_ = p.Send(in.pid, "replied")
			}
			return nil
		}))
		var first string
		in.do(n, func(p *actor.Process) {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if _, err := p.Call(ctx, p8, "x"); errors.Is(err, context.DeadlineExceeded) {
				first = "timeout"
			} else {
				first = fmt.Sprint(err)
			}
		})
		close(release)
		return []string{first, fmt.Sprint("next ", in.recv())}
	},
	"pair_order": func(t *testing.T, n *actor.Node) []string {
		in := newInbox(t, n)
		p9, _ := n.Spawn(actor.Func(func(p *actor.Process, msg any) error {
			for i := 1; i <= 100; i++ {
				_ = p.Send(in.pid, i)
			}
			return actor.Normal
		}))
		_ = n.Send(p9, "go")
		for i := 1; i <= 100; i++ {
			if in.recv() != i {
				return []string{"out of order"}
			}
		}
		return []string{"in order"}
	},
	"demonitor_then_exit": func(t *testing.T, n *actor.Node) []string {
		in := newInbox(t, n)
		p10, _ := n.Spawn(actor.Func(func(*actor.Process, any) error { return nil }))
		in.do(n, func(p *actor.Process) {
			ref := p.Monitor(p10)
			p.Demonitor(ref)
		})
		_ = n.Exit(p10, actor.Kill)
		// A kill fires monitors at once: a DOWN would be in the mailbox
		// ahead of this round trip.
		in.do(n, func(*actor.Process) {})
		select {
		case <-in.ch:
			return []string{"down"}
		default:
			return []string{"no down"}
		}
	},
}

func sorted(ms ...any) []string {
	var ev []string
	for _, m := range ms {
		switch m := m.(type) {
		case actor.DownMessage:
			ev = append(ev, "down "+reason(m.Reason))
		case actor.ExitMessage:
			ev = append(ev, "exit "+reason(m.Reason))
		default:
			ev = append(ev, fmt.Sprint(m))
		}
	}
	if len(ev) == 2 && ev[0] > ev[1] {
		ev[0], ev[1] = ev[1], ev[0]
	}
	return ev
}

// The same scenarios give the same traces in Erlang and in gotp.
func TestSameTracesAsErlang(t *testing.T) {
	out := erltest.Eval(t, erlangScenarios)
	erl := map[string]string{}
	for _, line := range erltest.Lines(out) {
		name, trace, ok := strings.Cut(line, "|")
		if ok {
			erl[name] = trace
		}
	}
	for name, scenario := range goScenarios {
		t.Run(name, func(t *testing.T) {
			want, ok := erl[name]
			if !ok {
				t.Fatalf("the VM printed no trace for %s:\n%s", name, out)
			}
			n, err := actor.NewNode(actor.Config{Name: "conformance@test"})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = n.Stop(context.Background()) }()
			if got := strings.Join(scenario(t, n), ";"); got != want {
				t.Errorf("gotp: %s\nerlang: %s", got, want)
			}
		})
	}
}
