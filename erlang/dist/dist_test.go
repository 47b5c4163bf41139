package dist_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/erlang/dist"
	"github.com/gotp-dev/gotp/erlang/etf"
	"github.com/gotp-dev/gotp/internal/erltest"
	"github.com/gotp-dev/gotp/remote"
)

const cookie = "gotp-test-cookie"

// host is the host part of the tests' node names: the loopback address, as
// erl -name takes it, so that no test depends on the machine's host name
// resolving (TestShortNames uses short names).
func host(t *testing.T) string { return "127.0.0.1" }

// shortHost is this machine's short host name, as erl -sname uses it.
func shortHost(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ = strings.Cut(h, ".")
	if _, err := net.LookupHost(h); err != nil {
		t.Skipf("this machine's host name %q does not resolve (%v): short names cannot be tested here", h, err)
	}
	return h
}

// cluster is a port mapper of our own and the Go node on it.
type cluster struct {
	t    *testing.T
	epmd *dist.EPMDServer
	node *actor.Node
	d    *dist.Dist
	host string
}

func newCluster(t *testing.T, cfg dist.Config) *cluster {
	t.Helper()
	return newClusterAt(t, cfg, host(t))
}

// newClusterAt is newCluster with node names on host.
func newClusterAt(t *testing.T, cfg dist.Config, h string) *cluster {
	t.Helper()
	erltest.Erl(t)
	epmd, err := dist.ListenEPMD("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { epmd.Close() })
	node, err := actor.NewNode(actor.Config{Name: "go@" + h})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cookie == "" {
		cfg.Cookie = cookie
	}
	cfg.EPMDPort = epmd.Port()
	d, err := dist.Start(node, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Stop()
		_ = node.Stop(context.Background())
	})
	return &cluster{t: t, epmd: epmd, node: node, d: d, host: h}
}

// erlNode is an Erlang VM running a script that prints lines.
type erlNode struct {
	name  string
	cmd   *exec.Cmd
	lines chan string
}

// startErl starts erl -sname name running script (expressions, then it
// waits to be stopped); its printed lines arrive on lines.
func (c *cluster) startErl(name, cookie, script string) *erlNode {
	c.t.Helper()
	env := append(os.Environ(), fmt.Sprintf("ERL_EPMD_PORT=%d", c.epmd.Port()))
	return startErlCookie(c.t, env, name, c.host, cookie, script)
}

// expect reads the VM's next line and fails unless it is want.
func (e *erlNode) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case got, ok := <-e.lines:
		if !ok {
			t.Fatalf("erl exited; want %q", want)
		}
		// Atoms print quoted or not by their characters: compare without.
		if strings.ReplaceAll(got, "'", "") != strings.ReplaceAll(want, "'", "") {
			t.Fatalf("erl printed %q, want %q", got, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("erl printed nothing for 30 s; want %q", want)
	}
}

// echo is a gen_server: it answers every call with {echo, Request}, and on
// the cast {cast, Pid} sends Pid {casted, ok}.
type echo struct{}

func (echo) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	return etf.Tuple{etf.Atom("echo"), req}, nil
}

func (echo) HandleCast(p *actor.Process, msg any) error {
	if t, ok := msg.(etf.Tuple); ok && len(t) == 2 && t[0] == etf.Atom("cast") {
		if pid, ok := t[1].(actor.PID); ok {
			return p.Send(pid, etf.Tuple{etf.Atom("casted"), etf.Atom("ok")})
		}
	}
	return nil
}

// An Erlang node pings the Go node, calls and casts a Go gen_server, sends
// to a Go process by name and gets its answer, and monitors and links to Go
// processes and sees their exit reasons.
func TestErlangUsesGoProcesses(t *testing.T) {
	c := newCluster(t, dist.Config{})
	if _, err := c.node.Spawn(actor.Server(echo{}), actor.WithName("echo")); err != nil {
		t.Fatal(err)
	}
	// victim answers {From, pid} with {pid, self()}, and exits with the
	// reason it is sent otherwise.
	victim := func(name string) {
		_, err := c.node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
			switch m := msg.(type) {
			case etf.Atom:
				return fmt.Errorf("%s", m)
			case etf.Tuple:
				if from, ok := m[0].(actor.PID); ok && len(m) == 2 {
					return p.Send(from, etf.Tuple{etf.Atom("pid"), p.Self()})
				}
				return &dist.Reason{Term: m}
			}
			return actor.Normal
		}), actor.WithName(name))
		if err != nil {
			t.Fatal(err)
		}
	}
	victim("v1")
	victim("v2")
	g := "'go@" + c.host + "'"
	script := strings.ReplaceAll(`
		io:format("~p~n", [net_adm:ping(GONODE)]),
		io:format("~p~n", [gen_server:call({echo, GONODE}, {hello, 42, <<"bin">>, [1.5, #{k => v}]})]),
		gen_server:cast({echo, GONODE}, {cast, self()}),
		receive {casted, X} -> io:format("cast ~p~n", [X]) after 10000 -> io:format("no cast~n") end,
		M = erlang:monitor(process, {v1, GONODE}),
		{v1, GONODE} ! {custom, reason},
		receive {'DOWN', M, process, Who, R1} -> io:format("down ~p ~p~n", [Who, R1]) after 10000 -> io:format("no down~n") end,
		process_flag(trap_exit, true),
		{v2, GONODE} ! {self(), pid},
		P = receive {pid, P0} -> P0 after 10000 -> none end,
		io:format("pid on ~p~n", [node(P)]),
		link(P),
		{v2, GONODE} ! boom,
		receive {'EXIT', P, R2} -> io:format("exit ~p~n", [R2]) after 10000 -> io:format("no exit~n") end,
		erlang:monitor(process, {nobody, GONODE}),
		receive {'DOWN', _, process, _, R3} -> io:format("down nobody ~p~n", [R3]) after 10000 -> io:format("no down~n") end,
		io:format("~p~n", [catch gen_server:call({nobody, GONODE}, hello, 2000)]),
		io:format("done~n"),
		receive stop -> ok end`, "GONODE", g)
	e := c.startErl("e1", cookie, script)
	e.expect(t, "pong")
	e.expect(t, `{echo,{hello,42,<<"bin">>,[1.5,#{k => v}]}}`)
	e.expect(t, "cast ok")
	e.expect(t, fmt.Sprintf("down {v1,'go@%s'} {custom,reason}", c.host))
	e.expect(t, fmt.Sprintf("pid on 'go@%s'", c.host))
	e.expect(t, `exit <<"boom">>`)
	e.expect(t, "down nobody noproc")
	e.expect(t, fmt.Sprintf("{'EXIT',{noproc,{gen_server,call,[{nobody,'go@%s'},hello,2000]}}}", c.host))
	e.expect(t, "done")
}

// runner is a Go process that runs the functions it is sent and passes on
// everything else it receives.
type runner struct {
	pid actor.PID
	got chan any
}

func spawnRunner(t *testing.T, n *actor.Node) *runner {
	t.Helper()
	r := &runner{got: make(chan any, 64)}
	pid, err := n.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		if fn, ok := msg.(func(*actor.Process)); ok {
			fn(p)
			return nil
		}
		r.got <- msg
		return nil
	}), actor.WithTrapExit())
	if err != nil {
		t.Fatal(err)
	}
	r.pid = pid
	return r
}

func (r *runner) do(t *testing.T, n *actor.Node, fn func(p *actor.Process)) {
	t.Helper()
	done := make(chan struct{})
	if err := n.Send(r.pid, func(p *actor.Process) { fn(p); close(done) }); err != nil {
		t.Fatal(err)
	}
	<-done
}

func (r *runner) recv(t *testing.T) any {
	t.Helper()
	select {
	case m := <-r.got:
		return m
	case <-time.After(30 * time.Second):
		t.Fatal("nothing arrived for 30 s")
		return nil
	}
}

// Go processes call, send to, monitor and link to Erlang processes, and a
// lost Erlang node fires noconnection for all of it.
func TestGoUsesErlangProcesses(t *testing.T) {
	c := newCluster(t, dist.Config{TickTime: 4 * time.Second})
	script := `
		register(echo, spawn(fun Loop() -> receive {From, M} -> From ! {echoed, M}, Loop() end end)),
		register(victim, spawn(fun() -> receive {exit, R} -> exit(R) end end)),
		register(linked, spawn(fun L() -> receive {From, pid} -> From ! {pid, self()}, L(); {exit, R} -> exit(R) end end)),
		io:format("ready~n"),
		receive stop -> ok end`
	e := c.startErl("e2", cookie, script)
	e.expect(t, "ready")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.d.Connect(ctx, e.name); err != nil {
		t.Fatalf("connect: %v", err)
	}
	// A call to one of the VM's own gen_servers: net_kernel answers is_auth.
	reply, err := c.node.Call(ctx, actor.Name{Node: e.name, Name: "net_kernel"}, etf.Tuple{etf.Atom("is_auth"), etf.Atom(c.node.Name())})
	if err != nil || reply != etf.Atom("yes") {
		t.Fatalf("gen_server call to net_kernel: %v, %v", reply, err)
	}
	r := spawnRunner(t, c.node)
	echoName := actor.Name{Node: e.name, Name: "echo"}
	if err := c.node.Send(echoName, etf.Tuple{r.pid, etf.Atom("hi")}); err != nil {
		t.Fatal(err)
	}
	if m := r.recv(t); !etf.Equal(m, etf.Tuple{etf.Atom("echoed"), etf.Atom("hi")}) {
		t.Fatalf("echo: %#v", m)
	}
	// A registered struct goes as a record, gotp PID inside, and comes back.
	sent := job{ID: 7, Owner: r.pid}
	if err := c.node.Send(echoName, etf.Tuple{r.pid, sent}); err != nil {
		t.Fatal(err)
	}
	if m, ok := r.recv(t).(etf.Tuple); !ok || len(m) != 2 || m[1] != sent {
		t.Fatalf("echoed record: %#v", m)
	}

	// A monitor by name sees the Erlang process's exit reason.
	victim := actor.Name{Node: e.name, Name: "victim"}
	r.do(t, c.node, func(p *actor.Process) { p.Monitor(victim) })
	_ = c.node.Send(victim, etf.Tuple{etf.Atom("exit"), etf.Tuple{etf.Atom("custom"), int64(7)}})
	d, ok := r.recv(t).(actor.DownMessage)
	var reason *dist.Reason
	if !ok || !errors.As(d.Reason, &reason) || !etf.Equal(reason.Term, etf.Tuple{etf.Atom("custom"), int64(7)}) {
		t.Fatalf("DOWN %#v", d)
	}

	// A link delivers the Erlang process's exit to a trapping Go process.
	linked := actor.Name{Node: e.name, Name: "linked"}
	_ = c.node.Send(linked, etf.Tuple{r.pid, etf.Atom("pid")})
	m, ok := r.recv(t).(etf.Tuple)
	if !ok || len(m) != 2 {
		t.Fatalf("pid answer %#v", m)
	}
	lpid := m[1].(actor.PID)
	r.do(t, c.node, func(p *actor.Process) { _ = p.Link(lpid) })
	_ = c.node.Send(linked, etf.Tuple{etf.Atom("exit"), etf.Atom("shutdown")})
	x, ok := r.recv(t).(actor.ExitMessage)
	if !ok || x.From != lpid || !errors.Is(x.Reason, actor.Shutdown) {
		t.Fatalf("exit %#v", x)
	}

	// The Erlang node dies: a monitor across it fires noconnection, and a
	// node monitor gets its node-down.
	r.do(t, c.node, func(p *actor.Process) { p.Monitor(echoName); p.MonitorNode(e.name) })
	if err := e.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	var sawDown, sawNodeDown bool
	for range 2 {
		switch m := r.recv(t).(type) {
		case actor.DownMessage:
			sawDown = errors.Is(m.Reason, actor.ErrNoConnection)
		case actor.NodeDownMessage:
			sawNodeDown = m.Node == e.name
		default:
			t.Fatalf("after the VM was killed: %#v", m)
		}
	}
	if !sawDown || !sawNodeDown {
		t.Fatalf("after the VM was killed: noconnection DOWN %v, node-down %v", sawDown, sawNodeDown)
	}
}

// The Go node's distribution stops: the Erlang node sees nodedown and
// noconnection for its monitors of Go processes.
func TestErlangSeesTheGoNodeGo(t *testing.T) {
	c := newCluster(t, dist.Config{})
	if _, err := c.node.Spawn(actor.Server(echo{}), actor.WithName("echo")); err != nil {
		t.Fatal(err)
	}
	g := "'go@" + c.host + "'"
	e := c.startErl("e5", cookie, strings.ReplaceAll(`
		pong = net_adm:ping(GONODE),
		monitor_node(GONODE, true),
		erlang:monitor(process, {echo, GONODE}),
		register(ctl, self()),
		io:format("ready~n"),
		Got = [receive {nodedown, N} -> {nodedown, N}; {'DOWN', _, process, _, R} -> {down, R} end || _ <- [1, 2]],
		io:format("~p~n", [lists:sort(Got)]),
		receive stop -> ok end`, "GONODE", g))
	e.expect(t, "ready")
	c.d.Stop()
	e.expect(t, fmt.Sprintf("[{down,noconnection},{nodedown,'go@%s'}]", c.host))
}

// A wrong cookie is refused both ways.
func TestWrongCookieRefused(t *testing.T) {
	c := newCluster(t, dist.Config{})
	e := c.startErl("e3", "another-cookie", `io:format("~p~n", [net_adm:ping('go@`+c.host+`')]), io:format("ready~n"), receive stop -> ok end`)
	e.expect(t, "pang")
	e.expect(t, "ready")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.d.Connect(ctx, e.name); !errors.Is(err, dist.ErrBadCookie) {
		t.Fatalf("connect with a wrong cookie: %v, want ErrBadCookie", err)
	}
}

// rpc:call from Erlang reaches Go functions registered for it; an unknown
// one is undef, and a failing one a badrpc with its reason.
func TestRPCFromErlang(t *testing.T) {
	c := newCluster(t, dist.Config{})
	c.d.HandleRPC("go", "add", func(args []any) (any, error) {
		var sum int64
		for _, a := range args {
			n, ok := a.(int64)
			if !ok {
				return nil, &dist.Reason{Term: etf.Tuple{etf.Atom("not_a_number"), a}}
			}
			sum += n
		}
		return sum, nil
	})
	g := "'go@" + c.host + "'"
	e := c.startErl("e4", cookie, strings.ReplaceAll(`
		io:format("~p~n", [rpc:call(GONODE, go, add, [1, 2, 39])]),
		io:format("~p~n", [rpc:call(GONODE, go, add, [1, x])]),
		io:format("~p~n", [rpc:call(GONODE, go, nothing, [])]),
		io:format("~p~n", [erpc:call(GONODE, go, add, [2, 3])]),
		receive stop -> ok end`, "GONODE", g))
	e.expect(t, "42")
	e.expect(t, "{badrpc,{'EXIT',{not_a_number,x}}}")
	e.expect(t, "{badrpc,{'EXIT',{undef,[{go,nothing,[],[]}]}}}")
	e.expect(t, "5")
}

// With Erlang's own epmd (started by erl, as it does when none runs): the Go
// node registers with it and finds an Erlang node through it, and another
// Erlang node finds the Go node through it.
func TestWithErlangsEPMD(t *testing.T) {
	erltest.Erl(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	h := host(t)
	env := append(os.Environ(), fmt.Sprintf("ERL_EPMD_PORT=%d", port))
	t.Cleanup(func() {
		kill := exec.Command("epmd", "-port", fmt.Sprint(port), "-kill")
		kill.Env = env
		_ = kill.Run()
	})
	e6 := startErlEnv(t, env, "e6", h, `io:format("ready~n"), receive stop -> ok end`)
	e6.expect(t, "ready") // erl runs its epmd, and is registered with it

	node, err := actor.NewNode(actor.Config{Name: "go6@" + h})
	if err != nil {
		t.Fatal(err)
	}
	d, err := dist.Start(node, dist.Config{Cookie: cookie, EPMDPort: port})
	if err != nil {
		t.Fatalf("register with erl's epmd: %v", err)
	}
	t.Cleanup(func() {
		d.Stop()
		_ = node.Stop(context.Background())
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Connect(ctx, e6.name); err != nil {
		t.Fatalf("connect through erl's epmd: %v", err)
	}
	e7 := startErlEnv(t, env, "e7", h, `io:format("~p~n", [net_adm:ping('go6@`+h+`')]), receive stop -> ok end`)
	e7.expect(t, "pong")
}

// startErlEnv starts erl -sname name@host with env, running script.
func startErlEnv(t *testing.T, env []string, name, host, script string) *erlNode {
	t.Helper()
	return startErlCookie(t, env, name, host, cookie, script)
}

// startErlCookie starts erl -sname name@host with env and cookie, running
// script (expressions; it should end waiting to be stopped); its printed
// lines arrive on lines.
func startErlCookie(t *testing.T, env []string, name, host, cookie, script string) *erlNode {
	t.Helper()
	flag := "-name"
	if !strings.Contains(host, ".") {
		flag = "-sname"
	}
	cmd := exec.Command(erltest.Erl(t), flag, name+"@"+host, "-setcookie", cookie, "-noshell", "-noinput", "-eval", script)
	cmd.Env = env
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	e := &erlNode{name: name + "@" + host, cmd: cmd, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			e.lines <- sc.Text()
		}
		close(e.lines)
	}()
	return e
}

// One gotp node in two clusters: gotp's distribution to another gotp node,
// Erlang's to an Erlang node. An Erlang caller's request reaches a gotp
// server that asks the other gotp node before it answers.
func TestBothDistributions(t *testing.T) {
	erltest.Erl(t)
	h := host(t)
	epmd, err := dist.ListenEPMD("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { epmd.Close() })
	start := func(name string) *actor.Node {
		n, err := actor.NewNode(actor.Config{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Stop(context.Background()) })
		return n
	}
	a, b := start("a@"+h), start("b@"+h)
	ra, err := remote.Start(a, remote.Config{Cookie: cookie})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := remote.Start(b, remote.Config{Cookie: cookie})
	if err != nil {
		t.Fatal(err)
	}
	isErlang := func(node string) bool { return strings.HasPrefix(node, "e8@") }
	if _, err := dist.Start(a, dist.Config{Cookie: cookie, EPMDPort: epmd.Port(), Nodes: isErlang}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ra.Connect(ctx, rb.Spec()); err != nil {
		t.Fatal(err)
	}
	// b doubles numbers; a's front asks b.
	if _, err := b.Spawn(actor.Server(doubler{}), actor.WithName("doubler")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Spawn(actor.Server(front{backend: actor.Name{Node: b.Name(), Name: "doubler"}}), actor.WithName("front")); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), fmt.Sprintf("ERL_EPMD_PORT=%d", epmd.Port()))
	e := startErlCookie(t, env, "e8", h, cookie, `io:format("~p~n", [gen_server:call({front, 'a@`+h+`'}, 21)]), receive stop -> ok end`)
	e.expect(t, "42")
}

type doubler struct{}

func (doubler) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	return req.(int64) * 2, nil
}

type front struct{ backend actor.Name }

func (f front) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	return p.Call(context.Background(), f.backend, req)
}

type job struct {
	ID    int
	Owner actor.PID
}

func init() {
	if err := etf.RegisterRecord("job", job{}); err != nil {
		panic(err)
	}
}

// Long names (erl -name name@address) work as short ones do.
func TestLongNames(t *testing.T) {
	erltest.Erl(t)
	epmd := echoNode(t, "golong@127.0.0.1")
	cmd := exec.Command(erltest.Erl(t), "-name", "elong@127.0.0.1", "-setcookie", cookie, "-noshell", "-noinput", "-eval",
		`io:format("~p~n", [gen_server:call({echo, 'golong@127.0.0.1'}, long)]), receive stop -> ok end`)
	cmd.Env = append(os.Environ(), fmt.Sprintf("ERL_EPMD_PORT=%d", epmd.Port()))
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	e := &erlNode{name: "elong@127.0.0.1", cmd: cmd, lines: make(chan string, 4)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			e.lines <- sc.Text()
		}
		close(e.lines)
	}()
	e.expect(t, "{echo,long}")
}

// A large message (300,000 tuples, about 4.8 MB) crosses both ways, behind
// the distribution header and its atom cache: to the VM in fragments of
// 64 KiB, which it puts together; from it whole (OTP over TCP sends it so;
// fragments from a peer are put together as FragmentsAreReassembled shows).
func TestLargeMessagesBothWays(t *testing.T) {
	c := newCluster(t, dist.Config{})
	_, err := c.node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		if m, ok := msg.(etf.Tuple); ok && len(m) == 2 {
			if from, ok := m[0].(actor.PID); ok {
				l := m[1].(etf.List)
				return p.Send(from, etf.Tuple{etf.Atom("size"), int64(len(l)), l})
			}
		}
		return nil
	}), actor.WithName("sizer"))
	if err != nil {
		t.Fatal(err)
	}
	g := "'go@" + c.host + "'"
	e := c.startErl("e9", cookie, strings.ReplaceAll(`
		Big = [{I, <<"item">>} || I <- lists:seq(1, 300000)],
		{sizer, GONODE} ! {self(), Big},
		receive {size, N, Back} -> io:format("~p ~p~n", [N, Back =:= Big]) after 20000 -> io:format("nothing~n") end,
		receive stop -> ok end`, "GONODE", g))
	e.expect(t, "300000 true")
}

// Every exit reason crosses both ways, through monitors: an Erlang process
// exiting with each reason gives a Go monitor the gotp reason, and a Go
// process exiting with each gives an Erlang monitor the Erlang term. And
// exit/2 signals and unlinks cross both ways.
func TestExitReasonsAndSignalsBothWays(t *testing.T) {
	c := newCluster(t, dist.Config{})
	reasons := []struct {
		erl  string // the term, in Erlang
		gotp error  // the gotp reason
		want func(error) bool
	}{
		{"normal", actor.Normal, func(e error) bool { return errors.Is(e, actor.Normal) }},
		{"shutdown", actor.Shutdown, func(e error) bool { return errors.Is(e, actor.Shutdown) }},
		{"{shutdown,done}", nil, func(e error) bool { return errors.Is(e, actor.Shutdown) && strings.Contains(e.Error(), "done") }},
		{"killed", actor.Killed, func(e error) bool { return errors.Is(e, actor.Killed) }},
		{"kill", actor.Kill, func(e error) bool { return errors.Is(e, actor.Kill) && !errors.Is(e, actor.Killed) }},
		{"noproc", actor.ErrNoProc, func(e error) bool { return errors.Is(e, actor.ErrNoProc) }},
		{"{any,[term,1]}", &dist.Reason{Term: etf.Tuple{etf.Atom("any"), etf.List{etf.Atom("term"), int64(1)}}}, func(e error) bool {
			var r *dist.Reason
			return errors.As(e, &r) && etf.Format(r.Term) == "{any,[term,1]}"
		}},
	}
	// Go processes that exit with the reason they are told (by index).
	for i, r := range reasons {
		if r.gotp == nil {
			continue
		}
		reason := r.gotp
		if _, err := c.node.Spawn(actor.Func(func(*actor.Process, any) error { return reason }), actor.WithName(fmt.Sprintf("r%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	// A trapping Go process that reports exits and replies to {From, pid}.
	trap := spawnRunner(t, c.node)
	if _, err := c.node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		_ = p.Send(trap.pid, msg)
		return nil
	}), actor.WithName("reporter")); err != nil {
		t.Fatal(err)
	}
	g := "'go@" + c.host + "'"
	var checks []string
	for i, r := range reasons {
		if r.gotp == nil {
			continue
		}
		checks = append(checks, fmt.Sprintf(`(fun() -> M = erlang:monitor(process, {r%d, GONODE}), {r%d, GONODE} ! go,
			receive {'DOWN', M, _, _, R} -> io:format("go r%d ~w~n", [R]) end end)()`, i, i, i))
	}
	script := strings.ReplaceAll(`
		register(ctl, self()),
		`+strings.Join(checks, ",\n")+`,
		io:format("ready~n"),
		Loop = fun L() ->
			receive
				{exit_with, From, R} -> P = spawn(fun() -> receive go -> exit(R) end end), From ! {pid, P}, L();
				{go, P} -> P ! go, L();
				{exit2, To, R} -> exit(To, R), L();
				{linkme, From} -> P = spawn(fun() -> process_flag(trap_exit, true), From ! {linker, self()},
					receive {'EXIT', F, R} -> io:format("erl trapped ~w~n", [R]), F = F end,
					receive unlinked -> io:format("erl unlinked ~p~n", [lists:member(From, element(2, process_info(self(), links)))]) end end), L();
				{'$gen_cast', M} -> io:format("erl cast ~w~n", [M]), L();
				stop -> ok
			end
		end,
		Loop()`, "GONODE", g)
	e := c.startErl("e10", cookie, script)
	for i, r := range reasons {
		if r.gotp == nil {
			continue
		}
		e.expect(t, fmt.Sprintf("go r%d %s", i, r.erl))
	}
	e.expect(t, "ready")
	ctl := actor.Name{Node: e.name, Name: "ctl"}

	// Erlang processes exit with each reason; a Go monitor sees gotp's.
	for _, r := range reasons {
		_ = c.node.Send(ctl, etf.Tuple{etf.Atom("exit_with"), trap.pid, mustParse(t, r.erl)})
		m := trap.recv(t).(etf.Tuple)
		pid := m[1].(actor.PID)
		trap.do(t, c.node, func(p *actor.Process) { p.Monitor(pid) })
		_ = c.node.Send(ctl, etf.Tuple{etf.Atom("go"), pid})
		d, ok := trap.recv(t).(actor.DownMessage)
		if !ok || !r.want(d.Reason) {
			t.Errorf("Erlang exit %s: Go DOWN %#v", r.erl, d)
		}
	}

	// exit/2 from Erlang to a trapping Go process, and from Go to Erlang.
	_ = c.node.Send(ctl, etf.Tuple{etf.Atom("exit2"), trap.pid, etf.Atom("from_erlang")})
	if x, ok := trap.recv(t).(actor.ExitMessage); !ok || !strings.Contains(x.Reason.Error(), "from_erlang") {
		t.Fatalf("exit/2 from Erlang: %#v", x)
	}
	_ = c.node.Send(ctl, etf.Tuple{etf.Atom("linkme"), trap.pid})
	linker := trap.recv(t).(etf.Tuple)[1].(actor.PID)
	trap.do(t, c.node, func(p *actor.Process) { _ = p.Exit(linker, &dist.Reason{Term: etf.Atom("from_go")}) })
	e.expect(t, "erl trapped from_go")
	// A link from Go, then an unlink: the Erlang side no longer holds it.
	trap.do(t, c.node, func(p *actor.Process) { _ = p.Link(linker); p.Unlink(linker) })
	_ = c.node.Send(linker, etf.Atom("unlinked"))
	e.expect(t, "erl unlinked false")

	// A gotp cast to an Erlang gen_server arrives as '$gen_cast'.
	if err := c.node.Cast(actor.Name{Node: e.name, Name: "ctl"}, etf.Tuple{etf.Atom("cast"), etf.Atom("x"), etf.Atom("y")}); err != nil {
		t.Fatal(err)
	}
	e.expect(t, "erl cast {cast,x,y}")
}

// mustParse turns the few Erlang terms the tests write into Go values.
func mustParse(t *testing.T, s string) any {
	switch s {
	case "normal", "shutdown", "killed", "kill", "noproc":
		return etf.Atom(s)
	case "{shutdown,done}":
		return etf.Tuple{etf.Atom("shutdown"), etf.Atom("done")}
	case "{any,[term,1]}":
		return etf.Tuple{etf.Atom("any"), etf.List{etf.Atom("term"), int64(1)}}
	}
	t.Fatalf("no Go value for %s", s)
	return nil
}

// With no port mapper on the host, the Go node runs its own; an Erlang node
// started after it registers there and reaches the Go node.
func TestOwnEPMDWhenNoneRuns(t *testing.T) {
	erltest.Erl(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens on port now
	h := host(t)
	node, err := actor.NewNode(actor.Config{Name: "goown@" + h})
	if err != nil {
		t.Fatal(err)
	}
	d, err := dist.Start(node, dist.Config{Cookie: cookie, EPMDPort: port})
	if err != nil {
		t.Fatalf("start with no epmd: %v", err)
	}
	t.Cleanup(func() { d.Stop(); _ = node.Stop(context.Background()) })
	env := append(os.Environ(), fmt.Sprintf("ERL_EPMD_PORT=%d", port))
	e := startErlCookie(t, env, "eown", h, cookie, `io:format("~p~n", [net_adm:ping('goown@`+h+`')]), receive stop -> ok end`)
	e.expect(t, "pong")
}

// Closing the port mapper ends the registrations with it, even of nodes
// still running.
func TestEPMDServerCloseEndsRegistrations(t *testing.T) {
	epmd, err := dist.ListenEPMD("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	node, err := actor.NewNode(actor.Config{Name: "goreg@" + host(t)})
	if err != nil {
		t.Fatal(err)
	}
	d, err := dist.Start(node, dist.Config{Cookie: cookie, EPMDPort: epmd.Port()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { d.Stop(); _ = node.Stop(context.Background()) }()
	closed := make(chan error, 1)
	go func() { closed <- epmd.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for a registered node to go")
	}
}

// Short names (erl -sname name, the host's short name) work as long ones do.
func TestShortNames(t *testing.T) {
	erltest.Erl(t)
	h := shortHost(t)
	epmd := echoNode(t, "goshort@"+h)
	env := append(os.Environ(), fmt.Sprintf("ERL_EPMD_PORT=%d", epmd.Port()))
	e := startErlCookie(t, env, "eshort", h, cookie, `io:format("~p~n", [gen_server:call({echo, 'goshort@`+h+`'}, short)]), receive stop -> ok end`)
	e.expect(t, "{echo,short}")
}

// echoNode starts a port mapper of our own and, on it, a Go node named name
// with an echo server; both stop when the test ends.
func echoNode(t *testing.T, name string) *dist.EPMDServer {
	t.Helper()
	epmd, err := dist.ListenEPMD("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { epmd.Close() })
	node, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	d, err := dist.Start(node, dist.Config{Cookie: cookie, EPMDPort: epmd.Port()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop(); _ = node.Stop(context.Background()) })
	if _, err := node.Spawn(actor.Server(echo{}), actor.WithName("echo")); err != nil {
		t.Fatal(err)
	}
	return epmd
}
