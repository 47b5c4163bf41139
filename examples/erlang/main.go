// Command erlang joins a gotp node to a real Erlang node: the Erlang node
// pings it, calls a Go gen_server, monitors a Go process and sees it exit,
// and calls a Go function with rpc:call; the Go side calls back into
// Erlang. It needs erl (Debian's erlang-base) and says so if it is missing.
package main

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/erlang/dist"
	"github.com/gotp-dev/gotp/erlang/etf"
)

// counter is a gen_server holding a number: {add, N} adds N and answers the
// total.
type counter struct{ n int64 }

func (c *counter) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	if t, ok := req.(etf.Tuple); ok && len(t) == 2 && t[0] == etf.Atom("add") {
		if n, ok := t[1].(int64); ok {
			c.n += n
			return etf.Tuple{etf.Atom("total"), c.n}, nil
		}
	}
	return etf.Tuple{etf.Atom("error"), etf.Atom("badarg")}, nil
}

func main() {
	erl, err := exec.LookPath("erl")
	if err != nil {
		fmt.Println("erl is not installed (apt-get install erlang-base); nothing to join.")
		return
	}
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(host, ".")

	// A port mapper of our own, so the example needs no running epmd.
	epmd, err := dist.ListenEPMD("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer epmd.Close()

	node, err := actor.NewNode(actor.Config{Name: "gonode@" + host})
	if err != nil {
		log.Fatal(err)
	}
	d, err := dist.Start(node, dist.Config{Cookie: "example-cookie", EPMDPort: epmd.Port()})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { d.Stop(); _ = node.Stop(context.Background()) }()

	if _, err := node.Spawn(actor.Server(&counter{}), actor.WithName("counter")); err != nil {
		log.Fatal(err)
	}
	_, err = node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		fmt.Printf("go:     worker got %v and exits with it\n", msg)
		return &dist.Reason{Term: msg}
	}), actor.WithName("worker"))
	if err != nil {
		log.Fatal(err)
	}
	d.HandleRPC("go", "upper", func(args []any) (any, error) {
		if len(args) == 1 {
			if b, ok := args[0].([]byte); ok {
				return strings.ToUpper(string(b)), nil
			}
		}
		return nil, fmt.Errorf("upper takes one binary")
	})

	g := "'gonode@" + host + "'"
	script := strings.ReplaceAll(`
		io:format("erlang: ping ~p~n", [net_adm:ping(GONODE)]),
		io:format("erlang: call ~p~n", [gen_server:call({counter, GONODE}, {add, 40})]),
		io:format("erlang: call ~p~n", [gen_server:call({counter, GONODE}, {add, 2})]),
		M = erlang:monitor(process, {worker, GONODE}),
		{worker, GONODE} ! {done, <<"with a reason">>},
		receive {'DOWN', M, process, _, R} -> io:format("erlang: DOWN ~p~n", [R]) end,
		io:format("erlang: rpc ~p~n", [rpc:call(GONODE, go, upper, [<<"shout">>])]),
		register(shell, self()),
		io:format("erlang: ready~n"),
		receive {From, hello} -> From ! {hello_back, node()} end,
		receive stop -> ok end`, "GONODE", g)
	cmd := exec.Command(erl, "-sname", "erlnode", "-setcookie", "example-cookie", "-noshell", "-noinput", "-eval", script)
	cmd.Env = append(os.Environ(), fmt.Sprintf("ERL_EPMD_PORT=%d", epmd.Port()))
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	sc := bufio.NewScanner(out)
	for sc.Scan() {
		fmt.Println(sc.Text())
		if sc.Text() == "erlang: ready" {
			break
		}
	}
	// The Go side's turn: a process sends to the Erlang shell process by
	// name and waits for its answer.
	got := make(chan any, 1)
	me, _ := node.Spawn(actor.Func(func(p *actor.Process, msg any) error { got <- msg; return nil }))
	if err := node.Send(actor.Name{Node: "erlnode@" + host, Name: "shell"}, etf.Tuple{me, etf.Atom("hello")}); err != nil {
		log.Fatal(err)
	}
	select {
	case m := <-got:
		fmt.Printf("go:     got %v\n", m)
	case <-time.After(10 * time.Second):
		fmt.Println("go:     no answer from Erlang")
	}
}
