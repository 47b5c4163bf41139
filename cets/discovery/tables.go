package discovery

import (
	"context"
	"errors"
	"fmt"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
)

// TablesJoiner is the Joiner of package cets's tables, the default one:
// Join is cets.Join (under its cluster lock, so the lock servers of package
// clusterlock must run on every node), and TableNodes reads the table's
// Info. A join of tables already joined fails with cets.ErrAlreadyJoined and
// is recorded as such, as in CETS.
type TablesJoiner struct {
	// Node is the local node.
	Node *actor.Node
	// Options are passed to every cets.Join.
	Options cets.JoinOptions
}

var _ Joiner = TablesJoiner{}

// Join implements Joiner.
func (j TablesJoiner) Join(ctx context.Context, table string, local, remote actor.PID) error {
	return cets.Join(ctx, j.Node, local, remote, j.Options)
}

// TableNodes implements Joiner.
func (j TablesJoiner) TableNodes(ctx context.Context, table string) ([]string, error) {
	info, err := cets.GetInfo(ctx, j.Node, actor.Name{Node: j.Node.Name(), Name: table})
	if err != nil {
		return nil, err
	}
	return info.Nodes, nil
}

// Info describes every table discovery tracks (cets_discovery:info), in
// table order. Tables that do not answer are left out, and their errors
// joined into the error returned.
func (d *Discovery) Info(ctx context.Context) ([]cets.Info, error) {
	tables, err := d.Tables(ctx)
	if err != nil {
		return nil, err
	}
	var infos []cets.Info
	var errs []error
	for _, t := range tables {
		info, err := cets.GetInfo(ctx, d.node, actor.Name{Node: d.node.Name(), Name: t})
		if err != nil {
			errs = append(errs, fmt.Errorf("discovery: info of table %s: %w", t, err))
			continue
		}
		infos = append(infos, info)
	}
	return infos, errors.Join(errs...)
}
