// Command plumtree runs a four-node cluster in one process over loopback
// TCP, each node with a replicated metadata store on a Plumtree broadcast
// server: every node writes a key, every node sees every key; one node
// overwrites another's key and the last write wins everywhere; then a node
// is stopped and the others keep replicating among themselves.
package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/plumtree"
	"github.com/gotp-dev/gotp/plumtree/metadata"
	"github.com/gotp-dev/gotp/remote"
)

type member struct {
	name  string
	node  *actor.Node
	svc   *peerservice.Service
	srv   *plumtree.Server
	store *metadata.Store
}

// changes collects every change any store reports, for waiting on.
type changes struct {
	mu   sync.Mutex
	seen map[string]map[string]string // node -> key -> value
	wake chan struct{}
}

func (c *changes) record(node, key string, value []byte, deleted bool) {
	c.mu.Lock()
	if c.seen[node] == nil {
		c.seen[node] = map[string]string{}
	}
	if deleted {
		delete(c.seen[node], key)
	} else {
		c.seen[node][key] = string(value)
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// await returns once every node in nodes holds key = value.
func (c *changes) await(ctx context.Context, nodes []*member, key, value string) error {
	for {
		c.mu.Lock()
		done := true
		for _, m := range nodes {
			if c.seen[m.name][key] != value {
				done = false
			}
		}
		c.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-c.wake:
		case <-ctx.Done():
			return fmt.Errorf("%s = %s did not reach every node: %w", key, value, ctx.Err())
		}
	}
}

func start(name string, ch *changes) (*member, error) {
	node, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		return nil, err
	}
	svc, err := peerservice.StartNode(node, remote.Config{Cookie: "example-cookie", Listen: []string{"127.0.0.1:0"}},
		peerservice.Config{HeartbeatInterval: 100 * time.Millisecond, GossipInterval: 100 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	store, err := metadata.Start(node, metadata.Config{OnChange: func(k string, v []byte, del bool) { ch.record(name, k, v, del) }})
	if err != nil {
		return nil, err
	}
	return &member{name: name, node: node, svc: svc, store: store}, nil
}

func (m *member) startBroadcast() error {
	srv, err := plumtree.Start(m.node, m.svc, plumtree.Config{
		Handlers:           []plumtree.Handler{m.store},
		LazyTickPeriod:     100 * time.Millisecond,
		ExchangeTickPeriod: time.Second,
	})
	if err != nil {
		return err
	}
	m.srv = srv
	m.store.Bind(srv)
	return nil
}

func (m *member) stop() {
	if m.srv != nil {
		_ = m.srv.Stop(context.Background())
	}
	_ = m.store.Stop(context.Background())
	_ = m.svc.Stop(context.Background())
	_ = m.node.Stop(context.Background())
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ch := &changes{seen: map[string]map[string]string{}, wake: make(chan struct{}, 1)}
	var members []*member
	for _, name := range []string{"a", "b", "c", "d"} {
		m, err := start(name, ch)
		if err != nil {
			return err
		}
		defer m.stop()
		members = append(members, m)
	}
	for _, m := range members[1:] {
		if err := m.svc.SyncJoin(ctx, members[0].svc.Myself()); err != nil {
			return err
		}
	}
	for _, m := range members {
		if err := m.startBroadcast(); err != nil {
			return err
		}
	}
	// The servers take the membership from the peer service; wait until
	// every one knows all four.
	for _, m := range members {
		for {
			got, err := m.srv.BroadcastMembers(ctx)
			if err != nil {
				return err
			}
			if len(got) == len(members) {
				break
			}
			select {
			case <-time.After(50 * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}

	for _, m := range members {
		if err := m.store.Put("owner/"+m.name, []byte("written by "+m.name)); err != nil {
			return err
		}
	}
	for _, m := range members {
		if err := ch.await(ctx, members, "owner/"+m.name, "written by "+m.name); err != nil {
			return err
		}
	}
	fmt.Println("every node holds", members[2].store.Keys())

	if err := members[3].store.Put("owner/a", []byte("taken over by d")); err != nil {
		return err
	}
	if err := ch.await(ctx, members, "owner/a", "taken over by d"); err != nil {
		return err
	}
	v, _ := members[0].store.Get("owner/a")
	fmt.Printf("a reads owner/a = %q (the last write wins)\n", v)

	members[1].stop()
	fmt.Println("b stopped")
	rest := []*member{members[0], members[2], members[3]}
	if err := members[2].store.Put("after/b", []byte("still replicating")); err != nil {
		return err
	}
	if err := ch.await(ctx, rest, "after/b", "still replicating"); err != nil {
		return err
	}
	v, _ = members[3].store.Get("after/b")
	fmt.Printf("d reads after/b = %q\n", v)
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "plumtree example:", err)
		os.Exit(1)
	}
}
