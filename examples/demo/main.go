// Command demo shows gotp's process core: a guardian process that traps exits
// keeps two linked counter servers alive, a watcher monitors one of them, and
// the program calls the counters, crashes one and prints what happened.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

// counter is a gen_server holding a number.
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

// guardian links to its workers, traps their exits and restarts the ones that
// crash under the same name: a supervisor in miniature.
type guardian struct {
	events  chan<- string
	workers map[actor.PID]string
}

func (g *guardian) Init(p *actor.Process) error {
	g.workers = make(map[actor.PID]string)
	for _, name := range []string{"left", "right"} {
		if err := g.start(p, name); err != nil {
			return err
		}
	}
	return nil
}

func (g *guardian) start(p *actor.Process, name string) error {
	pid, err := p.Spawn(actor.Server(&counter{}), actor.WithLink(), actor.WithName(name))
	if err != nil {
		return err
	}
	g.workers[pid] = name
	g.events <- fmt.Sprintf("guardian: started %s as %s", name, pid)
	return nil
}

func (g *guardian) Receive(p *actor.Process, msg any) error {
	exit, ok := msg.(actor.ExitMessage)
	if !ok {
		return nil
	}
	name := g.workers[exit.From]
	delete(g.workers, exit.From)
	var panicked *actor.PanicError
	if errors.As(exit.Reason, &panicked) {
		g.events <- fmt.Sprintf("guardian: %s crashed (panic: %v); restarting", name, panicked.Value)
	} else {
		g.events <- fmt.Sprintf("guardian: %s exited: %v; restarting", name, exit.Reason)
	}
	return g.start(p, name)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	node, err := actor.NewNode(actor.Config{Name: "demo@localhost"})
	if err != nil {
		return err
	}
	events := make(chan string, 64)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if _, err := node.Spawn(&guardian{events: events}, actor.WithTrapExit(), actor.WithName("guardian")); err != nil {
		return err
	}
	drain(events)

	left, _ := node.WhereIs("left")
	// A watcher monitors "left" and reports its DOWN.
	downs := make(chan actor.DownMessage, 1)
	if _, err := node.Spawn(watcher(left, downs)); err != nil {
		return err
	}

	for _, name := range []string{"left", "left", "right"} {
		n, err := node.Call(ctx, actor.Name{Name: name}, "incr")
		if err != nil {
			return err
		}
		fmt.Printf("call %s incr -> %v\n", name, n)
	}

	_, err = node.Call(ctx, actor.Name{Name: "left"}, "crash")
	fmt.Printf("call left crash -> error: %v\n", shortError(err))
	down := <-downs
	fmt.Printf("watcher: DOWN from %s, reason: %v\n", down.PID, shortError(down.Reason))
	fmt.Println(<-events)
	fmt.Println(<-events)

	// The restarted counter has a new PID, starts from zero, and the old PID is dead.
	n, err := node.Call(ctx, actor.Name{Name: "left"}, "incr")
	if err != nil {
		return err
	}
	fmt.Printf("call left incr -> %v (a fresh process)\n", n)
	_, err = node.Call(ctx, left, "incr")
	fmt.Printf("call old left %s -> error: %v\n", left, err)

	if err := node.Stop(ctx); err != nil {
		return err
	}
	fmt.Println("node stopped; processes left:", len(node.Processes()))
	return nil
}

func watcher(target actor.PID, downs chan<- actor.DownMessage) actor.Behavior {
	return watchFunc{target: target, downs: downs}
}

type watchFunc struct {
	target actor.PID
	downs  chan<- actor.DownMessage
}

func (w watchFunc) Init(p *actor.Process) error {
	p.Monitor(w.target)
	return nil
}

func (w watchFunc) Receive(p *actor.Process, msg any) error {
	if d, ok := msg.(actor.DownMessage); ok {
		w.downs <- d
	}
	return nil
}

func drain(events <-chan string) {
	for {
		select {
		case e := <-events:
			fmt.Println(e)
		default:
			return
		}
	}
}

// shortError drops the panic stack from a crash reason.
func shortError(err error) string {
	var panicked *actor.PanicError
	if errors.As(err, &panicked) {
		var exit *actor.ExitError
		if errors.As(err, &exit) {
			return fmt.Sprintf("%s exited: panic: %v", exit.PID, panicked.Value)
		}
		return fmt.Sprintf("panic: %v", panicked.Value)
	}
	return err.Error()
}
