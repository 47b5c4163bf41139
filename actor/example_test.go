package actor_test

import (
	"context"
	"fmt"

	"github.com/gotp-dev/gotp/actor"
)

// counter is a gen_server holding a number.
type counter struct{ n int }

func (c *counter) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	switch req {
	case "inc":
		c.n++
		return c.n, nil
	case "get":
		return c.n, nil
	}
	// An error value as the reply is the caller's error; the server carries on.
	return fmt.Errorf("unknown request %q", req), nil
}

func (c *counter) HandleCast(p *actor.Process, msg any) error {
	if msg == "reset" {
		c.n = 0
	}
	return nil
}

func ExampleServer() {
	node, err := actor.NewNode(actor.Config{Name: "example@localhost"})
	if err != nil {
		panic(err)
	}
	defer node.Stop(context.Background())
	ctx := context.Background()

	pid, err := node.Spawn(actor.Server(&counter{}), actor.WithName("counter"))
	if err != nil {
		panic(err)
	}
	node.Call(ctx, pid, "inc")
	n, _ := node.Call(ctx, actor.Name{Name: "counter"}, "inc")
	fmt.Println("count:", n)

	_, err = node.Call(ctx, pid, "double")
	fmt.Println("error:", err)

	node.Cast(pid, "reset") // casts and calls from one sender stay in order
	n, _ = node.Call(ctx, pid, "get")
	fmt.Println("after reset:", n)
	// Output:
	// count: 2
	// error: unknown request "double"
	// after reset: 0
}

func ExampleProcess_Link() {
	node, err := actor.NewNode(actor.Config{Name: "example@localhost"})
	if err != nil {
		panic(err)
	}
	defer node.Stop(context.Background())

	worker := actor.Func(func(p *actor.Process, msg any) error {
		return fmt.Errorf("cannot do %v", msg)
	})
	events := make(chan string, 1)
	parent := actor.Func(func(p *actor.Process, msg any) error {
		switch m := msg.(type) {
		case string:
			// Trapping exits, a linked process's death arrives as a message
			// instead of taking this process down with it.
			p.TrapExit(true)
			w, err := p.Spawn(worker, actor.WithLink())
			if err != nil {
				return err
			}
			return p.Send(w, m)
		case actor.ExitMessage:
			events <- fmt.Sprintf("linked worker exited: %v", m.Reason)
		}
		return nil
	})
	pid, err := node.Spawn(parent)
	if err != nil {
		panic(err)
	}
	node.Send(pid, "the job")
	fmt.Println(<-events)
	_, err = node.Info(pid)
	fmt.Println("parent alive:", err == nil)
	// Output:
	// linked worker exited: cannot do the job
	// parent alive: true
}

func ExampleProcess_Monitor() {
	node, err := actor.NewNode(actor.Config{Name: "example@localhost"})
	if err != nil {
		panic(err)
	}
	defer node.Stop(context.Background())

	// The worker finishes on its first message.
	worker, err := node.Spawn(actor.Func(func(p *actor.Process, msg any) error { return actor.Normal }))
	if err != nil {
		panic(err)
	}
	downs := make(chan actor.DownMessage, 2)
	watcher, err := node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		switch m := msg.(type) {
		case actor.PID:
			p.Monitor(m)
			p.Send(m, "work") // ErrNoProc once the worker is gone

		case actor.DownMessage:
			downs <- m
		}
		return nil
	}))
	if err != nil {
		panic(err)
	}
	node.Send(watcher, worker)
	d := <-downs
	fmt.Println("down:", d.PID == worker, d.Reason)

	// Monitoring a process that is gone gives a DOWN at once, with noproc.
	node.Send(watcher, worker)
	d = <-downs
	fmt.Println("down again:", d.Reason)
	// Output:
	// down: true normal
	// down again: noproc
}
