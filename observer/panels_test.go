package observer_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/ensemble"
	"github.com/gotp-dev/gotp/observer"
	"github.com/gotp-dev/gotp/plumtree"
	"github.com/gotp-dev/gotp/remote/transport"
)

// The tables panel shows each cets table's size and nodes, and an error for
// a server that is not there.
func TestTablesPanel(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		tab, err := cets.Start(n, "sessions", cets.Options[string, string]{Key: func(v string) string { return v }})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"a", "b", "c"} {
			if err := tab.Insert(t.Context(), v); err != nil {
				t.Fatal(err)
			}
		}
		h := newHandler(t, n, observer.Options{Panels: []observer.Panel{
			observer.TablesPanel(n, actor.Name{Name: "sessions"}, actor.Name{Name: "nothing"}),
		}})
		rows := getJSON[[]observer.TableRow](t, h, "/api/panels/tables")
		if len(rows) != 2 || rows[0].Table != "sessions" || rows[0].Size != 3 || rows[0].Type != "ordered_set" ||
			len(rows[0].Nodes) != 1 || rows[0].Nodes[0] != n.Name() || rows[1].Error == "" {
			t.Fatalf("rows %+v", rows)
		}
		if !strings.Contains(rows[1].Server, "nothing") {
			t.Errorf("the missing server's row names it: %+v", rows[1])
		}
	})
}

// The ensemble panel lists the node's ensembles with their leaders, terms
// and members.
func TestEnsemblePanel(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		svc, err := ensemble.Start(n, nil, ensemble.Config{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		if err := svc.Enable(ctx); err != nil {
			t.Fatal(err)
		}
		if err := svc.CreateEnsemble(ctx, "users", []string{n.Name()}, ensemble.MemoryBackend); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second) // a follower timeout or two: the one peer elects itself
		h := newHandler(t, n, observer.Options{Panels: []observer.Panel{observer.EnsemblePanel(svc)}})
		rows := getJSON[[]observer.EnsembleRow](t, h, "/api/panels/ensembles")
		var users *observer.EnsembleRow
		for i := range rows {
			if rows[i].Ensemble == "users" {
				users = &rows[i]
			}
		}
		if users == nil || users.Leader != n.Name() || users.Term == 0 || len(users.Members) != 1 {
			t.Fatalf("rows %+v", rows)
		}
		if users.Applied == 0 || users.Commit < users.Applied || users.Error != "" || len(users.Lag) != 0 {
			t.Errorf("the leader's log: %+v", *users)
		}
	})
}

// The plumtree panel draws a root's tree as each member reports it.
func TestPlumtreePanel(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		srv, err := plumtree.Start(n, nil, plumtree.Config{Members: []string{n.Name()}, NoMembershipUpdates: true})
		if err != nil {
			t.Fatal(err)
		}
		h := newHandler(t, n, observer.Options{Panels: []observer.Panel{observer.PlumtreePanel(srv, n.Name())}})
		got := getJSON[observer.BroadcastTree](t, h, "/api/panels/plumtree")
		if got.Root != n.Name() || len(got.Tree) != 1 || got.Tree[0].Node != n.Name() || got.Tree[0].Down {
			t.Fatalf("tree %+v", got)
		}
	})
}

// The ensemble panel asks each ensemble's leader for its log and its
// followers' lag: a follower cut off from the leader falls behind by the
// writes it missed, and catches up once healed.
func TestEnsemblePanelLag(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(21)
		names := []string{"a", "b", "c"}
		svcs := map[string]*ensemble.Service{}
		nodes := map[string]*actor.Node{}
		var first *member
		for _, name := range names {
			m := startMember(t, net, name)
			nodes[name] = m.node
			if first == nil {
				first = m
			} else if err := m.svc.SyncJoin(t.Context(), first.svc.Myself()); err != nil {
				t.Fatal(err)
			}
			svc, err := ensemble.Start(m.node, m.svc, ensemble.Config{})
			if err != nil {
				t.Fatal(err)
			}
			svcs[name] = svc
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := svcs["a"].Enable(ctx); err != nil {
			t.Fatal(err)
		}
		for _, name := range names[1:] {
			if err := svcs[name].Join(ctx, "a"); err != nil {
				t.Fatal(err)
			}
		}
		if err := svcs["a"].CreateEnsemble(ctx, "users", names, ensemble.MemoryBackend); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second) // an election or two
		leader, ok := svcs["a"].GetLeader("users")
		if !ok {
			t.Fatal("no leader of users")
		}
		var followers []string
		for _, n := range names {
			if n != leader {
				followers = append(followers, n)
			}
		}
		behind, current := followers[0], followers[1]
		// The observer runs on the follower that stays with the leader.
		h := newHandler(t, nodes[current], observer.Options{Panels: []observer.Panel{observer.EnsemblePanel(svcs[current])}})
		row := func() observer.EnsembleRow {
			t.Helper()
			for _, r := range getJSON[[]observer.EnsembleRow](t, h, "/api/panels/ensembles") {
				if r.Ensemble == "users" {
					return r
				}
			}
			t.Fatal("no row for users")
			return observer.EnsembleRow{}
		}

		net.Partition([]string{behind}, []string{leader, current})
		wctx, wcancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer wcancel()
		for i := range 4 {
			if _, err := svcs[leader].Client().KOver(wctx, "users", "k", []byte{byte(i)}); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		time.Sleep(time.Second)
		r := row()
		if r.Leader != leader || r.Error != "" || r.Applied == 0 || r.Lag[current] != 0 || r.Lag[behind] < 4 || len(r.Lag) != 2 {
			t.Fatalf("with %s cut off: %+v", behind, r)
		}
		net.Heal()
		time.Sleep(10 * time.Second)
		if r := row(); r.Lag[behind] != 0 || r.Lag[current] != 0 || len(r.Lag) != 2 {
			t.Errorf("after healing: %+v", r)
		}
	})
}

// Panels carry a kind; /api/panels?kind= lists the panels of one.
func TestPanelKinds(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		data := func(context.Context) (any, error) { return 1, nil }
		h := newHandler(t, n, observer.Options{Panels: []observer.Panel{
			{Name: "tree a", Kind: observer.KindPlumtree, Data: data},
			{Name: "plain", Data: data},
			{Name: "tree b", Kind: observer.KindPlumtree, Data: data},
			observer.TablesPanel(n),
		}})
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"", []string{"tree a", "plain", "tree b", "tables"}},
			{"?kind=plumtree", []string{"tree a", "tree b"}},
			{"?kind=tables", []string{"tables"}},
			{"?kind=ensembles", []string{}},
			{"?kind=", []string{"plain"}},
		} {
			if got := getJSON[[]string](t, h, "/api/panels"+tc.query); !slices.Equal(got, tc.want) {
				t.Errorf("/api/panels%s: %q, want %q", tc.query, got, tc.want)
			}
		}
		if k := observer.PlumtreePanel(nil, "r").Kind; k != observer.KindPlumtree {
			t.Errorf("PlumtreePanel's kind %q", k)
		}
		if k := observer.EnsemblePanel(nil).Kind; k != observer.KindEnsembles {
			t.Errorf("EnsemblePanel's kind %q", k)
		}
	})
}
