package hyparview_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/peerservice/hyparview"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/supervisor"
)

type hnode struct {
	*actor.Node
	svc  *hyparview.Service
	name string
	stop func()
}

const (
	tick    = time.Second
	shuffle = 2 * tick
)

func startHNode(t *testing.T, net *transport.Network, name string) *hnode {
	t.Helper()
	return startHNodeWith(t, net, name, hyparview.ManagerConfig{TickInterval: tick, ShuffleInterval: shuffle})
}

func startHNodeWith(t *testing.T, net *transport.Network, name string, cfg hyparview.ManagerConfig) *hnode {
	t.Helper()
	n, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := hyparview.StartNode(n, remote.Config{Cookie: "test-cookie", Transport: net.Transport(name), Listen: []string{name}},
		cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &hnode{Node: n, svc: svc, name: name}
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			ctx := context.Background()
			if err := svc.Stop(ctx); err != nil {
				t.Errorf("stop service %s: %v", name, err)
			}
			if err := n.Stop(ctx); err != nil {
				t.Errorf("stop %s: %v", name, err)
			}
		})
	}
	t.Cleanup(h.stop)
	return h
}

// cluster starts n nodes; node i joins through a random earlier node.
func cluster(t *testing.T, n int, seed uint64) []*hnode {
	t.Helper()
	net := transport.NewNetwork(int64(seed))
	rng := rand.New(rand.NewPCG(seed, 1))
	var nodes []*hnode
	for i := range n {
		nodes = append(nodes, startHNode(t, net, fmt.Sprintf("h%03d", i)))
	}
	for i := 1; i < n; i++ {
		if err := nodes[i].svc.Join(nodes[rng.IntN(i)].svc.Myself()); err != nil {
			t.Fatal(err)
		}
	}
	return nodes
}

// overlay reads the active views of the nodes and reports whether they
// are symmetric, within size, and connect every node.
func overlay(t *testing.T, nodes []*hnode) (ok bool, why string) {
	t.Helper()
	views := map[string][]string{}
	for _, n := range nodes {
		act, err := n.svc.Active(t.Context())
		if err != nil {
			t.Fatalf("active view of %s: %v", n.name, err)
		}
		if len(act) > 5 {
			t.Fatalf("%s: active view of %d > 5", n.name, len(act))
		}
		views[n.name] = act
	}
	for a, act := range views {
		for _, b := range act {
			other, alive := views[b]
			if !alive {
				return false, fmt.Sprintf("%s keeps stopped %s", a, b)
			}
			if !slices.Contains(other, a) {
				return false, fmt.Sprintf("%s has %s, not the other way round", a, b)
			}
		}
	}
	seen := map[string]bool{nodes[0].name: true}
	stack := []string{nodes[0].name}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range views[x] {
			if !seen[p] {
				seen[p] = true
				stack = append(stack, p)
			}
		}
	}
	if len(seen) != len(nodes) {
		return false, fmt.Sprintf("%d of %d nodes reachable", len(seen), len(nodes))
	}
	return true, ""
}

// awaitOverlay steps fake time until the overlay is symmetric and
// connected, and returns how long that took.
func awaitOverlay(t *testing.T, nodes []*hnode, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok, why := overlay(t, nodes)
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			for _, n := range nodes[:min(5, len(nodes))] {
				act, _ := n.svc.Active(t.Context())
				pas, _ := n.svc.Passive(t.Context())
				t.Logf("%s active %v passive %v", n.name, act, pas)
			}
			t.Fatalf("overlay of %d nodes not connected and symmetric after %v: %s", len(nodes), limit, why)
		}
		time.Sleep(tick / 4)
	}
}

func TestManagerOverlayConnectedAndSymmetric(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nodes := cluster(t, 30, 1)
		took := awaitOverlay(t, nodes, 60*tick)
		t.Logf("30 nodes: active views symmetric and connected after %v of fake time", took)
		members, err := nodes[0].svc.Members(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		act, _ := nodes[0].svc.Active(t.Context())
		if len(members) != len(act)+1 || !slices.Contains(members, nodes[0].name) {
			t.Fatalf("members %v, active %v", members, act)
		}
		st, err := nodes[0].svc.GetLocalState(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := peerservice.Decode(st); len(got) != len(members) {
			t.Fatalf("decoded state %v, members %v", got, members)
		}
	})
}

func TestManagerSyncJoinAndCallbacks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(2)
		got := make(chan string, 1)
		a := startHNodeWith(t, net, "a", hyparview.ManagerConfig{TickInterval: tick, ShuffleInterval: shuffle,
			OnMessage: func(from string, msg any) { got <- fmt.Sprint(from, ":", msg) }})
		b := startHNode(t, net, "b")
		ups, downs := make(chan string, 4), make(chan string, 4)
		defer a.svc.OnUp("", func(spec remote.NodeSpec) { ups <- spec.Name })()
		defer a.svc.OnDown("b", func(spec remote.NodeSpec) { downs <- spec.Name })()
		events := make(chan int, 4)
		defer a.svc.Subscribe(func(ev peerservice.MembershipEvent) { events <- len(ev.Members) })()
		if err := b.svc.SyncJoin(t.Context(), a.svc.Myself()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if up, n := <-ups, <-events; up != "b" || n != 2 {
			t.Fatalf("up %s, members %d", up, n)
		}
		if m, _ := b.svc.Members(t.Context()); !slices.Equal(m, []string{"a", "b"}) {
			t.Fatalf("members of b %v", m)
		}
		if err := b.svc.SendMessage(t.Context(), "a", "hello"); err != nil {
			t.Fatal(err)
		}
		if m := <-got; m != "b:hello" {
			t.Fatalf("OnMessage got %q", m)
		}
		if err := b.svc.Leave(t.Context()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if down := <-downs; down != "b" {
			t.Fatalf("down %s", down)
		}
		if act, _ := a.svc.Active(t.Context()); len(act) != 0 {
			t.Fatalf("a keeps %v after b left", act)
		}
		// A node that left stays out until it joins again.
		time.Sleep(5 * tick)
		if act, _ := b.svc.Active(t.Context()); len(act) != 0 {
			t.Fatalf("b back in %v without joining", act)
		}
		if err := b.svc.Reserve(t.Context(), "x"); !errors.Is(err, hyparview.ErrUnsupported) {
			t.Fatalf("reserve: %v", err)
		}
		if err := b.svc.ForwardMessage(t.Context(), peerservice.ToName("a", "x"), 1, peerservice.ForwardOptions{Ack: true}); !errors.Is(err, hyparview.ErrUnsupported) {
			t.Fatalf("acked forward: %v", err)
		}
	})
}

func TestManagerPartition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(3)
		a, b := startHNode(t, net, "a"), startHNode(t, net, "b")
		if err := b.svc.SyncJoin(t.Context(), a.svc.Myself()); err != nil {
			t.Fatal(err)
		}
		ref, err := a.svc.InjectPartition(t.Context(), "a", 1)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(tick)
		for _, n := range []*hnode{a, b} {
			parts, err := n.svc.Partitions(t.Context())
			if err != nil || len(parts) != 1 || parts[0].Ref != ref || parts[0].Origin != "a" {
				t.Fatalf("%s partitions %v %v", n.name, parts, err)
			}
		}
		err = b.svc.ForwardMessage(t.Context(), peerservice.ToName("a", "x"), "m", peerservice.ForwardOptions{})
		if err == nil {
			t.Fatal("send across the partition went through")
		}
		err = a.svc.ForwardMessage(t.Context(), peerservice.ToName("b", "x"), "m", peerservice.ForwardOptions{})
		if err == nil {
			t.Fatal("send from the origin across the partition went through")
		}
		if err := a.svc.ResolvePartition(t.Context(), ref); err != nil {
			t.Fatal(err)
		}
		time.Sleep(tick)
		if err := b.svc.ForwardMessage(t.Context(), peerservice.ToName("a", "x"), "m", peerservice.ForwardOptions{}); err != nil {
			t.Fatalf("after resolve: %v", err)
		}
		if parts, _ := b.svc.Partitions(t.Context()); len(parts) != 0 {
			t.Fatalf("partitions after resolve %v", parts)
		}
	})
}

func TestManagerMassFailure(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 60
	}
	for _, pct := range []int{50, 80} {
		t.Run(fmt.Sprintf("%d%%", pct), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				nodes := cluster(t, n, uint64(pct))
				awaitOverlay(t, nodes, 120*tick)
				// Stabilization, as in the papers: shuffles fill the
				// passive views before the failure.
				time.Sleep(10 * shuffle)
				victims := slices.Clone(nodes[1:])
				rng := rand.New(rand.NewPCG(9, uint64(pct)))
				rng.Shuffle(len(victims), func(i, j int) { victims[i], victims[j] = victims[j], victims[i] })
				victims = victims[:n*pct/100]
				killed := time.Now()
				for _, v := range victims {
					v.stop()
				}
				stopping := time.Since(killed)
				var alive []*hnode
				for _, nd := range nodes {
					if !slices.Contains(victims, nd) {
						alive = append(alive, nd)
					}
				}
				awaitOverlay(t, alive, 120*tick)
				t.Logf("%d nodes, %d%% stopped: survivors' active graph connected and symmetric %v of fake time after the first stop (stopping them took %v; tick %v)",
					n, pct, time.Since(killed), stopping, tick)
			})
		})
	}
}

func TestManagerChildSpec(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(4)
		a := startHNode(t, net, "a")
		n, err := actor.NewNode(actor.Config{Name: "b"})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Stop(context.Background())
		pol := hyparview.NewPolicy()
		r, err := remote.Start(n, pol.RemoteConfig(remote.Config{Cookie: "test-cookie", Transport: net.Transport("b"), Listen: []string{"b"}}))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Stop()
		spec, svc, err := hyparview.ChildSpec("hyparview", n, r, pol, hyparview.ManagerConfig{TickInterval: tick, ShuffleInterval: shuffle})
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Stop(context.Background())
		sup, err := supervisor.Start(n, supervisor.Spec{Children: []supervisor.ChildSpec{spec}})
		if err != nil {
			t.Fatal(err)
		}
		defer supervisor.Stop(context.Background(), n, sup)
		if err := svc.SyncJoin(t.Context(), a.svc.Myself()); err != nil {
			t.Fatal(err)
		}
		// The supervisor restarts a killed manager, which joins again
		// through the contacts of the one before.
		pid, _ := n.WhereIs(hyparview.ManagerName)
		if err := n.Exit(pid, actor.Kill); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * tick)
		if pid2, ok := n.WhereIs(hyparview.ManagerName); !ok || pid2 == pid {
			t.Fatal("manager not restarted")
		}
		if act, err := svc.Active(t.Context()); err != nil || !slices.Equal(act, []string{"a"}) {
			t.Fatalf("restarted manager's active view %v %v", act, err)
		}
	})
}
