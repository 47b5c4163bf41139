package observer

import (
	"context"
	"sync"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/ensemble"
	"github.com/gotp-dev/gotp/plumtree"
)

// The kinds of the built-in panels (Panel.Kind).
const (
	// KindTables: Data is a []TableRow (TablesPanel).
	KindTables = "tables"
	// KindPlumtree: Data is a BroadcastTree (PlumtreePanel); the cluster
	// page draws it.
	KindPlumtree = "plumtree"
	// KindEnsembles: Data is a []EnsembleRow (EnsemblePanel); the cluster
	// page shows it.
	KindEnsembles = "ensembles"
)

// TableRow is one cets table as its server on this node reports it.
type TableRow struct {
	Table   string   `json:"table"`
	Server  string   `json:"server"`
	Type    string   `json:"type"`
	Size    int      `json:"size"`
	Memory  int      `json:"memory"`
	Leader  string   `json:"leader"`
	Nodes   []string `json:"nodes"`
	JoinRef uint64   `json:"join_ref"`
	Downs   int      `json:"node_downs"`
	Paused  int      `json:"pauses"`
	Error   string   `json:"error,omitempty"`
}

// TablesPanel is a panel of cets tables: for each server (a table's
// registered name on this node, or a PID) its size, memory, nodes, leader
// and join reference, as cets:info/1 gives them.
func TablesPanel(node *actor.Node, servers ...actor.Dest) Panel {
	return Panel{Name: "tables", Kind: KindTables, Data: func(ctx context.Context) (any, error) {
		rows := make([]TableRow, 0, len(servers))
		for _, s := range servers {
			info, err := cets.GetInfo(ctx, node, s)
			if err != nil {
				rows = append(rows, TableRow{Server: s.String(), Error: err.Error()})
				continue
			}
			rows = append(rows, TableRow{
				Table: info.Table, Server: info.Server.String(), Type: info.Type.String(), Size: info.Size, Memory: info.Memory,
				Leader: info.Leader.String(), Nodes: info.Nodes, JoinRef: info.JoinRef,
				Downs: len(info.NodeDownHistory), Paused: len(info.PauseMonitors),
			})
		}
		return rows, nil
	}}
}

// BroadcastTree is the Plumtree broadcast tree of one root.
type BroadcastTree struct {
	Root string     `json:"root"`
	Tree []TreeNode `json:"tree"`
}

// TreeNode is one node's part of a Plumtree broadcast tree.
type TreeNode struct {
	Node   string   `json:"node"`
	Eagers []string `json:"eagers"`
	Lazys  []string `json:"lazys"`
	Down   bool     `json:"down,omitempty"`
}

// PlumtreePanel is a panel of the eager/lazy tree of the broadcasts rooted at
// root, as each member's broadcast server reports its part of it
// (DebugGetTree); members that do not answer are marked down. Its name is
// "plumtree"; to show the trees of several roots, give each panel a name of
// its own (the cluster page offers a choice between them):
//
//	p := observer.PlumtreePanel(srv, "n2")
//	p.Name = "plumtree n2"
func PlumtreePanel(srv *plumtree.Server, root string) Panel {
	return Panel{Name: "plumtree", Kind: KindPlumtree, Data: func(ctx context.Context) (any, error) {
		members, err := srv.BroadcastMembers(ctx)
		if err != nil {
			return nil, err
		}
		entries := srv.DebugGetTree(ctx, root, members)
		out := make([]TreeNode, 0, len(entries))
		for _, e := range entries {
			out = append(out, TreeNode{Node: e.Node, Eagers: orEmpty(e.Peers.Eagers), Lazys: orEmpty(e.Peers.Lazys), Down: e.Down})
		}
		return BroadcastTree{Root: root, Tree: out}, nil
	}}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// EnsembleRow is one ensemble as this node's manager sees it, with what its
// leader reports of its log and followers.
type EnsembleRow struct {
	Ensemble   string   `json:"ensemble"`
	Leader     string   `json:"leader"`
	Term       uint64   `json:"term"`
	Members    []string `json:"members"`
	OldMembers []string `json:"old_members,omitempty"`
	// Commit and Applied are the leader's commit and applied indexes.
	Commit    uint64 `json:"commit"`
	Applied   uint64 `json:"applied"`
	Quiescent bool   `json:"quiescent"`
	// Lag is, on the leader, each follower's distance in log entries
	// behind it (node -> entries), as RaftGroup.Lag.
	Lag map[string]uint64 `json:"lag,omitempty"`
	// Error is set when the leader did not answer (or there is none).
	Error string `json:"error,omitempty"`
}

// EnsemblePanel is a panel of every ensemble the node knows: its leader, term
// and members (a joint configuration's old members too), from the manager's
// lock-free view cache, and the leader's commit and applied indexes and
// follower lag, from a status call to the leader's node per ensemble
// (Service.PeerStatus).
func EnsemblePanel(svc *ensemble.Service) Panel {
	return Panel{Name: "ensembles", Kind: KindEnsembles, Data: func(ctx context.Context) (any, error) {
		ids := svc.Ensembles()
		rows := make([]EnsembleRow, 0, len(ids))
		for _, id := range ids {
			if v, ok := svc.View(id); ok {
				rows = append(rows, EnsembleRow{Ensemble: id, Leader: v.Leader, Term: v.Term, Members: orEmpty(v.Members), OldMembers: v.OldMembers})
			}
		}
		// The leaders are asked side by side (32 at a time): one that cannot
		// be reached (cut off, say) must not use up the others' time.
		var wg sync.WaitGroup
		slots := make(chan struct{}, 32)
		for i := range rows {
			slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-slots }()
				leaderStatus(ctx, svc, &rows[i])
			})
		}
		wg.Wait()
		return rows, nil
	}}
}

// leaderStatus fills row with what its leader reports; a peer that no
// longer leads tells its term and leader, and no lag.
func leaderStatus(ctx context.Context, svc *ensemble.Service, row *EnsembleRow) {
	if row.Leader == "" {
		row.Error = "no leader known"
		return
	}
	st, err := svc.PeerStatus(ctx, row.Leader, row.Ensemble)
	if err != nil {
		row.Error = callError("peer status", err).Error()
		return
	}
	row.Commit, row.Applied, row.Quiescent = st.Commit, st.Applied, st.Quiescent
	if st.Term > row.Term {
		row.Term, row.Leader = st.Term, st.Leader
	}
	if st.State != "leader" {
		return
	}
	row.Members, row.OldMembers = orEmpty(st.Members), st.OldMembers
	for _, f := range st.Followers {
		if row.Lag == nil {
			row.Lag = make(map[string]uint64, len(st.Followers))
		}
		row.Lag[f.Node] = f.Lag
	}
}
