package discovery_test

import (
	"reflect"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/cets/discovery"
	"github.com/gotp-dev/gotp/remote/transport"
)

func TestFormatStatus(t *testing.T) {
	ab := []string{"a", "b"}
	base := func() discovery.StatusData {
		return discovery.StatusData{
			ThisNode:    "a",
			OnlineNodes: []string{"a", "b"},
			SystemInfo: discovery.SystemInfo{
				Nodes: []string{"b", "a"}, Tables: []string{"t1", "t2"},
				LastGetNodesResult: discovery.LastGetNodesResult{Called: true},
			},
			AvailableNodes:  ab,
			LocalTableNodes: map[string][]string{"t1": ab, "t2": ab},
			NodeTableNodes:  map[string]map[string][]string{"b": {"t1": ab, "t2": ab}},
		}
	}
	for _, tc := range []struct {
		name   string
		change func(*discovery.StatusData)
		want   discovery.Status
	}{
		{"healthy", func(*discovery.StatusData) {}, discovery.Status{
			AvailableNodes: ab, JoinedNodes: ab, DiscoveredNodes: ab, DiscoveryWorks: true,
		}},
		{"unavailable and failing backend", func(d *discovery.StatusData) {
			d.SystemInfo.Nodes = []string{"a", "b", "c"}
			d.SystemInfo.UnavailableNodes = []string{"c"}
			d.SystemInfo.LastGetNodesResult = discovery.LastGetNodesResult{Called: true, Err: "boom"}
		}, discovery.Status{
			AvailableNodes: ab, UnavailableNodes: []string{"c"}, JoinedNodes: ab,
			DiscoveredNodes: []string{"a", "b", "c"},
		}},
		{"remote node without discovery", func(d *discovery.StatusData) {
			d.AvailableNodes = []string{"a"}
			d.NodeTableNodes = map[string]map[string][]string{}
		}, discovery.Status{
			AvailableNodes: []string{"a"}, JoinedNodes: []string{"a"}, DiscoveredNodes: ab, DiscoveryWorks: true,
			RemoteNodesWithoutDisco: []string{"b"},
		}},
		{"unknown tables", func(d *discovery.StatusData) {
			d.SystemInfo.Tables = []string{"t1"}
			d.LocalTableNodes = map[string][]string{"t1": ab}
			d.NodeTableNodes["b"]["t3"] = []string{"b"}
		}, discovery.Status{
			AvailableNodes: ab, JoinedNodes: ab, DiscoveredNodes: ab, DiscoveryWorks: true,
			RemoteNodesWithUnknownTables: []string{"b"}, RemoteUnknownTables: []string{"t2", "t3"},
		}},
		{"missing tables", func(d *discovery.StatusData) {
			delete(d.NodeTableNodes["b"], "t2")
		}, discovery.Status{
			AvailableNodes: ab, JoinedNodes: []string{"a"}, DiscoveredNodes: ab, DiscoveryWorks: true,
			RemoteNodesWithMissingTables: []string{"b"}, RemoteMissingTables: []string{"t2"},
		}},
		{"conflict", func(d *discovery.StatusData) {
			d.NodeTableNodes["b"]["t2"] = []string{"b"}
		}, discovery.Status{
			AvailableNodes: ab, JoinedNodes: []string{"a"}, DiscoveredNodes: ab, DiscoveryWorks: true,
			ConflictNodes: []string{"b"}, ConflictTables: []string{"t2"},
		}},
		{"node lists in another order are the same", func(d *discovery.StatusData) {
			d.NodeTableNodes["b"]["t2"] = []string{"b", "a"}
		}, discovery.Status{
			AvailableNodes: ab, JoinedNodes: ab, DiscoveredNodes: ab, DiscoveryWorks: true,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := base()
			tc.change(&d)
			if got := discovery.FormatStatus(d); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("FormatStatus =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

// The data gathered after an upgrade of a two-node cluster reports no
// duplicate, unknown or missing table (cets_status_SUITE's
// format_data_does_not_return_table_duplicates).
func TestFormatStatusNoDuplicates(t *testing.T) {
	n0 := "gotp@gotp-0.gotp.default.svc.cluster.local"
	n1 := "gotp@gotp-1.gotp.default.svc.cluster.local"
	both := []string{n0, n1}
	st := discovery.FormatStatus(discovery.StatusData{
		ThisNode: n0, OnlineNodes: both, AvailableNodes: both,
		SystemInfo:      discovery.SystemInfo{Nodes: both, Tables: []string{"cets_bosh", "cets_external_component"}},
		LocalTableNodes: map[string][]string{"cets_external_component": both, "cets_bosh": both},
		NodeTableNodes:  map[string]map[string][]string{n1: {"cets_external_component": both, "cets_bosh": both}},
	})
	if st.RemoteUnknownTables != nil || st.RemoteNodesWithMissingTables != nil || !reflect.DeepEqual(st.JoinedNodes, both) {
		t.Fatalf("status %+v", st)
	}
}

// Status across two nodes: each discovery process reports its tables'
// nodes to the other; a node that does not run discovery is reported.
func TestStatusAcrossNodes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(1)
		a := startNode(t, net, "a")
		b := startNode(t, net, "b")
		startNode(t, net, "c") // no discovery
		for _, n := range []*tnode{a, b} {
			spawnTable(t, n, "t1")
			spawnTable(t, n, "t2")
		}
		ab := []string{"a", "b"}
		ja := &fakeJoiner{nodes: map[string][]string{"t1": ab, "t2": ab}}
		jb := &fakeJoiner{nodes: map[string][]string{"t1": ab, "t2": {"b"}}}
		cfg := func(j *fakeJoiner, n *tnode) discovery.Config {
			return discovery.Config{Backend: discovery.Static("a", "b", "c"), Tables: []string{"t1", "t2"},
				Joiner: j, Network: discovery.RemoteNetwork(n.r)}
		}
		da := startDisco(t, a.Node, cfg(ja, a))
		db := startDisco(t, b.Node, cfg(jb, b))
		for _, d := range []*discovery.Discovery{da, db} {
			if err := d.WaitForReady(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		st, err := da.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := discovery.Status{
			AvailableNodes: ab, JoinedNodes: []string{"a"}, DiscoveredNodes: []string{"a", "b", "c"},
			DiscoveryWorks: true, RemoteNodesWithoutDisco: []string{"c"},
			ConflictNodes: []string{"b"}, ConflictTables: []string{"t2"},
		}
		if !reflect.DeepEqual(st, want) {
			t.Fatalf("status\n%+v\nwant\n%+v", st, want)
		}
		// The two discovery processes exchanged start times: both are in the
		// regular phase, long before InitialPhase is over.
		for _, pair := range []struct {
			d     *discovery.Discovery
			other *discovery.Discovery
			name  string
		}{{da, db, "b"}, {db, da, "a"}} {
			si := sysInfo(t, pair.d)
			if si.Phase != discovery.PhaseRegular {
				t.Fatalf("phase %s", si.Phase)
			}
			if got, want := si.NodeStartTimestamps[pair.name], sysInfo(t, pair.other).StartTime; !got.Equal(want) {
				t.Fatalf("start time of %s = %v, want %v", pair.name, got, want)
			}
		}
	})
}
