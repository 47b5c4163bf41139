package plumtree_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/plumtree"
)

var t0 = time.Unix(1_700_000_000, 0)

func newCore(t *testing.T, self string, cfg plumtree.CoreConfig, members ...string) *plumtree.Core {
	t.Helper()
	c, err := plumtree.NewCore(self, cfg, members)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sends renders the send effects as "to:Type" strings.
func sends(effects []plumtree.Effect) []string {
	var out []string
	for _, e := range effects {
		if e.Kind == plumtree.EffectSend {
			out = append(out, fmt.Sprintf("%s:%T", e.To, e.Msg))
		}
	}
	return out
}

func wantSends(t *testing.T, effects []plumtree.Effect, want ...string) {
	t.Helper()
	if got := sends(effects); !slices.Equal(got, want) {
		t.Fatalf("sends %v, want %v", got, want)
	}
}

func wantPeers(t *testing.T, c *plumtree.Core, root string, eagers, lazys []string) {
	t.Helper()
	e, l := c.Peers(root)
	if !slices.Equal(e, eagers) || !slices.Equal(l, lazys) {
		t.Fatalf("peers of %s for root %s: eager %v lazy %v, want eager %v lazy %v", c.Self(), root, e, l, eagers, lazys)
	}
}

func TestInitPeers(t *testing.T) {
	for _, tc := range []struct {
		n, eagers, lazys int
	}{{1, 0, 0}, {2, 1, 0}, {3, 1, 1}, {4, 1, 1}, {5, 2, 1}, {9, 2, 1}, {10, 3, 1}, {50, 5, 1}, {1000, 8, 1}} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			var members []string
			for i := range tc.n {
				members = append(members, fmt.Sprintf("m%04d", i))
			}
			covered := map[string]bool{}
			for _, self := range members {
				e, l := plumtree.InitPeers(self, members, rand.New(rand.NewPCG(1, 2)))
				// A node's own name can fall into its slice of a small
				// tree; it is dropped, so a node may have one eager peer
				// fewer.
				if len(e) > tc.eagers || len(e) < tc.eagers-1 || len(l) != tc.lazys {
					t.Fatalf("%s: %d eagers %d lazys, want %d and %d", self, len(e), len(l), tc.eagers, tc.lazys)
				}
				for _, p := range e {
					if p == self || slices.Contains(l, p) {
						t.Fatalf("%s: eager %v lazy %v", self, e, l)
					}
					covered[p] = true
				}
			}
			// The eager sets together reach every node (the tree has cycles).
			if tc.n > 1 && len(covered) != tc.n {
				t.Fatalf("eager sets cover %d of %d nodes", len(covered), tc.n)
			}
		})
	}
}

func TestBroadcastPushesEagerAndSchedulesLazy(t *testing.T) {
	c := newCore(t, "a", plumtree.CoreConfig{Eagers: []string{"b", "c"}, Lazys: []string{"d"}}, "a", "b", "c", "d")
	eff := c.Broadcast("h", "m1", "payload", t0)
	wantSends(t, eff, "b:*plumtree.Broadcast", "c:*plumtree.Broadcast")
	if m := eff[0].Msg.(*plumtree.Broadcast); m.Round != 0 || m.Root != "a" || m.Payload != "payload" || m.Handler != "h" {
		t.Fatalf("broadcast %+v", m)
	}
	if got := c.Outstanding("d"); len(got) != 1 || got[0].ID != "m1" || got[0].Round != 0 {
		t.Fatalf("outstanding to d: %+v", got)
	}
	// The lazy push goes out at the tick, not before.
	wantSends(t, c.LazyTick(t0), "d:*plumtree.IHave")
}

func TestLazyImmediate(t *testing.T) {
	c := newCore(t, "a", plumtree.CoreConfig{Eagers: []string{"b"}, Lazys: []string{"c"}, LazyMode: plumtree.LazyImmediate}, "a", "b", "c")
	wantSends(t, c.Broadcast("h", 1, nil, t0), "b:*plumtree.Broadcast", "c:*plumtree.IHave")
	// Still outstanding until acknowledged.
	wantSends(t, c.LazyTick(t0), "c:*plumtree.IHave")
}

func TestFreshBroadcastForwardsAndMakesSenderEager(t *testing.T) {
	c := newCore(t, "b", plumtree.CoreConfig{Eagers: []string{"c", "d"}, Lazys: []string{"a", "e"}}, "a", "b", "c", "d", "e")
	eff := c.Handle("a", &plumtree.Broadcast{ID: 1, Payload: "x", Handler: "h", Round: 3, Root: "r"}, plumtree.Verdict{Fresh: true}, t0)
	// a was lazy here: it is told to take this node eager again (see
	// TestCrossedPruneRestoresLink), then the payload goes on.
	wantSends(t, eff, "a:*plumtree.Graft", "c:*plumtree.Broadcast", "d:*plumtree.Broadcast")
	if g := eff[0].Msg.(*plumtree.Graft); !g.Optimize || g.Root != "r" {
		t.Fatalf("link restore %+v", g)
	}
	if m := eff[1].Msg.(*plumtree.Broadcast); m.Round != 4 || m.Root != "r" {
		t.Fatalf("forwarded %+v", m)
	}
	wantPeers(t, c, "r", []string{"a", "c", "d"}, []string{"e"})
	if got := c.Outstanding("e"); len(got) != 1 || got[0].Round != 4 {
		t.Fatalf("outstanding to e: %+v", got)
	}
	if got := c.Outstanding("a"); got != nil {
		t.Fatalf("lazy push scheduled back to the sender: %+v", got)
	}
	// Other trees keep the common sets.
	wantPeers(t, c, "other", []string{"c", "d"}, []string{"a", "e"})
}

func TestDuplicateBroadcastPrunes(t *testing.T) {
	b := newCore(t, "b", plumtree.CoreConfig{Eagers: []string{"a", "c"}}, "a", "b", "c")
	eff := b.Handle("c", &plumtree.Broadcast{ID: 1, Handler: "h", Root: "a"}, plumtree.Verdict{Fresh: false}, t0)
	wantSends(t, eff, "c:*plumtree.Prune")
	if p := eff[0].Msg.(*plumtree.Prune); p.Root != "a" || p.Handler != "h" {
		t.Fatalf("prune %+v", p)
	}
	wantPeers(t, b, "a", []string{"a"}, []string{"c"})

	// The pruned sender moves the pruner to its lazy set for that root only.
	c := newCore(t, "c", plumtree.CoreConfig{Eagers: []string{"a", "b"}}, "a", "b", "c")
	wantSends(t, c.Handle("b", &plumtree.Prune{Root: "a", Handler: "h"}, plumtree.Verdict{}, t0))
	wantPeers(t, c, "a", []string{"a"}, []string{"b"})
	wantPeers(t, c, "c", []string{"a", "b"}, nil)
}

func TestIHave(t *testing.T) {
	c := newCore(t, "b", plumtree.CoreConfig{Eagers: []string{"c"}, Lazys: []string{"a"}}, "a", "b", "c")
	ih := &plumtree.IHave{ID: 9, Handler: "h", Round: 2, Root: "r"}
	// Already have it: ignored, and the link stays lazy.
	eff := c.Handle("a", ih, plumtree.Verdict{Stale: true}, t0)
	wantSends(t, eff, "a:*plumtree.IgnoredIHave")
	if m := eff[0].Msg.(*plumtree.IgnoredIHave); m.ID != 9 || m.Round != 2 || m.Root != "r" {
		t.Fatalf("ignored %+v", m)
	}
	wantPeers(t, c, "r", []string{"c"}, []string{"a"})
	// Missing: grafted at once, and the announcer's link becomes eager.
	eff = c.Handle("a", ih, plumtree.Verdict{Stale: false}, t0)
	wantSends(t, eff, "a:*plumtree.Graft")
	if m := eff[0].Msg.(*plumtree.Graft); m.ID != 9 || m.Round != 2 || m.Root != "r" || m.Optimize {
		t.Fatalf("graft %+v", m)
	}
	wantPeers(t, c, "r", []string{"a", "c"}, nil)
}

func TestOutstandingUntilAcked(t *testing.T) {
	a := newCore(t, "a", plumtree.CoreConfig{Eagers: []string{"b"}, Lazys: []string{"c", "d"}}, "a", "b", "c", "d")
	a.Broadcast("h", 1, "one", t0)
	a.Broadcast("h", 2, "two", t0)
	wantSends(t, a.LazyTick(t0), "c:*plumtree.IHave", "c:*plumtree.IHave", "d:*plumtree.IHave", "d:*plumtree.IHave")
	// Re-sent every tick until acknowledged.
	wantSends(t, a.LazyTick(t0), "c:*plumtree.IHave", "c:*plumtree.IHave", "d:*plumtree.IHave", "d:*plumtree.IHave")
	// An IgnoredIHave acknowledges one.
	a.Handle("c", &plumtree.IgnoredIHave{ID: 1, Handler: "h", Round: 0, Root: "a"}, plumtree.Verdict{}, t0)
	// An ack with another round acknowledges nothing.
	a.Handle("c", &plumtree.IgnoredIHave{ID: 2, Handler: "h", Round: 5, Root: "a"}, plumtree.Verdict{}, t0)
	eff := a.LazyTick(t0)
	wantSends(t, eff, "c:*plumtree.IHave", "d:*plumtree.IHave", "d:*plumtree.IHave")
	if eff[0].Msg.(*plumtree.IHave).ID != 2 {
		t.Fatalf("left outstanding to c: %+v", eff[0].Msg)
	}
	// A graft answered with the payload does not acknowledge (the payload
	// may be lost); its later IgnoredIHave does. A stale graft does.
	eff = a.Handle("d", &plumtree.Graft{ID: 1, Handler: "h", Round: 0, Root: "a"}, plumtree.Verdict{Graft: plumtree.GraftResult{Status: plumtree.GraftOK, Payload: "one"}}, t0)
	wantSends(t, eff, "d:*plumtree.Broadcast")
	if m := eff[0].Msg.(*plumtree.Broadcast); m.Payload != "one" || m.Round != 0 || m.Root != "a" {
		t.Fatalf("graft answer %+v", m)
	}
	wantPeers(t, a, "a", []string{"b", "d"}, []string{"c"})
	a.Handle("d", &plumtree.Graft{ID: 2, Handler: "h", Round: 0, Root: "a"}, plumtree.Verdict{Graft: plumtree.GraftResult{Status: plumtree.GraftStale}}, t0)
	wantSends(t, a.LazyTick(t0), "c:*plumtree.IHave", "d:*plumtree.IHave")
	// A graft the handler cannot answer sends nothing and acknowledges nothing.
	wantSends(t, a.Handle("c", &plumtree.Graft{ID: 2, Handler: "h", Round: 0, Root: "a"}, plumtree.Verdict{Graft: plumtree.GraftResult{Status: plumtree.GraftError}}, t0))
	a.Handle("d", &plumtree.IgnoredIHave{ID: 1, Handler: "h", Round: 0, Root: "a"}, plumtree.Verdict{}, t0)
	wantSends(t, a.LazyTick(t0), "c:*plumtree.IHave")
	if got := a.Outstanding("d"); got != nil {
		t.Fatalf("outstanding to d after acks: %+v", got)
	}
}

func TestUpdateRewires(t *testing.T) {
	a := newCore(t, "a", plumtree.CoreConfig{Eagers: []string{"b"}, Lazys: []string{"c"}}, "a", "b", "c", "d")
	a.Handle("d", &plumtree.Broadcast{ID: 1, Handler: "h", Root: "d"}, plumtree.Verdict{Fresh: true}, t0)
	a.Handle("b", &plumtree.Prune{Root: "d", Handler: "h"}, plumtree.Verdict{}, t0)
	wantPeers(t, a, "d", []string{"d"}, []string{"b", "c"})
	if len(a.Outstanding("c")) != 1 {
		t.Fatal("no lazy push to c")
	}
	// A removed member leaves every set and its outstanding pushes go.
	a.Update([]string{"a", "b", "d"}, t0)
	if got := a.Members(); !slices.Equal(got, []string{"a", "b", "d"}) {
		t.Fatalf("members %v", got)
	}
	wantPeers(t, a, "d", []string{"d"}, []string{"b"})
	wantPeers(t, a, "a", []string{"b"}, nil)
	if got := a.Outstanding("c"); got != nil {
		t.Fatalf("outstanding to a removed member: %+v", got)
	}
	// A new member is eager in every tree, and per-root trees start over
	// from the common sets.
	a.Update([]string{"a", "b", "d", "e"}, t0)
	wantPeers(t, a, "d", []string{"b", "e"}, nil)
	wantPeers(t, a, "a", []string{"b", "e"}, nil)
	// The same membership again changes nothing.
	a.Handle("b", &plumtree.Prune{Root: "a", Handler: "h"}, plumtree.Verdict{}, t0)
	a.Update([]string{"e", "d", "b"}, t0)
	wantPeers(t, a, "a", []string{"e"}, []string{"b"})
}

func TestExchangeLimitAndRoundRobin(t *testing.T) {
	c := newCore(t, "a", plumtree.CoreConfig{Handlers: []string{"y", "x"}, StartExchangeLimit: 2, Eagers: []string{"b"}}, "a", "b", "c")
	if eff := newCore(t, "a", plumtree.CoreConfig{}, "a", "b").ExchangeTick(t0); eff != nil {
		t.Fatalf("exchange without handlers: %v", eff)
	}
	e1 := c.ExchangeTick(t0)
	e2 := c.ExchangeTick(t0)
	if len(e1) != 1 || len(e2) != 1 || e1[0].Kind != plumtree.EffectStartExchange {
		t.Fatalf("exchanges %v %v", e1, e2)
	}
	if e1[0].Handler != "x" || e2[0].Handler != "y" {
		t.Fatalf("handlers %s then %s, want x then y (sorted, round robin)", e1[0].Handler, e2[0].Handler)
	}
	// At the limit: nothing.
	if eff := c.ExchangeTick(t0); eff != nil {
		t.Fatalf("exchange over the limit: %v", eff)
	}
	if got := c.Exchanges(); len(got) != 2 {
		t.Fatalf("running %v", got)
	}
	// One ends: the next tick starts one for that handler, skipping the one
	// still running.
	c.ExchangeEnded(e2[0].Exchange)
	e3 := c.ExchangeTick(t0)
	if len(e3) != 1 || e3[0].Handler != "y" {
		t.Fatalf("after y ended: %v", e3)
	}
	// Limit 1 (the default): one at a time.
	d := newCore(t, "a", plumtree.CoreConfig{Handlers: []string{"x", "y"}}, "a", "b")
	if len(d.ExchangeTick(t0)) != 1 || d.ExchangeTick(t0) != nil {
		t.Fatal("default limit is not 1")
	}
}

func TestExchangeSelection(t *testing.T) {
	members := []string{"a", "b", "c", "d", "e"}
	count := func(sel plumtree.ExchangeSelection) map[string]int {
		c := newCore(t, "a", plumtree.CoreConfig{Handlers: []string{"h"}, ExchangeSelection: sel, Eagers: []string{"b", "c"}, Lazys: []string{"d"}}, members...)
		got := map[string]int{}
		for range 200 {
			eff := c.ExchangeTick(t0)
			if len(eff) != 1 {
				t.Fatalf("tick %v", eff)
			}
			if eff[0].Peer == "a" {
				t.Fatal("exchange with itself")
			}
			got[eff[0].Peer]++
			c.ExchangeEnded(eff[0].Exchange)
		}
		return got
	}
	// Optimized: only e is outside the tree of every root.
	if got := count(plumtree.ExchangeOptimized); got["e"] != 200 {
		t.Fatalf("optimized picked %v, want only e", got)
	}
	// Normal: anyone but itself.
	if got := count(plumtree.ExchangeNormal); len(got) != 4 {
		t.Fatalf("normal picked %v, want all four others", got)
	}
	// Optimized with everyone in the tree falls back to anyone.
	c := newCore(t, "a", plumtree.CoreConfig{Handlers: []string{"h"}, Eagers: []string{"b"}}, "a", "b")
	if eff := c.ExchangeTick(t0); len(eff) != 1 || eff[0].Peer != "b" {
		t.Fatalf("fallback %v", eff)
	}
}

func TestGraftTimers(t *testing.T) {
	cfg := plumtree.CoreConfig{Eagers: []string{"e"}, Lazys: []string{"a", "b"}, GraftTimeout: 2 * time.Second, GraftRetryTimeout: time.Second}
	c := newCore(t, "x", cfg, "a", "b", "e", "x")
	ihA := &plumtree.IHave{ID: 1, Handler: "h", Round: 1, Root: "r"}
	ihB := &plumtree.IHave{ID: 1, Handler: "h", Round: 2, Root: "r"}
	eff := c.Handle("a", ihA, plumtree.Verdict{}, t0)
	if len(eff) != 1 || eff[0].Kind != plumtree.EffectArmGraftTimer || eff[0].After != 2*time.Second {
		t.Fatalf("first announcement: %v", eff)
	}
	timer1 := eff[0].Timer
	// A second announcement while the timer runs only queues.
	if eff := c.Handle("b", ihB, plumtree.Verdict{}, t0); eff != nil {
		t.Fatalf("second announcement: %v", eff)
	}
	wantPeers(t, c, "r", []string{"e"}, []string{"a", "b"})
	// timeout1: graft the first announcer, arm timeout2 for the next.
	eff = c.GraftTimeout("h", 1, timer1, t0)
	wantSends(t, eff, "a:*plumtree.Graft")
	if len(eff) != 2 || eff[1].Kind != plumtree.EffectArmGraftTimer || eff[1].After != time.Second {
		t.Fatalf("timeout1: %v", eff)
	}
	wantPeers(t, c, "r", []string{"a", "e"}, []string{"b"})
	// A stale timer does nothing.
	if eff := c.GraftTimeout("h", 1, timer1, t0); eff != nil {
		t.Fatalf("stale timer: %v", eff)
	}
	timer2 := eff[1].Timer
	eff = c.GraftTimeout("h", 1, timer2, t0)
	wantSends(t, eff, "b:*plumtree.Graft")
	if m := eff[0].Msg.(*plumtree.Graft); m.Round != 2 {
		t.Fatalf("graft of b: %+v", m)
	}
	// The message arrives: its pending timer is void.
	c.Handle("b", &plumtree.Broadcast{ID: 1, Handler: "h", Round: 2, Root: "r"}, plumtree.Verdict{Fresh: true}, t0)
	if eff := c.GraftTimeout("h", 1, eff[1].Timer, t0); eff != nil {
		t.Fatalf("timer after arrival: %v", eff)
	}

	// A message that arrives before timeout1 is never grafted.
	eff = c.Handle("a", &plumtree.IHave{ID: 2, Handler: "h", Root: "r"}, plumtree.Verdict{}, t0)
	c.Handle("e", &plumtree.Broadcast{ID: 2, Handler: "h", Root: "r"}, plumtree.Verdict{Fresh: true}, t0)
	if got := c.GraftTimeout("h", 2, eff[0].Timer, t0); got != nil {
		t.Fatalf("graft after arrival: %v", got)
	}
}

func TestOptimizationStep(t *testing.T) {
	cfg := plumtree.CoreConfig{Eagers: []string{"p"}, Lazys: []string{"q"}, OptimizationThreshold: 3}
	c := newCore(t, "x", cfg, "p", "q", "x")
	c.Handle("p", &plumtree.Broadcast{ID: 1, Handler: "h", Round: 6, Root: "r"}, plumtree.Verdict{Fresh: true}, t0)
	// A gap of 2 hops: below the threshold, only ignored.
	wantSends(t, c.Handle("q", &plumtree.IHave{ID: 1, Handler: "h", Round: 4, Root: "r"}, plumtree.Verdict{Stale: true}, t0), "q:*plumtree.IgnoredIHave")
	wantPeers(t, c, "r", []string{"p"}, []string{"q"})
	// A gap of 3: the announcer becomes eager, the eager sender lazy.
	eff := c.Handle("q", &plumtree.IHave{ID: 1, Handler: "h", Round: 3, Root: "r"}, plumtree.Verdict{Stale: true}, t0)
	wantSends(t, eff, "q:*plumtree.IgnoredIHave", "q:*plumtree.Graft", "p:*plumtree.Prune")
	if !eff[1].Msg.(*plumtree.Graft).Optimize {
		t.Fatal("optimization graft asks for the payload")
	}
	wantPeers(t, c, "r", []string{"q"}, []string{"p"})
	// Off by default.
	d := newCore(t, "x", plumtree.CoreConfig{Eagers: []string{"p"}, Lazys: []string{"q"}}, "p", "q", "x")
	d.Handle("p", &plumtree.Broadcast{ID: 1, Handler: "h", Round: 9, Root: "r"}, plumtree.Verdict{Fresh: true}, t0)
	wantSends(t, d.Handle("q", &plumtree.IHave{ID: 1, Handler: "h", Round: 0, Root: "r"}, plumtree.Verdict{Stale: true}, t0), "q:*plumtree.IgnoredIHave")
	// The receiver of an optimization graft moves the link and acknowledges.
	q := newCore(t, "q", plumtree.CoreConfig{Eagers: []string{"z"}, Lazys: []string{"x"}}, "q", "x", "z")
	q.Handle("z", &plumtree.Broadcast{ID: 1, Handler: "h", Round: 2, Root: "r"}, plumtree.Verdict{Fresh: true}, t0)
	wantSends(t, q.Handle("x", &plumtree.Graft{ID: 1, Handler: "h", Round: 3, Root: "r", Optimize: true}, plumtree.Verdict{}, t0))
	wantPeers(t, q, "r", []string{"x", "z"}, nil)
	if got := q.Outstanding("x"); got != nil {
		t.Fatalf("outstanding after optimization graft: %v", got)
	}
}

func TestCoreConfigValidation(t *testing.T) {
	for _, cfg := range []plumtree.CoreConfig{
		{StartExchangeLimit: -1},
		{GraftTimeout: -time.Second},
		{GraftTimeout: time.Nanosecond},
		{OptimizationThreshold: -1},
		{ExchangeSelection: 9},
		{LazyMode: 9},
	} {
		if _, err := plumtree.NewCore("a", cfg, nil); !errors.Is(err, plumtree.ErrInvalidConfig) {
			t.Errorf("%+v: %v, want ErrInvalidConfig", cfg, err)
		}
	}
	if _, err := plumtree.NewCore("", plumtree.CoreConfig{}, nil); !errors.Is(err, plumtree.ErrInvalidConfig) {
		t.Errorf("empty name: %v", err)
	}
	// Ids that cannot key a map are refused, not a panic.
	c := newCore(t, "a", plumtree.CoreConfig{}, "a", "b")
	if eff := c.Broadcast("h", []any{1}, nil, t0); eff != nil {
		t.Fatalf("broadcast of an uncomparable id: %v", eff)
	}
	if eff := c.Handle("b", &plumtree.IHave{ID: []any{1}}, plumtree.Verdict{}, t0); eff != nil {
		t.Fatalf("ihave of an uncomparable id: %v", eff)
	}
}

// A Prune that crosses a payload on the wire: v pruned w after a duplicate,
// but w had already pushed the next message, which is fresh at v. v takes w
// eager again, and tells w, which applied the Prune meanwhile, to do the
// same; without that, two crossed prunes under concurrent broadcasts leave v
// with no eager link into the tree.
func TestCrossedPruneRestoresLink(t *testing.T) {
	v := newCore(t, "v", plumtree.CoreConfig{Eagers: []string{"u", "w"}}, "u", "v", "w")
	w := newCore(t, "w", plumtree.CoreConfig{Eagers: []string{"u", "v"}}, "u", "v", "w")
	v.Handle("u", &plumtree.Broadcast{ID: 1, Handler: "h", Root: "r"}, plumtree.Verdict{Fresh: true}, t0)
	prune := v.Handle("w", &plumtree.Broadcast{ID: 1, Handler: "h", Root: "r"}, plumtree.Verdict{Fresh: false}, t0)
	wantSends(t, prune, "w:*plumtree.Prune")
	// m2 from w was on its way before the Prune reached w.
	eff := v.Handle("w", &plumtree.Broadcast{ID: 2, Handler: "h", Root: "r"}, plumtree.Verdict{Fresh: true}, t0)
	wantSends(t, eff, "w:*plumtree.Graft", "u:*plumtree.Broadcast")
	w.Handle("v", prune[0].Msg, plumtree.Verdict{}, t0)
	wantPeers(t, w, "r", []string{"u"}, []string{"v"})
	w.Handle("v", eff[0].Msg, plumtree.Verdict{}, t0)
	wantPeers(t, w, "r", []string{"u", "v"}, nil)
	wantPeers(t, v, "r", []string{"u", "w"}, nil)
}
