package observer

import (
	"context"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/ensemble"
	"github.com/gotp-dev/gotp/plumtree"
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
	return Panel{Name: "tables", Data: func(ctx context.Context) (any, error) {
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

// TreeNode is one node's part of a Plumtree broadcast tree.
type TreeNode struct {
	Node   string   `json:"node"`
	Eagers []string `json:"eagers"`
	Lazys  []string `json:"lazys"`
	Down   bool     `json:"down,omitempty"`
}

// PlumtreePanel is a panel of the eager/lazy tree of the broadcasts rooted at
// root, as each member's broadcast server reports its part of it
// (DebugGetTree); members that do not answer are marked down.
func PlumtreePanel(srv *plumtree.Server, root string) Panel {
	return Panel{Name: "plumtree", Data: func(ctx context.Context) (any, error) {
		members, err := srv.BroadcastMembers(ctx)
		if err != nil {
			return nil, err
		}
		entries := srv.DebugGetTree(ctx, root, members)
		out := make([]TreeNode, 0, len(entries))
		for _, e := range entries {
			out = append(out, TreeNode{Node: e.Node, Eagers: orEmpty(e.Peers.Eagers), Lazys: orEmpty(e.Peers.Lazys), Down: e.Down})
		}
		return map[string]any{"root": root, "tree": out}, nil
	}}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// EnsembleRow is one ensemble as this node's manager sees it.
type EnsembleRow struct {
	Ensemble   string   `json:"ensemble"`
	Leader     string   `json:"leader"`
	Term       uint64   `json:"term"`
	Members    []string `json:"members"`
	OldMembers []string `json:"old_members,omitempty"`
}

// EnsemblePanel is a panel of every ensemble the node knows: its leader, term
// and members (a joint configuration's old members too), from the manager's
// lock-free view cache.
func EnsemblePanel(svc *ensemble.Service) Panel {
	return Panel{Name: "ensembles", Data: func(ctx context.Context) (any, error) {
		ids := svc.Ensembles()
		rows := make([]EnsembleRow, 0, len(ids))
		for _, id := range ids {
			v, ok := svc.View(id)
			if !ok {
				continue
			}
			rows = append(rows, EnsembleRow{Ensemble: id, Leader: v.Leader, Term: v.Term, Members: orEmpty(v.Members), OldMembers: v.OldMembers})
		}
		return rows, nil
	}}
}
