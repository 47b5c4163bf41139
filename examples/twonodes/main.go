// Command twonodes runs two nodes in one program, connected over loopback TCP:
// node "shop" serves a stock counter; node "till" calls it by name, monitors
// it, and then sees the node go away.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
)

// stock is a gen_server counting items left.
type stock struct{ left int64 }

func (s *stock) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	switch req {
	case "take":
		if s.left == 0 {
			return errors.New("sold out"), nil
		}
		s.left--
		return s.left, nil
	case "where":
		return p.Self(), nil
	}
	return fmt.Errorf("unknown request %v", req), nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "twonodes:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const cookie = "example-cookie"

	shop, shopRemote, err := startNode("shop", cookie)
	if err != nil {
		return err
	}
	till, tillRemote, err := startNode("till", cookie)
	if err != nil {
		return err
	}
	defer tillRemote.Stop()
	if _, err := shop.Spawn(actor.Server(&stock{left: 2}), actor.WithName("stock")); err != nil {
		return err
	}
	fmt.Printf("shop listens on %s; till connects\n", shopRemote.Addrs()[0])
	if err := tillRemote.Connect(ctx, shopRemote.Spec()); err != nil {
		return err
	}

	counter := actor.Name{Node: "shop", Name: "stock"}
	for range 3 {
		left, err := till.Call(ctx, counter, "take")
		if err != nil {
			fmt.Printf("till: take -> error: %v\n", err)
			continue
		}
		fmt.Printf("till: take -> %v left\n", left)
	}

	where, err := till.Call(ctx, counter, "where")
	if err != nil {
		return err
	}
	// A process on till monitors the remote counter and the shop node.
	events := make(chan string, 4)
	_, err = till.Spawn(watcher{target: where.(actor.PID), events: events})
	if err != nil {
		return err
	}
	<-events // monitoring

	fmt.Println("shop goes offline")
	shopRemote.Stop()
	fmt.Println(<-events)
	fmt.Println(<-events)

	_, err = till.Call(ctx, where.(actor.PID), "take")
	fmt.Printf("till: take after the shop left -> error: %v\n", err)
	if err := shop.Stop(ctx); err != nil {
		return err
	}
	return till.Stop(ctx)
}

func startNode(name, cookie string) (*actor.Node, *remote.Remote, error) {
	n, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		return nil, nil, err
	}
	r, err := remote.Start(n, remote.Config{Cookie: cookie, Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		return nil, nil, err
	}
	return n, r, nil
}

// watcher monitors a process and its node and reports what it hears.
type watcher struct {
	target actor.PID
	events chan<- string
}

func (w watcher) Init(p *actor.Process) error {
	p.Monitor(w.target)
	p.MonitorNode(w.target.Node)
	w.events <- "monitoring"
	return nil
}

func (w watcher) Receive(p *actor.Process, msg any) error {
	switch m := msg.(type) {
	case actor.DownMessage:
		w.events <- fmt.Sprintf("till: DOWN for the counter %s, reason: %v", m.PID, m.Reason)
	case actor.NodeDownMessage:
		w.events <- fmt.Sprintf("till: node %s is down", m.Node)
	}
	return nil
}
