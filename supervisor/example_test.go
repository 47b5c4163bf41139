package supervisor_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/supervisor"
)

// counter is a gen_server that counts, and crashes when asked to.
type counter struct{ n int }

func (c *counter) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	switch req {
	case "incr":
		c.n++
		return c.n, nil
	case "crash":
		panic("asked to crash")
	}
	return nil, fmt.Errorf("unknown request %v", req)
}

// A supervisor restarts a crashed worker with a new PID, under its name, with
// fresh state.
func ExampleStart() {
	ctx := context.Background()
	node, _ := actor.NewNode(actor.Config{Name: "example@localhost"})
	defer node.Stop(ctx)

	sup, err := supervisor.Start(node, supervisor.Spec{
		Strategy: supervisor.OneForOne,
		Children: []supervisor.ChildSpec{
			supervisor.Worker("counter", func() actor.GenServer { return &counter{} }, actor.WithName("counter")),
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	first, _ := node.WhereIs("counter")
	node.Call(ctx, first, "incr")
	n, _ := node.Call(ctx, first, "incr")
	fmt.Println("count:", n)

	_, err = node.Call(ctx, first, "crash")
	var exit *actor.ExitError
	if errors.As(err, &exit) {
		fmt.Println("counter exited:", exit.Reason)
	}
	// The crash reached the supervisor before this call did, so it has
	// restarted the counter by the time it answers.
	children, _ := supervisor.WhichChildren(ctx, node, sup)
	second, _ := node.WhereIs("counter")
	fmt.Println("restarted with a new PID:", second != first && children[0].PID == second)
	n, _ = node.Call(ctx, second, "incr")
	fmt.Println("count:", n)
	// Output:
	// count: 2
	// counter exited: panic: asked to crash
	// restarted with a new PID: true
	// count: 1
}

// conn is a connection handler started on demand with its port.
type conn struct{ port int }

func (c *conn) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	return c.port, nil
}

// A SimpleOneForOne supervisor starts children from its template on demand,
// passing each its own arguments.
func ExampleStartChildArgs() {
	ctx := context.Background()
	node, _ := actor.NewNode(actor.Config{})
	defer node.Stop(ctx)

	sup, _ := supervisor.Start(node, supervisor.Spec{
		Strategy: supervisor.SimpleOneForOne,
		Children: []supervisor.ChildSpec{{
			ID:      "conn",
			Restart: supervisor.Temporary,
			Start: func(p *actor.Process, args ...any) (actor.PID, error) {
				return p.Spawn(actor.Server(&conn{port: args[0].(int)}), actor.WithLink())
			},
		}},
	})
	for _, port := range []int{8080, 8081, 8082} {
		pid, _ := supervisor.StartChildArgs(ctx, node, sup, port)
		got, _ := node.Call(ctx, pid, "port?")
		fmt.Println("serving", got)
	}
	counts, _ := supervisor.CountChildren(ctx, node, sup)
	fmt.Printf("%+v\n", counts)
	// Output:
	// serving 8080
	// serving 8081
	// serving 8082
	// {Specs:1 Active:3 Supervisors:0 Workers:3}
}

// announcer says when it stops. It traps exits, so that its supervisor's
// shutdown request runs its Terminate.
type announcer struct{ name string }

func (a *announcer) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	return nil, nil
}

func (a *announcer) Terminate(p *actor.Process, reason error) {
	fmt.Printf("%s stopped (%v)\n", a.name, reason)
}

func announced(name string) supervisor.ChildSpec {
	return supervisor.Worker(name, func() actor.GenServer { return &announcer{name: name} }, actor.WithTrapExit())
}

// Supervisors nest: a supervisor child is stopped like any other, after the
// children started after it and before those started before it, and it
// stops its own children first.
func ExampleChildSupervisor() {
	ctx := context.Background()
	node, _ := actor.NewNode(actor.Config{})
	defer node.Stop(ctx)

	pool := supervisor.Spec{
		Strategy: supervisor.RestForOne,
		Children: []supervisor.ChildSpec{announced("db"), announced("api")},
	}
	root, _ := supervisor.Start(node, supervisor.Spec{
		Children: []supervisor.ChildSpec{
			announced("cache"),
			supervisor.ChildSupervisor("pool", pool),
			announced("metrics"),
		},
	})
	children, _ := supervisor.WhichChildren(ctx, node, root)
	for _, c := range children {
		fmt.Println(c.ID, c.Type)
	}
	supervisor.Stop(ctx, node, root)
	// Output:
	// cache worker
	// pool supervisor
	// metrics worker
	// metrics stopped (shutdown)
	// api stopped (shutdown)
	// db stopped (shutdown)
	// cache stopped (shutdown)
}
