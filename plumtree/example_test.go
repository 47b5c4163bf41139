package plumtree_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/plumtree"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// Driving the pure core by hand: a broadcast from a, a duplicate at c
// that prunes the redundant link, and c's tree for root a afterwards.
func ExampleCore() {
	now := time.Unix(0, 0)
	members := []string{"a", "b", "c"}
	a, _ := plumtree.NewCore("a", plumtree.CoreConfig{Eagers: []string{"b", "c"}}, members)
	c, _ := plumtree.NewCore("c", plumtree.CoreConfig{Eagers: []string{"a", "b"}}, members)

	for _, e := range a.Broadcast("h", "m1", "hello", now) {
		fmt.Println("a:", e)
	}
	// c gets m1 from a first (fresh: the handler's Merge said so) ...
	for _, e := range c.Handle("a", &plumtree.Broadcast{ID: "m1", Payload: "hello", Handler: "h", Root: "a"}, plumtree.Verdict{Fresh: true}, now) {
		fmt.Println("c:", e)
	}
	// ... and again from b: a duplicate, so the link from b is pruned.
	for _, e := range c.Handle("b", &plumtree.Broadcast{ID: "m1", Payload: "hello", Handler: "h", Round: 1, Root: "a"}, plumtree.Verdict{}, now) {
		fmt.Println("c:", e)
	}
	eagers, lazys := c.Peers("a")
	fmt.Println("c's tree for root a: eager", eagers, "lazy", lazys)
	// Output:
	// a: send b *plumtree.Broadcast&{ID:m1 Payload:hello Handler:h Round:0 Root:a}
	// a: send c *plumtree.Broadcast&{ID:m1 Payload:hello Handler:h Round:0 Root:a}
	// c: send b *plumtree.Broadcast&{ID:m1 Payload:hello Handler:h Round:1 Root:a}
	// c: send b *plumtree.Prune&{Root:a Handler:h}
	// c's tree for root a: eager [a] lazy [b]
}

// Announcement is what the application hands to Server.Broadcast.
type Announcement struct {
	ID, Text string
}

// announcements is a broadcast handler (a partisan_plumtree_broadcast_handler
// module): it keeps every announcement it has seen, by id, and tells the
// application about the new ones.
type announcements struct {
	mu       sync.Mutex
	seen     map[string]string
	received func(id, text string)
}

var _ plumtree.Handler = (*announcements)(nil)

func (h *announcements) Name() string { return "announcements" }

// BroadcastData: broadcast_data/1, the message's id and payload. The
// origin stores it as well, so that it can answer grafts.
func (h *announcements) BroadcastData(msg any) (id, payload any, err error) {
	a, ok := msg.(Announcement)
	if !ok {
		return nil, nil, fmt.Errorf("not an Announcement: %T", msg)
	}
	h.mu.Lock()
	h.seen[a.ID] = a.Text
	h.mu.Unlock()
	return a.ID, a.Text, nil
}

// Merge: merge/2, true when the payload is new here.
func (h *announcements) Merge(id, payload any) bool {
	h.mu.Lock()
	if _, dup := h.seen[id.(string)]; dup {
		h.mu.Unlock()
		return false
	}
	h.seen[id.(string)] = payload.(string)
	h.mu.Unlock()
	h.received(id.(string), payload.(string))
	return true
}

// IsStale: is_stale/1.
func (h *announcements) IsStale(id any) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.seen[id.(string)]
	return ok
}

// Graft: graft/1, the payload for a node that missed it.
func (h *announcements) Graft(id any) (any, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if text, ok := h.seen[id.(string)]; ok {
		return text, nil
	}
	return nil, fmt.Errorf("no announcement %v", id)
}

// Exchange: exchange/1. This handler keeps no history to compare.
func (h *announcements) Exchange(p *actor.Process, peer string) (actor.PID, error) {
	return actor.PID{}, plumtree.ErrIgnore
}

// A handler of one's own on three nodes: a broadcast from one is merged by
// the handlers of the others, each exactly once.
func ExampleHandler() {
	ctx := context.Background()
	net := transport.NewNetwork(1)
	members := []string{"a", "b", "c"}
	delivered := make(chan string, 8)
	servers := map[string]*plumtree.Server{}
	for _, name := range members {
		node, _ := actor.NewNode(actor.Config{Name: name})
		defer node.Stop(ctx)
		r, _ := remote.Start(node, remote.Config{Cookie: "secret", Transport: net.Transport(name), Listen: []string{name},
			Resolve: func(_ context.Context, node string) ([]string, error) { return []string{node}, nil }})
		defer r.Stop()
		h := &announcements{seen: map[string]string{}, received: func(id, text string) {
			delivered <- fmt.Sprintf("%s got %s: %s", name, id, text)
		}}
		// Members given and no peer service (nil): a static cluster. With a
		// peer service, pass it instead and leave Members out.
		srv, err := plumtree.Start(node, nil, plumtree.Config{Handlers: []plumtree.Handler{h},
			Members: members, NoMembershipUpdates: true})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer srv.Stop(ctx)
		servers[name] = srv
	}

	if err := servers["a"].Broadcast(Announcement{ID: "a/1", Text: "deploy at noon"}, "announcements"); err != nil {
		fmt.Println(err)
		return
	}
	got := []string{<-delivered, <-delivered}
	slices.Sort(got)
	for _, line := range got {
		fmt.Println(line)
	}
	members, _ = servers["c"].BroadcastMembers(ctx)
	fmt.Println("members:", members)
	// Output:
	// b got a/1: deploy at noon
	// c got a/1: deploy at noon
	// members: [a b c]
}
