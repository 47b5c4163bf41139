package plumtree_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/plumtree"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/supervisor"
)

func TestMembershipFollowsPeerService(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(4)
		nodes := cluster(t, net, 3, plumtree.Config{})
		got, err := nodes[0].srv.BroadcastMembers(t.Context())
		if err != nil || !slices.Equal(got, []string{"n00", "n01", "n02"}) {
			t.Fatalf("members %v %v", got, err)
		}
		// n01's server is killed (no Terminate runs) and restarted by its
		// supervisor; the new one subscribes afresh.
		pid, _ := nodes[1].WhereIs(plumtree.ServerName)
		_ = nodes[1].Exit(pid, actor.Kill)
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if again, ok := nodes[1].WhereIs(plumtree.ServerName); !ok || again == pid {
			t.Fatal("the killed server was not restarted")
		}
		// A node joins: every server learns it from the peer service, and
		// broadcasts reach it.
		nd, err := actor.NewNode(actor.Config{Name: "n03"})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := peerservice.StartNode(nd, remote.Config{Cookie: "c", Transport: net.Transport("n03"), Listen: []string{"n03"}},
			peerservice.Config{HeartbeatInterval: time.Second, GossipInterval: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		st := newStore()
		srv, err := plumtree.Start(nd, svc, plumtree.Config{Handlers: []plumtree.Handler{st}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = srv.Stop(context.Background())
			_ = svc.Stop(context.Background())
			_ = nd.Stop(context.Background())
		})
		if err := svc.SyncJoin(t.Context(), nodes[0].svc.Myself()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		want := []string{"n00", "n01", "n02", "n03"}
		for _, n := range append(nodes, &pnode{name: "n03", srv: srv}) {
			if got, err := n.srv.BroadcastMembers(t.Context()); err != nil || !slices.Equal(got, want) {
				t.Fatalf("members of %s: %v %v", n.name, got, err)
			}
		}
		// The new member is eager in every tree of the old ones.
		p, err := nodes[1].srv.GetPeers(t.Context(), "n00")
		if err != nil || !slices.Contains(p.Eagers, "n03") {
			t.Fatalf("peers of n01: %+v %v", p, err)
		}
		if err := nodes[1].srv.Broadcast([2]any{"hello", "new member"}, "store"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if !st.has("hello") {
			t.Fatal("the new member missed a broadcast")
		}
	})
}

func TestHandlerPanicIsIsolated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(5)
		nodes := bareCluster(t, net, 3, plumtree.Config{})
		nodes[1].store.mu.Lock()
		nodes[1].store.panicOn = "boom"
		nodes[1].store.mu.Unlock()
		if err := nodes[0].srv.Broadcast([2]any{"x", "boom"}, "store"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		// The server of n01 lives on and serves the next broadcast.
		if err := nodes[0].srv.Broadcast([2]any{"y", "fine"}, "store"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if !nodes[1].store.has("y") || !nodes[2].store.has("y") {
			t.Fatal("a broadcast after a handler panic was lost")
		}
		if _, err := nodes[1].srv.BroadcastMembers(t.Context()); err != nil {
			t.Fatalf("server after a handler panic: %v", err)
		}
		// A broadcast whose BroadcastData fails is the caller's error.
		if err := nodes[0].srv.Broadcast("not a pair", "store"); !errors.Is(err, plumtree.ErrHandler) {
			t.Fatalf("bad broadcast: %v", err)
		}
		if err := nodes[0].srv.Broadcast([2]any{"z", 1}, "nobody"); !errors.Is(err, plumtree.ErrUnknownHandler) {
			t.Fatalf("unknown handler: %v", err)
		}
		if err := nodes[0].srv.Broadcast([2]any{[]any{1}, 1}, "store"); !errors.Is(err, plumtree.ErrInvalidID) {
			t.Fatalf("uncomparable id: %v", err)
		}
	})
}

// slowExchanger is a handler whose exchanges run until cancelled.
type slowExchanger struct {
	*store
}

func (s slowExchanger) Exchange(p *actor.Process, peer string) (actor.PID, error) {
	return p.Spawn(actor.Func(func(*actor.Process, any) error { return nil }))
}

func TestExchangesAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nd, err := actor.NewNode(actor.Config{Name: "a"})
		if err != nil {
			t.Fatal(err)
		}
		defer nd.Stop(context.Background())
		h := slowExchanger{newStore()}
		h.name = "slow"
		srv, err := plumtree.Start(nd, nil, plumtree.Config{Handlers: []plumtree.Handler{h}, Members: []string{"a", "b", "c"},
			NoMembershipUpdates: true, StartExchangeLimit: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Stop(context.Background())
		time.Sleep(10*time.Second + time.Millisecond)
		synctest.Wait()
		ex, err := srv.Exchanges(t.Context())
		if err != nil || len(ex) != 1 || ex[0].Handler != "slow" || (ex[0].Peer != "b" && ex[0].Peer != "c") {
			t.Fatalf("exchanges %+v %v", ex, err)
		}
		// At the limit, the next tick starts none.
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if ex2, _ := srv.Exchanges(t.Context()); len(ex2) != 1 || ex2[0] != ex[0] {
			t.Fatalf("over the limit: %+v", ex2)
		}
		// A filter that matches nothing cancels nothing.
		if got, err := srv.CancelExchanges(t.Context(), plumtree.ExchangeFilter{Peer: "zz"}); err != nil || len(got) != 0 {
			t.Fatalf("cancel of nothing: %v %v", got, err)
		}
		got, err := srv.CancelExchanges(t.Context(), plumtree.ExchangeFilter{Handler: "slow"})
		if err != nil || len(got) != 1 {
			t.Fatalf("cancel: %v %v", got, err)
		}
		synctest.Wait()
		if ex, _ := srv.Exchanges(t.Context()); len(ex) != 0 {
			t.Fatalf("after cancel: %+v", ex)
		}
		// A call that runs out of time matches both timeout errors.
		ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
		defer cancel()
		_, err = srv.DebugGetPeers(ctx, "b", "a")
		if err == nil {
			t.Fatal("call to a node that does not exist succeeded")
		}
		tree := srv.DebugGetTree(t.Context(), "a", []string{"a", "b"})
		if len(tree) != 2 || tree[0].Down || !tree[1].Down {
			t.Fatalf("tree %+v", tree)
		}
	})
}

func TestChildSpec(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nd, err := actor.NewNode(actor.Config{Name: "a"})
		if err != nil {
			t.Fatal(err)
		}
		defer nd.Stop(context.Background())
		spec, srv, err := plumtree.ChildSpec("broadcast", nd, nil, plumtree.Config{Members: []string{"a"}, NoMembershipUpdates: true})
		if err != nil {
			t.Fatal(err)
		}
		sup, err := supervisor.Start(nd, supervisor.Spec{Children: []supervisor.ChildSpec{spec}})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := srv.BroadcastMembers(t.Context()); err != nil || !slices.Equal(got, []string{"a"}) {
			t.Fatalf("members %v %v", got, err)
		}
		// Killed, it is restarted by the user's supervisor under its name.
		pid, _ := nd.WhereIs(plumtree.ServerName)
		_ = nd.Exit(pid, actor.Kill)
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if got, err := srv.BroadcastMembers(t.Context()); err != nil || len(got) != 1 {
			t.Fatalf("after restart: %v %v", got, err)
		}
		if err := supervisor.Stop(t.Context(), nd, sup); err != nil {
			t.Fatal(err)
		}
		if _, _, err := plumtree.ChildSpec("x", nd, nil, plumtree.Config{}); !errors.Is(err, plumtree.ErrInvalidConfig) {
			t.Fatalf("no peer service and no members: %v", err)
		}
	})
}

func TestTimeoutError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nd, err := actor.NewNode(actor.Config{Name: "a"})
		if err != nil {
			t.Fatal(err)
		}
		defer nd.Stop(context.Background())
		// A process registered under the server's name that never answers.
		_, err = nd.Spawn(actor.Func(func(*actor.Process, any) error { return nil }), actor.WithName("mute"))
		if err != nil {
			t.Fatal(err)
		}
		spec, srv, err := plumtree.ChildSpec("x", nd, nil, plumtree.Config{Name: "mute", Members: []string{"a"}, NoMembershipUpdates: true})
		_ = spec
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err = srv.BroadcastMembers(ctx)
		if !errors.Is(err, plumtree.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("timeout: %v", err)
		}
	})
}
