package discovery

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/supervisor"
)

// Discovery is the handle on a running discovery process. Its methods call
// or cast to the process by its registered name, so they keep working across
// restarts by its supervisor.
type Discovery struct {
	node *actor.Node
	cfg  Config

	mu  sync.Mutex
	sup actor.PID
}

func newDiscovery(node *actor.Node, cfg Config) (*Discovery, error) {
	if node == nil {
		return nil, fmt.Errorf("%w: nil node", ErrConfig)
	}
	cfg = cfg.withDefaults(node.Logger())
	if cfg.Joiner == nil {
		cfg.Joiner = TablesJoiner{Node: node}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Discovery{node: node, cfg: cfg}, nil
}

func (d *Discovery) supervisorSpec() supervisor.Spec {
	return supervisor.Spec{Children: []supervisor.ChildSpec{d.workerSpec("discovery")}}
}

func (d *Discovery) workerSpec(id string) supervisor.ChildSpec {
	return supervisor.Worker(id, func() actor.GenServer { return &server{d: d, cfg: d.cfg} },
		actor.WithName(d.cfg.Name), actor.WithTrapExit())
}

// Start starts a discovery process on node under a supervisor of its own,
// registered as cfg.Name. It checks the backend at once.
func Start(node *actor.Node, cfg Config) (*Discovery, error) {
	d, err := newDiscovery(node, cfg)
	if err != nil {
		return nil, err
	}
	sup, err := supervisor.Start(node, d.supervisorSpec())
	if err != nil {
		return nil, fmt.Errorf("discovery: start: %w", err)
	}
	d.sup = sup
	return d, nil
}

// ChildSpec returns the discovery process as a worker child of the caller's
// own supervision tree, and the handle on it, which works while the child
// runs.
func ChildSpec(id string, node *actor.Node, cfg Config) (supervisor.ChildSpec, *Discovery, error) {
	d, err := newDiscovery(node, cfg)
	if err != nil {
		return supervisor.ChildSpec{}, nil, err
	}
	return d.workerSpec(id), d, nil
}

// Stop stops the discovery process and its supervisor (when Start started
// one). Tables stay joined.
func (d *Discovery) Stop(ctx context.Context) error {
	d.mu.Lock()
	sup := d.sup
	d.mu.Unlock()
	var err error
	if !sup.IsZero() {
		err = supervisor.Stop(ctx, d.node, sup)
	} else {
		err = d.node.StopProcess(ctx, d.dest(), actor.Normal)
	}
	if errors.Is(err, actor.ErrNoProc) {
		return nil
	}
	return err
}

// Name returns the process's registered name on its node.
func (d *Discovery) Name() actor.Name { return d.dest() }

func (d *Discovery) dest() actor.Name {
	return actor.Name{Node: d.node.Name(), Name: d.cfg.Name}
}

// AddTable adds a table to join with the nodes found (it is joined at
// once, and the backend asked again). Adding a table twice is harmless.
func (d *Discovery) AddTable(table string) error {
	if table == "" {
		return fmt.Errorf("%w: empty table name", ErrConfig)
	}
	return d.cast(castAddTable{table: table})
}

// DeleteTable stops joining a table. The table itself is left as it is.
func (d *Discovery) DeleteTable(table string) error {
	return d.cast(castDeleteTable{table: table})
}

// Check asks for a backend call now (or right after the running one).
func (d *Discovery) Check() error { return d.cast(castCheck{}) }

func (d *Discovery) cast(msg any) error {
	if err := d.node.Cast(d.dest(), msg); err != nil {
		return d.wrap(err)
	}
	return nil
}

// Tables returns the tables discovery joins, sorted (CETS's get_tables).
func (d *Discovery) Tables(ctx context.Context) ([]string, error) {
	return call[[]string](ctx, d, callTables{})
}

// SystemInfo returns the discovery process's state.
func (d *Discovery) SystemInfo(ctx context.Context) (SystemInfo, error) {
	return call[SystemInfo](ctx, d, callSystemInfo{})
}

// WaitForReady returns once the initial discovery is done: the last
// backend call succeeded, every node it listed is connected or known to be
// unavailable, and every table has a join result with every connected node
// (so the tables hold the other nodes' data). It waits as long as ctx lets
// it (without a deadline, as long as it takes); a deadline passed is an
// error matching ErrTimeout and context.DeadlineExceeded.
func (d *Discovery) WaitForReady(ctx context.Context) error {
	_, err := call[any](actor.WithoutCallTimeout(ctx), d, callWaitReady{})
	return err
}

// WaitForGetNodes returns once no backend call is running: at once when
// none is, else when the running one returns (and the one asked for while
// it ran, if any). Unlike WaitForReady it does not wait for unavailable
// nodes to be found so, nor for joins.
func (d *Discovery) WaitForGetNodes(ctx context.Context) error {
	_, err := call[any](actor.WithoutCallTimeout(ctx), d, callWaitGetNode{})
	return err
}

func call[T any](ctx context.Context, d *Discovery, req any) (T, error) {
	var zero T
	reply, err := d.node.Call(ctx, d.dest(), req)
	if err != nil {
		return zero, d.wrap(err)
	}
	if reply == nil {
		return zero, nil
	}
	v, ok := reply.(T)
	if !ok {
		return zero, fmt.Errorf("discovery: unexpected reply %T", reply)
	}
	return v, nil
}

func (d *Discovery) wrap(err error) error {
	switch {
	case errors.Is(err, actor.ErrTimeout) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	case errors.Is(err, actor.ErrNoProc):
		return fmt.Errorf("%w: %w", ErrStopped, err)
	}
	return err
}
