package observer

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gotp-dev/gotp/rafted"
	"github.com/gotp-dev/gotp/remote"
)

type remoteSpec = remote.NodeSpec

// ClusterInfo is the cluster page as this node sees it.
type ClusterInfo struct {
	Self string `json:"self"`
	// Membership tells whether Options.Peers was given: without it the
	// members are the nodes the remote layer is connected to.
	Membership bool         `json:"membership"`
	Members    []MemberInfo `json:"members"`
	// Edges are the connections this node holds (from itself to each
	// connected peer). Other nodes' connections are theirs to report.
	Edges        []Edge          `json:"edges"`
	Partitions   []PartitionInfo `json:"partitions"`
	Digest       string          `json:"digest,omitempty"`
	GossipRounds int             `json:"gossip_rounds"`
	PendingAcks  int             `json:"pending_acks"`
	Error        string          `json:"error,omitempty"`
}

// MemberInfo is one member of the cluster.
type MemberInfo struct {
	Name  string   `json:"name"`
	Addrs []string `json:"addrs,omitempty"`
	// Role is the "role" tag ("server", "client"), empty in a full mesh.
	Role string `json:"role,omitempty"`
	// Verdict is the failure detector's: "self", "up" (it holds the peer
	// alive) or "down"; "connected"/"unknown" without a peer service.
	Verdict     string         `json:"verdict"`
	Connected   bool           `json:"connected"`
	Connections map[string]int `json:"connections,omitempty"`
}

// Edge is a connection between two nodes.
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// PartitionInfo is an injected partition this node holds.
type PartitionInfo struct {
	Ref    string `json:"ref"`
	Origin string `json:"origin"`
}

// Cluster reads membership, detector verdicts, connections and partitions.
func (o *Observer) Cluster(ctx context.Context) ClusterInfo {
	c := ClusterInfo{Self: o.node.Name(), Members: []MemberInfo{}, Edges: []Edge{}, Partitions: []PartitionInfo{}}
	svc := o.opts.Peers
	r := o.opts.Remote
	if svc != nil && r == nil {
		r = svc.Remote()
	}
	var specs []remoteSpec
	up := map[string]bool{}
	if svc != nil {
		c.Membership = true
		cctx, cancel := o.callContext(ctx)
		defer cancel()
		members, err := svc.AllMembers(cctx)
		if err != nil {
			c.Error = callError("members", err).Error()
		}
		specs = members
		if st, err := svc.Stats(cctx); err == nil {
			c.Digest = fmt.Sprintf("%016x", st.Digest)
			c.GossipRounds = st.GossipRounds
			c.PendingAcks = st.PendingAcks
			for _, n := range st.Up {
				up[n] = true
			}
		} else if c.Error == "" {
			c.Error = callError("stats", err).Error()
		}
		if parts, err := svc.Partitions(cctx); err == nil {
			for _, p := range parts {
				c.Partitions = append(c.Partitions, PartitionInfo{Ref: p.Ref, Origin: p.Origin})
			}
		}
	} else if r != nil {
		specs = append(specs, r.Spec())
		specs = append(specs, r.Peers()...)
	} else {
		specs = []remoteSpec{{Name: o.node.Name()}}
	}
	slices.SortFunc(specs, func(a, b remoteSpec) int { return strings.Compare(a.Name, b.Name) })
	specs = slices.CompactFunc(specs, func(a, b remoteSpec) bool { return a.Name == b.Name })
	for _, sp := range specs {
		m := MemberInfo{Name: sp.Name, Addrs: sp.Addrs, Role: sp.Tags["role"]}
		switch {
		case sp.Name == o.node.Name():
			m.Verdict = "self"
		case svc != nil && up[sp.Name]:
			m.Verdict = "up"
		case svc != nil:
			m.Verdict = "down"
		case r != nil && r.IsConnected(sp.Name):
			m.Verdict = "connected"
		default:
			m.Verdict = "unknown"
		}
		if r != nil && sp.Name != o.node.Name() {
			m.Connected = r.IsConnected(sp.Name)
			m.Connections = make(map[string]int, len(o.opts.Channels))
			for _, ch := range o.opts.Channels {
				m.Connections[ch] = r.ConnectionCount(sp.Name, ch)
			}
			if m.Connected {
				c.Edges = append(c.Edges, Edge{From: o.node.Name(), To: sp.Name})
			}
		}
		c.Members = append(c.Members, m)
	}
	return c
}

// RaftGroup is the status of one raft group, as one of its members
// reports it.
type RaftGroup struct {
	Server       string   `json:"server"`
	From         string   `json:"from,omitempty"`
	State        string   `json:"state,omitempty"`
	Term         uint64   `json:"term"`
	Leader       string   `json:"leader,omitempty"`
	Members      []string `json:"members"`
	Unresponsive []string `json:"unresponsive"`
	Commit       uint64   `json:"commit"`
	Applied      uint64   `json:"applied"`
	// Lag is, on the leader, each follower's distance in log entries
	// behind it (PID -> entries).
	Lag   map[string]uint64 `json:"lag,omitempty"`
	Error string            `json:"error,omitempty"`
}

// Rafted asks each raft member of Options.Rafted for its group's status.
func (o *Observer) Rafted(ctx context.Context) []RaftGroup {
	out := make([]RaftGroup, 0, len(o.opts.Rafted))
	for _, s := range o.opts.Rafted {
		g := RaftGroup{Server: s.String(), Members: []string{}, Unresponsive: []string{}}
		cctx, cancel := o.callContext(ctx)
		st, err := rafted.GetStatus(cctx, o.node, s)
		cancel()
		if err != nil {
			g.Error = callError("status", err).Error()
			out = append(out, g)
			continue
		}
		g.From, g.State, g.Term, g.Leader = st.From.String(), st.StateName, st.CurrentTerm, pidString(st.Leader)
		for _, m := range st.Members {
			g.Members = append(g.Members, m.String())
		}
		for _, m := range st.UnresponsiveFollowers {
			g.Unresponsive = append(g.Unresponsive, m.String())
		}
		g.Commit, g.Applied = st.CommitIndex, st.AppliedIndex
		for _, f := range st.Followers {
			if g.Lag == nil {
				g.Lag = map[string]uint64{}
			}
			g.Lag[f.PID.String()] = f.Lag
		}
		out = append(out, g)
	}
	return out
}

// PanelNames lists the panels in the order they were given.
func (o *Observer) PanelNames() []string {
	out := make([]string, 0, len(o.opts.Panels))
	for _, p := range o.opts.Panels {
		out = append(out, p.Name)
	}
	return out
}

// PanelsOfKind lists the names of the panels of kind, in the order they
// were given.
func (o *Observer) PanelsOfKind(kind string) []string {
	out := []string{}
	for _, p := range o.opts.Panels {
		if p.Kind == kind {
			out = append(out, p.Name)
		}
	}
	return out
}

// panel returns the panel named name.
func (o *Observer) panel(name string) (Panel, bool) {
	for _, p := range o.opts.Panels {
		if p.Name == name {
			return p, true
		}
	}
	return Panel{}, false
}

// PanelData runs the panel named name, with recover: a panel that panics
// is an error, not a crash of the observer.
func (o *Observer) PanelData(ctx context.Context, name string) (data any, err error) {
	p, ok := o.panel(name)
	if !ok {
		return nil, fmt.Errorf("%w: no panel %q", ErrNotFound, name)
	}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panel %q panicked: %v", name, v)
		}
	}()
	cctx, cancel := o.callContext(ctx)
	defer cancel()
	data, err = p.Data(cctx)
	return data, callError("panel "+name, err)
}
