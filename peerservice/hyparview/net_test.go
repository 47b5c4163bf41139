package hyparview

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// testNet runs cores against each other with instant delivery; a send to a
// dead node is reported back to its sender as PeerDown, as a broken
// connection would be.
type testNet struct {
	t     *testing.T
	names []string
	cores map[string]*Core[string]
	dead  map[string]bool
	queue []envelope
}

type envelope struct {
	from string
	s    Send[string]
}

func newTestNet(t *testing.T, n int, seed uint64, cfg Config) *testNet {
	t.Helper()
	net := &testNet{t: t, cores: map[string]*Core[string]{}, dead: map[string]bool{}}
	for i := range n {
		name := fmt.Sprintf("n%03d", i)
		c, err := NewCore(name, cfg, rand.New(rand.NewPCG(seed, uint64(i))))
		if err != nil {
			t.Fatal(err)
		}
		net.names = append(net.names, name)
		net.cores[name] = c
	}
	rng := rand.New(rand.NewPCG(seed, 99))
	for i := 1; i < n; i++ {
		name := net.names[i]
		net.apply(name, net.cores[name].Join(net.names[rng.IntN(i)]))
		net.drain()
	}
	return net
}

func (n *testNet) apply(from string, eff Effects[string]) {
	for _, s := range eff.Sends {
		n.queue = append(n.queue, envelope{from: from, s: s})
	}
}

func (n *testNet) drain() {
	for steps := 0; len(n.queue) > 0; steps++ {
		if steps > 10_000_000 {
			n.t.Fatal("messages never settle")
		}
		e := n.queue[0]
		n.queue = n.queue[1:]
		if n.dead[e.from] {
			continue
		}
		if n.dead[e.s.To] {
			n.apply(e.from, n.cores[e.from].PeerDown(e.s.To))
			continue
		}
		n.apply(e.s.To, n.cores[e.s.To].Handle(e.from, e.s.Msg))
	}
}

func (n *testNet) alive() []string {
	var out []string
	for _, name := range n.names {
		if !n.dead[name] {
			out = append(out, name)
		}
	}
	return out
}

// cycles runs k rounds in which every live node shuffles and ticks.
func (n *testNet) cycles(k int) {
	for range k {
		for _, name := range n.alive() {
			n.apply(name, n.cores[name].Shuffle())
			n.apply(name, n.cores[name].Tick())
		}
		n.drain()
	}
}

// kill fails the given nodes; their live active neighbours notice, as
// their connections break.
func (n *testNet) kill(names []string) {
	for _, name := range names {
		n.dead[name] = true
	}
	for _, name := range n.alive() {
		for _, p := range n.cores[name].Active() {
			if n.dead[p] {
				n.apply(name, n.cores[name].PeerDown(p))
			}
		}
	}
	n.drain()
}

func (n *testNet) views() map[string][]string {
	out := map[string][]string{}
	for _, name := range n.names {
		out[name] = n.cores[name].Active()
	}
	return out
}

// checkSymmetric fails unless every live node's active peers are live and
// list it back.
func (n *testNet) checkSymmetric() {
	n.t.Helper()
	for _, name := range n.alive() {
		for _, p := range n.cores[name].Active() {
			if n.dead[p] {
				n.t.Fatalf("%s keeps dead %s active", name, p)
			}
			if !n.cores[p].IsActive(name) {
				n.t.Fatalf("%s has %s active but not the other way round", name, p)
			}
		}
	}
}

// components counts the connected components of the live nodes' active
// graph.
func (n *testNet) components() int {
	seen := map[string]bool{}
	count := 0
	for _, start := range n.alive() {
		if seen[start] {
			continue
		}
		count++
		stack := []string{start}
		seen[start] = true
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, p := range n.cores[x].Active() {
				if !seen[p] && !n.dead[p] {
					seen[p] = true
					stack = append(stack, p)
				}
			}
		}
	}
	return count
}

func TestOverlayConnectedAndSymmetric(t *testing.T) {
	net := newTestNet(t, 200, 1, Config{})
	net.cycles(10)
	net.checkSymmetric()
	if c := net.components(); c != 1 {
		t.Fatalf("%d components", c)
	}
	full := 0
	for _, name := range net.names {
		a, p := len(net.cores[name].Active()), len(net.cores[name].Passive())
		if a > 5 || p > 30 {
			t.Fatalf("%s views %d/%d over size", name, a, p)
		}
		if a == 5 {
			full++
		}
	}
	if full < 180 {
		t.Fatalf("only %d of 200 nodes have a full active view", full)
	}
}

func TestOverlayHealsAfterMassFailure(t *testing.T) {
	for _, frac := range []float64{0.5, 0.8} {
		t.Run(fmt.Sprint(frac), func(t *testing.T) {
			net := newTestNet(t, 200, 3, Config{})
			net.cycles(10)
			victims := slices.Clone(net.names)
			rng := rand.New(rand.NewPCG(5, 5))
			rng.Shuffle(len(victims), func(i, j int) { victims[i], victims[j] = victims[j], victims[i] })
			net.kill(victims[:int(frac*200)])
			healed := -1
			for cycle := 1; cycle <= 10; cycle++ {
				net.cycles(1)
				if net.components() == 1 {
					healed = cycle
					break
				}
			}
			if healed < 0 {
				t.Fatalf("survivors still in %d components after 10 cycles", net.components())
			}
			net.checkSymmetric()
			t.Logf("%.0f%% killed: active graph connected after %d cycles", frac*100, healed)
		})
	}
}
