// Command rafted runs a 3-member rafted group across three nodes connected
// by gotp's in-memory network, kills the leader, and shows that commands
// carry on once the survivors elect a new one.
package main

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/rafted"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// counter is the replicated value: commands add to it, queries read it.
type counter struct{ n int64 }

func (c *counter) Command(arg any) any { c.n += arg.(int64); return c.n }
func (c *counter) Query(any) any       { return c.n }

func (c *counter) Snapshot() ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(c.n)
	return b.Bytes(), err
}

func (c *counter) Restore(b []byte) error { return gob.NewDecoder(bytes.NewReader(b)).Decode(&c.n) }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	network := transport.NewNetwork(1)
	names := []string{"a", "b", "c"}
	nodes := map[string]*actor.Node{}
	for _, name := range names {
		n, err := actor.NewNode(actor.Config{Name: name})
		if err != nil {
			return err
		}
		r, err := remote.Start(n, remote.Config{
			Cookie:    "example",
			Transport: network.Transport(name),
			Listen:    []string{name},
			Resolve:   func(_ context.Context, node string) ([]string, error) { return []string{node}, nil },
		})
		if err != nil {
			return err
		}
		defer n.Stop(context.Background())
		defer r.Stop()
		nodes[name] = n
	}
	newData := func() rafted.Data { return &counter{} }
	// Short timings so the failover shows within a second.
	cfg := rafted.Config{HeartbeatInterval: 50 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond}
	first, err := rafted.Start(ctx, nodes["a"], rafted.Options{NewData: newData, Create: &cfg, Name: "counter"})
	if err != nil {
		return err
	}
	members := map[string]actor.PID{"a": first.PID}
	for _, name := range names[1:] {
		m, err := rafted.Start(ctx, nodes[name], rafted.Options{NewData: newData, Join: []rafted.Server{first.Server()}, Name: "counter"})
		if err != nil {
			return err
		}
		members[name] = m.PID
	}
	client := nodes["c"] // the client runs on node c and reaches members by name
	leader := "a"
	command := func(id string) (any, error) {
		for {
			ret, err := rafted.Command(ctx, client, rafted.ByName(leader, "counter"), int64(1), id)
			var nl rafted.NotLeaderError
			switch {
			case err == nil:
				return ret, nil
			case errors.As(err, &nl) && !nl.Leader.IsZero():
				if nl.Leader.Node == leader {
					time.Sleep(50 * time.Millisecond) // a stale leader: wait for the election
				}
				leader = nl.Leader.Node
			case ctx.Err() != nil:
				return nil, err
			default: // leader gone, none elected yet: try the next node
				leader = names[(indexOf(names, leader)+1)%len(names)]
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	for i := range 3 {
		ret, err := command(fmt.Sprint("cmd-", i))
		if err != nil {
			return err
		}
		fmt.Printf("command %d on leader %s -> %v\n", i, leader, ret)
	}
	st, err := rafted.GetStatus(ctx, client, rafted.ByName("a", "counter"))
	if err != nil {
		return err
	}
	fmt.Printf("status: %d members, leader %v, term %d\n", len(st.Members), st.Leader, st.CurrentTerm)

	fmt.Printf("killing the leader on node %s\n", leader)
	if err := nodes[leader].Exit(members[leader], actor.Kill); err != nil {
		return err
	}
	start := time.Now()
	for i := 3; i < 6; i++ {
		ret, err := command(fmt.Sprint("cmd-", i))
		if err != nil {
			return err
		}
		fmt.Printf("command %d on leader %s -> %v\n", i, leader, ret)
	}
	fmt.Printf("commands resumed %v after the leader died\n", time.Since(start).Round(10*time.Millisecond))
	// A retried command id is answered from the replicated result cache.
	ret, err := command("cmd-5")
	if err != nil {
		return err
	}
	fmt.Printf("retried cmd-5 -> %v (not applied twice)\n", ret)
	return nil
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return 0
}
