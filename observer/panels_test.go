package observer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/ensemble"
	"github.com/gotp-dev/gotp/observer"
	"github.com/gotp-dev/gotp/plumtree"
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
		got := getJSON[struct {
			Root string              `json:"root"`
			Tree []observer.TreeNode `json:"tree"`
		}](t, h, "/api/panels/plumtree")
		if got.Root != n.Name() || len(got.Tree) != 1 || got.Tree[0].Node != n.Name() || got.Tree[0].Down {
			t.Fatalf("tree %+v", got)
		}
	})
}
