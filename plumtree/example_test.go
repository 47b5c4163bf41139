package plumtree_test

import (
	"fmt"
	"time"

	"github.com/gotp-dev/gotp/plumtree"
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
