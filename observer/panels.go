package observer

import (
	"context"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
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
