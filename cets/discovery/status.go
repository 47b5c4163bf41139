package discovery

import (
	"context"
	"maps"
	"slices"

	"github.com/gotp-dev/gotp/actor"
)

// Status is the health of the tables' cluster as this node sees it
// (cets_status:status).
type Status struct {
	// AvailableNodes are the online nodes (this one and those connected)
	// that run a discovery process under this one's name.
	AvailableNodes []string
	// UnavailableNodes are discovered nodes that could not be reached.
	UnavailableNodes []string
	// JoinedNodes run every local table with the same node list as here:
	// they replicate with each other.
	JoinedNodes []string
	// DiscoveredNodes are the nodes the backend returned last.
	DiscoveredNodes []string
	// DiscoveryWorks is true when the last backend call succeeded.
	DiscoveryWorks bool
	// RemoteNodesWithoutDisco are discovered, connected nodes that run no
	// discovery process.
	RemoteNodesWithoutDisco []string
	// RemoteNodesWithUnknownTables run tables this node does not track
	// (RemoteUnknownTables).
	RemoteNodesWithUnknownTables []string
	RemoteUnknownTables          []string
	// RemoteNodesWithMissingTables lack tables this node tracks
	// (RemoteMissingTables).
	RemoteNodesWithMissingTables []string
	RemoteMissingTables          []string
	// ConflictNodes replicate a local table (one of ConflictTables) to
	// another list of nodes than this node does, as happens during a
	// netsplit.
	ConflictNodes  []string
	ConflictTables []string
}

// StatusData is what Status gathers before it analyses it
// (cets_status:gather_data), for debugging and tests of FormatStatus.
type StatusData struct {
	ThisNode       string
	OnlineNodes    []string
	SystemInfo     SystemInfo
	AvailableNodes []string
	// LocalTableNodes maps each local table to its nodes.
	LocalTableNodes map[string][]string
	// NodeTableNodes maps each other available node to its own
	// LocalTableNodes.
	NodeTableNodes map[string]map[string][]string
}

// Status gathers the status data and analyses it.
func (d *Discovery) Status(ctx context.Context) (Status, error) {
	data, err := d.GatherStatus(ctx)
	if err != nil {
		return Status{}, err
	}
	return FormatStatus(data), nil
}

// GatherStatus collects what Status analyses: this discovery's state, which
// online nodes run discovery, and every available node's tables and their
// nodes. Nodes that do not answer are left out.
func (d *Discovery) GatherStatus(ctx context.Context) (StatusData, error) {
	si, err := d.SystemInfo(ctx)
	if err != nil {
		return StatusData{}, err
	}
	self := d.node.Name()
	data := StatusData{ThisNode: self, SystemInfo: si, NodeTableNodes: map[string]map[string][]string{}}
	data.OnlineNodes = addSorted(sortedCopy(d.cfg.Network.Connected()), self)
	for _, n := range data.OnlineNodes {
		if n == self {
			if _, ok := d.node.WhereIs(d.cfg.Name); ok {
				data.AvailableNodes = append(data.AvailableNodes, n)
			}
			continue
		}
		if _, err := d.node.Resolve(ctx, actor.Name{Node: n, Name: d.cfg.Name}); err == nil {
			data.AvailableNodes = append(data.AvailableNodes, n)
		}
	}
	data.LocalTableNodes = localTableNodes(ctx, d.cfg, si.Tables)
	for _, n := range data.AvailableNodes {
		if n == self {
			continue
		}
		reply, err := d.node.Call(ctx, actor.Name{Node: n, Name: d.cfg.Name}, tableNodesReq{})
		if err != nil {
			continue
		}
		if r, ok := reply.(tableNodesReply); ok {
			if r.Tables == nil {
				r.Tables = map[string][]string{}
			}
			data.NodeTableNodes[n] = r.Tables
		}
	}
	return data, nil
}

// FormatStatus analyses gathered data (cets_status:format_data). It is a
// pure function; every list is sorted.
func FormatStatus(data StatusData) Status {
	si := data.SystemInfo
	tables := sortedCopy(si.Tables)
	st := Status{
		AvailableNodes:   sortedCopy(data.AvailableNodes),
		UnavailableNodes: sortedCopy(si.UnavailableNodes),
		DiscoveredNodes:  sortedCopy(si.Nodes),
		DiscoveryWorks:   si.LastGetNodesResult.OK(),
	}
	for _, n := range st.DiscoveredNodes {
		if slices.Contains(data.OnlineNodes, n) && !slices.Contains(data.AvailableNodes, n) {
			st.RemoteNodesWithoutDisco = append(st.RemoteNodesWithoutDisco, n)
		}
	}
	others := slices.Sorted(maps.Keys(data.NodeTableNodes))
	// Joined: every local table is on the node with the same nodes.
	st.JoinedNodes = []string{data.ThisNode}
	for _, n := range others {
		tabNodes := data.NodeTableNodes[n]
		joined := true
		for t, nodes := range data.LocalTableNodes {
			if other, ok := tabNodes[t]; !ok || !slices.Equal(sortedCopy(other), sortedCopy(nodes)) {
				joined = false
				break
			}
		}
		if joined {
			st.JoinedNodes = addSorted(st.JoinedNodes, n)
		}
	}
	// Unknown: tables somewhere that this discovery does not track.
	var all []string
	for t := range data.LocalTableNodes {
		all = addSorted(all, t)
	}
	for _, n := range others {
		for t := range data.NodeTableNodes[n] {
			all = addSorted(all, t)
		}
	}
	for _, t := range all {
		if !slices.Contains(tables, t) {
			st.RemoteUnknownTables = append(st.RemoteUnknownTables, t)
		}
	}
	for _, n := range others {
		for _, t := range st.RemoteUnknownTables {
			if _, ok := data.NodeTableNodes[n][t]; ok {
				st.RemoteNodesWithUnknownTables = append(st.RemoteNodesWithUnknownTables, n)
				break
			}
		}
	}
	// Missing: tables tracked here that a node does not run.
	for _, n := range others {
		missing := false
		for _, t := range tables {
			if _, ok := data.NodeTableNodes[n][t]; !ok {
				st.RemoteMissingTables = addSorted(st.RemoteMissingTables, t)
				missing = true
			}
		}
		if missing {
			st.RemoteNodesWithMissingTables = append(st.RemoteNodesWithMissingTables, n)
		}
	}
	// Conflicts: a local table replicated to another node list there.
	for _, n := range others {
		for t, nodes := range data.NodeTableNodes[n] {
			local, ok := data.LocalTableNodes[t]
			if ok && !slices.Equal(sortedCopy(local), sortedCopy(nodes)) {
				st.ConflictTables = addSorted(st.ConflictTables, t)
				st.ConflictNodes = addSorted(st.ConflictNodes, n)
			}
		}
	}
	return st
}
