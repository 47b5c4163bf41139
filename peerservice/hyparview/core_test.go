package hyparview

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func newTestCore(t *testing.T, self string, cfg Config) *Core[string] {
	t.Helper()
	c, err := NewCore(self, cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withActive puts peers into c's active view directly.
func withActive(c *Core[string], peers ...string) {
	for _, p := range peers {
		var eff Effects[string]
		c.addActive(&eff, p)
	}
}

func withPassive(c *Core[string], peers ...string) {
	for _, p := range peers {
		c.addPassive(p, nil)
	}
}

func sendsTo(eff Effects[string], to string) []Message {
	var out []Message
	for _, s := range eff.Sends {
		if s.To == to {
			out = append(out, s.Msg)
		}
	}
	return out
}

func TestNewCoreValidates(t *testing.T) {
	if _, err := NewCore[string]("", Config{}, rand.New(rand.NewPCG(1, 1))); !errors.Is(err, ErrSelf) {
		t.Fatalf("empty name: %v", err)
	}
	if _, err := NewCore[string]("a", Config{PassiveRandomWalkLength: 7, ActiveRandomWalkLength: 6}, rand.New(rand.NewPCG(1, 1))); !errors.Is(err, ErrConfig) {
		t.Fatalf("PRWL > ARWL: %v", err)
	}
	if _, err := NewCore[string]("a", Config{}, nil); err == nil {
		t.Fatal("nil rand accepted")
	}
	c := newTestCore(t, "a", Config{})
	want := Config{ActiveSize: 5, PassiveSize: 30, ActiveRandomWalkLength: 6, PassiveRandomWalkLength: 3,
		ShuffleActive: 3, ShufflePassive: 4, ShuffleWalkLength: 6, PendingTicks: 3}
	if c.Config() != want {
		t.Fatalf("defaults %+v, want %+v", c.Config(), want)
	}
}

func TestJoinSendsJoinToContact(t *testing.T) {
	c := newTestCore(t, "a", Config{})
	eff := c.Join("b")
	if len(eff.Sends) != 1 || eff.Sends[0] != (Send[string]{To: "b", Msg: Join{}}) {
		t.Fatalf("sends %v", eff.Sends)
	}
	if !c.Join("a").Empty() || !c.Join("").Empty() {
		t.Fatal("joining self or nobody did something")
	}
}

func TestContactTakesJoinerAndForwards(t *testing.T) {
	c := newTestCore(t, "a", Config{})
	withActive(c, "b", "c")
	eff := c.Handle("n", Join{})
	if !c.IsActive("n") {
		t.Fatal("joiner not active")
	}
	if got := sendsTo(eff, "n"); len(got) != 1 || got[0] != (JoinAccept{}) {
		t.Fatalf("to joiner %v", got)
	}
	for _, p := range []string{"b", "c"} {
		if got := sendsTo(eff, p); len(got) != 1 || got[0] != (ForwardJoin[string]{New: "n", TTL: 6}) {
			t.Fatalf("to %s %v", p, got)
		}
	}
	if len(eff.Changes) != 1 || eff.Changes[0] != (Change[string]{Peer: "n", Up: true}) {
		t.Fatalf("changes %v", eff.Changes)
	}
}

func TestJoinIntoFullViewEvictsWithDisconnect(t *testing.T) {
	c := newTestCore(t, "a", Config{ActiveSize: 2})
	withActive(c, "b", "c")
	eff := c.Handle("n", Join{})
	act := c.Active()
	if len(act) != 2 || !c.IsActive("n") {
		t.Fatalf("active %v", act)
	}
	victim := "b"
	if c.IsActive("b") {
		victim = "c"
	}
	if got := sendsTo(eff, victim); len(got) == 0 || got[0] != (Disconnect{}) {
		t.Fatalf("victim %s got %v", victim, got)
	}
	if !slices.Contains(c.Passive(), victim) {
		t.Fatalf("victim not passive: %v", c.Passive())
	}
	if eff.Changes[0] != (Change[string]{Peer: victim, Up: false}) || eff.Changes[1] != (Change[string]{Peer: "n", Up: true}) {
		t.Fatalf("changes %v", eff.Changes)
	}
}

func TestJoinAcceptMakesViewSymmetric(t *testing.T) {
	c := newTestCore(t, "n", Config{})
	eff := c.Handle("a", JoinAccept{})
	if !c.IsActive("a") || len(eff.Changes) != 1 || len(eff.Sends) != 0 {
		t.Fatalf("active %v eff %+v", c.Active(), eff)
	}
}

func TestForwardJoin(t *testing.T) {
	tests := []struct {
		name       string
		active     []string
		ttl        int
		wantActive bool // the joiner ends up in the active view here
		wantPass   bool // ... in the passive view
		wantFwdTTL int  // -1: no forward
	}{
		{"ttl zero accepts", []string{"s", "x", "y"}, 0, true, false, -1},
		{"only the sender accepts", []string{"s"}, 4, true, false, -1},
		{"walk continues", []string{"s", "x", "y"}, 5, false, false, 4},
		{"prwl adds passive", []string{"s", "x", "y"}, 3, false, true, 2},
		{"joiner already active", []string{"s", "n", "x"}, 0, true, false, -1},
		{"no other peer accepts", []string{"s", "n"}, 5, true, false, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestCore(t, "a", Config{})
			withActive(c, tt.active...)
			eff := c.Handle("s", ForwardJoin[string]{New: "n", TTL: tt.ttl})
			if got := c.IsActive("n"); got != tt.wantActive {
				t.Fatalf("active %v", c.Active())
			}
			if got := slices.Contains(c.Passive(), "n"); got != tt.wantPass {
				t.Fatalf("passive %v", c.Passive())
			}
			var fwd []Send[string]
			for _, s := range eff.Sends {
				if _, ok := s.Msg.(ForwardJoin[string]); ok {
					fwd = append(fwd, s)
				}
			}
			if tt.wantFwdTTL < 0 {
				if len(fwd) != 0 {
					t.Fatalf("forwarded %v", fwd)
				}
				if got := sendsTo(eff, "n"); tt.wantActive && !slices.Contains(tt.active, "n") && !slices.Contains(got, Message(JoinAccept{})) {
					t.Fatalf("joiner not told: %v", eff.Sends)
				}
				return
			}
			if len(fwd) != 1 || fwd[0].Msg != (ForwardJoin[string]{New: "n", TTL: tt.wantFwdTTL}) {
				t.Fatalf("forwards %v", fwd)
			}
			if fwd[0].To == "s" || fwd[0].To == "n" {
				t.Fatalf("forwarded back to %s", fwd[0].To)
			}
		})
	}
}

func TestForwardJoinOfSelfIgnored(t *testing.T) {
	c := newTestCore(t, "a", Config{})
	withActive(c, "s")
	if eff := c.Handle("s", ForwardJoin[string]{New: "a", TTL: 0}); !eff.Empty() {
		t.Fatalf("eff %+v", eff)
	}
}

func TestNeighbor(t *testing.T) {
	tests := []struct {
		name   string
		active []string
		prio   Priority
		accept bool
	}{
		{"low with room", []string{"x"}, Low, true},
		{"low when full", []string{"x", "y"}, Low, false},
		{"high when full", []string{"x", "y"}, High, true},
		{"already active", []string{"x", "p"}, Low, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestCore(t, "a", Config{ActiveSize: 2})
			withActive(c, tt.active...)
			eff := c.Handle("p", Neighbor{Priority: tt.prio})
			got := sendsTo(eff, "p")
			if len(got) == 0 || got[len(got)-1] != (NeighborReply{Accepted: tt.accept}) {
				t.Fatalf("reply %v", got)
			}
			if c.IsActive("p") != tt.accept {
				t.Fatalf("active %v", c.Active())
			}
			if len(c.Active()) > 2 {
				t.Fatalf("view overfull %v", c.Active())
			}
		})
	}
}

func TestDisconnectMovesToPassive(t *testing.T) {
	c := newTestCore(t, "a", Config{})
	withActive(c, "b", "c")
	withPassive(c, "p")
	eff := c.Handle("b", Disconnect{})
	if c.IsActive("b") || !slices.Contains(c.Passive(), "b") {
		t.Fatalf("active %v passive %v", c.Active(), c.Passive())
	}
	if len(eff.Changes) != 1 || eff.Changes[0] != (Change[string]{Peer: "b"}) {
		t.Fatalf("eff %+v", eff)
	}
	// The free place is offered to a passive peer at once, not to the
	// peer that just dropped this node.
	if len(eff.Sends) != 1 || eff.Sends[0] != (Send[string]{To: "p", Msg: Neighbor{Priority: Low}}) {
		t.Fatalf("sends %v", eff.Sends)
	}
	if eff := c.Handle("z", Disconnect{}); !eff.Empty() || slices.Contains(c.Passive(), "z") {
		t.Fatal("disconnect from a stranger changed something")
	}
}

func TestFailurePromotesPassive(t *testing.T) {
	c := newTestCore(t, "a", Config{ActiveSize: 2})
	withActive(c, "b", "c")
	withPassive(c, "p")
	eff := c.PeerDown("b")
	if c.IsActive("b") || slices.Contains(c.Passive(), "b") {
		t.Fatal("failed peer kept")
	}
	if got := sendsTo(eff, "p"); len(got) != 1 || got[0] != (Neighbor{Priority: Low}) {
		t.Fatalf("to p %v", got)
	}
	eff = c.Handle("p", NeighborReply{Accepted: true})
	if !c.IsActive("p") || slices.Contains(c.Passive(), "p") {
		t.Fatalf("active %v passive %v", c.Active(), c.Passive())
	}
	if len(eff.Changes) != 1 || eff.Changes[0] != (Change[string]{Peer: "p", Up: true}) {
		t.Fatalf("changes %v", eff.Changes)
	}
}

func TestEmptyActiveAsksWithHighPriority(t *testing.T) {
	c := newTestCore(t, "a", Config{ActiveSize: 1})
	withActive(c, "b")
	withPassive(c, "p")
	eff := c.PeerDown("b")
	if got := sendsTo(eff, "p"); len(got) != 1 || got[0] != (Neighbor{Priority: High}) {
		t.Fatalf("to p %v", got)
	}
}

func TestRefusedNeighborTriesAnotherAndNotAgainUntilTick(t *testing.T) {
	c := newTestCore(t, "a", Config{ActiveSize: 2})
	withActive(c, "b", "c")
	withPassive(c, "p", "q")
	eff := c.PeerDown("b")
	first := eff.Sends[0].To
	other := map[string]string{"p": "q", "q": "p"}[first]
	eff = c.Handle(first, NeighborReply{Accepted: false})
	if len(eff.Sends) != 1 || eff.Sends[0].To != other {
		t.Fatalf("after refusal %v", eff.Sends)
	}
	if !slices.Contains(c.Passive(), first) {
		t.Fatal("a refusing peer left the passive view")
	}
	if eff := c.Handle(other, NeighborReply{Accepted: false}); len(eff.Sends) != 0 {
		t.Fatalf("asked again before a tick: %v", eff.Sends)
	}
	if eff := c.Tick(); len(eff.Sends) != 1 {
		t.Fatalf("tick did not ask again: %v", eff.Sends)
	}
}

func TestFailedCandidateLeavesPassive(t *testing.T) {
	c := newTestCore(t, "a", Config{ActiveSize: 2})
	withActive(c, "b", "c")
	withPassive(c, "p", "q")
	eff := c.PeerDown("b")
	first := eff.Sends[0].To
	eff = c.PeerDown(first)
	if slices.Contains(c.Passive(), first) {
		t.Fatal("unreachable candidate kept")
	}
	if len(eff.Sends) != 1 || eff.Sends[0].To == first {
		t.Fatalf("next request %v", eff.Sends)
	}
}

func TestUnansweredNeighborExpires(t *testing.T) {
	c := newTestCore(t, "a", Config{ActiveSize: 1, PendingTicks: 2})
	withPassive(c, "p")
	eff := c.Tick()
	if len(eff.Sends) != 1 || eff.Sends[0] != (Send[string]{To: "p", Msg: Neighbor{Priority: High}}) {
		t.Fatalf("first tick %v", eff.Sends)
	}
	if eff := c.Tick(); len(eff.Sends) != 0 {
		t.Fatalf("asked twice %v", eff.Sends)
	}
	c.Tick()
	if slices.Contains(c.Passive(), "p") {
		t.Fatal("peer silent for PendingTicks kept")
	}
}

func TestShuffleRequest(t *testing.T) {
	c := newTestCore(t, "a", Config{})
	if !c.Shuffle().Empty() {
		t.Fatal("shuffle with no active peer")
	}
	withActive(c, "b", "c", "d", "e")
	withPassive(c, "p1", "p2", "p3", "p4", "p5", "p6")
	eff := c.Shuffle()
	if len(eff.Sends) != 1 {
		t.Fatalf("sends %v", eff.Sends)
	}
	s := eff.Sends[0].Msg.(Shuffle[string])
	if s.Origin != "a" || s.TTL != 6 || s.Nodes[0] != "a" || len(s.Nodes) != 1+3+4 {
		t.Fatalf("shuffle %+v", s)
	}
	if slices.Contains(s.Nodes, eff.Sends[0].To) {
		t.Fatalf("sample holds its own destination: %+v", s)
	}
	seen := map[string]bool{}
	for _, n := range s.Nodes {
		if seen[n] {
			t.Fatalf("duplicate %s", n)
		}
		seen[n] = true
	}
}

func TestShuffleForwardedWhileTTLLeft(t *testing.T) {
	c := newTestCore(t, "a", Config{})
	withActive(c, "s", "x", "o")
	eff := c.Handle("s", Shuffle[string]{Origin: "o", TTL: 3, Nodes: []string{"o", "m"}})
	if len(eff.Sends) != 1 || eff.Sends[0].To != "x" {
		t.Fatalf("sends %v", eff.Sends)
	}
	if s := eff.Sends[0].Msg.(Shuffle[string]); s.TTL != 2 {
		t.Fatalf("ttl %d", s.TTL)
	}
	if len(c.Passive()) != 0 {
		t.Fatal("forwarding node integrated the sample")
	}
}

func TestShuffleAnsweredAtEndOfWalk(t *testing.T) {
	c := newTestCore(t, "a", Config{PassiveSize: 4})
	withActive(c, "s", "x")
	withPassive(c, "p1", "p2", "p3", "p4")
	eff := c.Handle("s", Shuffle[string]{Origin: "o", TTL: 1, Nodes: []string{"o", "m", "a", "x"}})
	if len(eff.Sends) != 1 || eff.Sends[0].To != "o" {
		t.Fatalf("sends %v", eff.Sends)
	}
	reply := eff.Sends[0].Msg.(ShuffleReply[string]).Nodes
	if len(reply) != 4 {
		t.Fatalf("reply %v", reply)
	}
	pass := c.Passive()
	if len(pass) != 4 || !slices.Contains(pass, "o") || !slices.Contains(pass, "m") {
		t.Fatalf("passive %v", pass)
	}
	if slices.Contains(pass, "a") || slices.Contains(pass, "x") {
		t.Fatalf("self or active peer made passive: %v", pass)
	}
	// The entries dropped for the sample are among those sent back.
	for _, p := range []string{"p1", "p2", "p3", "p4"} {
		if !slices.Contains(pass, p) && !slices.Contains(reply, p) {
			t.Fatalf("dropped %s that the reply did not carry", p)
		}
	}
}

func TestShuffleReplyPrefersToDropWhatWasSent(t *testing.T) {
	c := newTestCore(t, "a", Config{PassiveSize: 4, ShuffleActive: 1, ShufflePassive: 2})
	withActive(c, "b")
	withPassive(c, "p1", "p2", "p3", "p4")
	sent := c.Shuffle().Sends[0].Msg.(Shuffle[string]).Nodes
	c.Handle("b", ShuffleReply[string]{Nodes: []string{"r1", "r2"}})
	pass := c.Passive()
	if !slices.Contains(pass, "r1") || !slices.Contains(pass, "r2") {
		t.Fatalf("reply not integrated: %v", pass)
	}
	for _, p := range []string{"p1", "p2", "p3", "p4"} {
		if !slices.Contains(pass, p) && !slices.Contains(sent, p) {
			t.Fatalf("dropped %s that was not sent (sent %v)", p, sent)
		}
	}
}

func TestDeterministic(t *testing.T) {
	run := func() string {
		net := newTestNet(t, 60, 7, Config{})
		net.cycles(5)
		return fmt.Sprint(net.views())
	}
	if a, b := run(), run(); a != b {
		t.Fatal("same seed, different views")
	}
}

func TestLeave(t *testing.T) {
	c := newTestCore(t, "a", Config{})
	withActive(c, "b", "c")
	withPassive(c, "p")
	eff := c.Leave()
	if len(c.Active()) != 0 || len(c.Passive()) != 0 {
		t.Fatalf("views after leave: %v %v", c.Active(), c.Passive())
	}
	want := []Send[string]{{To: "b", Msg: Disconnect{}}, {To: "c", Msg: Disconnect{}}}
	if !slices.Equal(eff.Sends, want) {
		t.Fatalf("sends %v", eff.Sends)
	}
	if len(eff.Changes) != 2 || eff.Changes[0].Up || eff.Changes[1].Up {
		t.Fatalf("changes %v", eff.Changes)
	}
}

func TestWalkFromNonNeighborDropsItsLink(t *testing.T) {
	for _, m := range []Message{ForwardJoin[string]{New: "n", TTL: 5}, Shuffle[string]{Origin: "o", TTL: 3, Nodes: []string{"o"}}} {
		c := newTestCore(t, "a", Config{})
		withActive(c, "x", "y")
		eff := c.Handle("s", m)
		if got := sendsTo(eff, "s"); len(got) == 0 || got[0] != (Disconnect{}) {
			t.Fatalf("%T from a non-neighbour: sends %v", m, eff.Sends)
		}
	}
}
