// Command ensemble runs the ensemble service on six nodes connected by
// gotp's in-memory network: five host ten ensembles of three peers, the
// sixth hosts none and runs the client. Mid-traffic the node that leads the
// first ensemble is killed; the writes go on through the new leaders, and
// at the end every acknowledged write is read back.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/ensemble"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

type node struct {
	n   *actor.Node
	r   *remote.Remote
	svc *ensemble.Service
}

func run() error {
	network := transport.NewNetwork(1)
	// Faster than the defaults so that the example takes seconds.
	cfg := ensemble.Config{Tick: 100 * time.Millisecond, FollowerTimeout: 600 * time.Millisecond, Lease: 150 * time.Millisecond}
	names := []string{"n1", "n2", "n3", "n4", "n5", "client"}
	nodes := map[string]*node{}
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
		svc, err := ensemble.Start(n, nil, cfg)
		if err != nil {
			return err
		}
		nodes[name] = &node{n, r, svc}
	}
	defer func() {
		for _, nd := range nodes {
			nd.r.Stop()
			_ = nd.n.Stop(context.Background())
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := nodes["n1"].svc.Enable(ctx); err != nil {
		return err
	}
	for _, name := range names[1:] {
		if err := nodes[name].svc.Join(ctx, "n1"); err != nil {
			return fmt.Errorf("join %s: %w", name, err)
		}
	}
	var ids []string
	for i := range 10 {
		id := fmt.Sprintf("ens%d", i)
		peers := []string{names[i%5], names[(i+1)%5], names[(i+2)%5]}
		if err := nodes["n1"].svc.CreateEnsemble(ctx, id, peers, ensemble.MemoryBackend); err != nil {
			return err
		}
		ids = append(ids, id)
	}
	client := nodes["client"].svc
	for _, id := range ids {
		for {
			if _, ok := client.GetLeader(id); ok {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	victim, _ := client.GetLeader("ens0")
	fmt.Printf("10 ensembles up; ens0 is led by %s\n", victim)

	// Writers: each write has its own key, so each acknowledged one must
	// be read back with its value.
	var mu sync.Mutex
	acked := map[[2]string]string{}
	unknown := 0
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := ids[(w+i)%len(ids)]
				key, value := fmt.Sprintf("w%d-%d", w, i), fmt.Sprintf("v%d", i)
				wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
				_, err := client.Client().KOver(wctx, id, key, []byte(value))
				wcancel()
				mu.Lock()
				if err == nil {
					acked[[2]string{id, key}] = value
				} else {
					unknown++
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(time.Second)
	fmt.Printf("killing %s mid-traffic\n", victim)
	nodes[victim].r.Stop()
	_ = nodes[victim].n.Stop(context.Background())
	delete(nodes, victim)
	time.Sleep(4 * time.Second)
	close(stop)
	wg.Wait()
	if next, ok := client.GetLeader("ens0"); ok {
		fmt.Printf("ens0 is now led by %s\n", next)
	}

	lost := 0
	for k, want := range acked {
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		obj, err := client.Client().KGet(rctx, k[0], k[1])
		rcancel()
		if err != nil || string(obj.Value) != want {
			lost++
			fmt.Printf("lost %s/%s: %q, %v\n", k[0], k[1], obj.Value, err)
		}
	}
	fmt.Printf("%d writes acknowledged, %d timed out during the failover, %d lost\n", len(acked), unknown, lost)
	if lost > 0 {
		return errors.New("acknowledged writes lost")
	}
	return nil
}
