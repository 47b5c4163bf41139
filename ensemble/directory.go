package ensemble

import (
	"context"
	"maps"
	"sync/atomic"

	"github.com/gotp-dev/gotp/actor"
)

// View is what a node knows of one ensemble: its members and its leader.
type View struct {
	Ensemble string
	// Leader is the node of the leader's peer ("" when none is known) and
	// Term the Raft term it leads in.
	Leader string
	Term   uint64
	// Members are the voters' nodes, sorted; while a membership change is
	// joint, OldMembers are the old configuration's (riak's views list
	// with two entries).
	Members    []string
	OldMembers []string
}

// directory is a node's cache of views and of its local peers. Readers
// (routers, clients) load an immutable snapshot: a lookup is a map read
// with no lock, as riak's ETS table. The manager process is the only
// writer and publishes a new snapshot after a change.
type directory struct {
	views atomic.Pointer[map[string]View]
	peers atomic.Pointer[map[string]actor.PID]
	// changed is closed, and replaced, each time new views are published:
	// waiters load it before they look, so no change goes unseen.
	changed atomic.Pointer[chan struct{}]
}

func newDirectory() *directory {
	d := &directory{}
	v, p := map[string]View{}, map[string]actor.PID{}
	d.views.Store(&v)
	d.peers.Store(&p)
	ch := make(chan struct{})
	d.changed.Store(&ch)
	return d
}

func (d *directory) view(ens string) (View, bool) {
	v, ok := (*d.views.Load())[ens]
	return v, ok
}

func (d *directory) localPeer(ens string) (actor.PID, bool) {
	p, ok := (*d.peers.Load())[ens]
	return p, ok
}

func (d *directory) publish(views map[string]View, peers map[string]actor.PID) {
	if views != nil {
		v := maps.Clone(views)
		d.views.Store(&v)
		next := make(chan struct{})
		close(*d.changed.Swap(&next))
	}
	if peers != nil {
		p := maps.Clone(peers)
		d.peers.Store(&p)
	}
}

// waitView waits until ok holds for the ensemble's view (found or not), and
// returns that view, or ctx's error.
func (d *directory) waitView(ctx context.Context, ens string, ok func(View, bool) bool) (View, error) {
	for {
		changed := *d.changed.Load()
		if v, found := d.view(ens); ok(v, found) {
			return v, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return View{}, ctx.Err()
		}
	}
}
