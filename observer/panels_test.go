package observer_test

import (
	"strings"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/observer"
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
