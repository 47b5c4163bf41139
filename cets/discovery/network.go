package discovery

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
)

// Joiner is what discovery needs of the replicated tables: joining a local
// table with the same table on another node (cets_join:join), and the nodes
// a local table replicates to (cets:get_nodes, for Status). Package cets's
// tables provide it.
type Joiner interface {
	// Join joins the table served by local with the one served by remote,
	// both registered under the table's name on their nodes. It returns
	// once the two are one table, or with why not.
	Join(ctx context.Context, table string, local, remote actor.PID) error
	// TableNodes returns the nodes the local table replicates to, this
	// node included, sorted.
	TableNodes(ctx context.Context, table string) ([]string, error)
}

// JoinerFuncs adapts two functions to a Joiner.
type JoinerFuncs struct {
	JoinFunc  func(ctx context.Context, table string, local, remote actor.PID) error
	NodesFunc func(ctx context.Context, table string) ([]string, error)
}

var _ Joiner = JoinerFuncs{}

// Join implements Joiner.
func (j JoinerFuncs) Join(ctx context.Context, table string, local, remote actor.PID) error {
	return j.JoinFunc(ctx, table, local, remote)
}

// TableNodes implements Joiner.
func (j JoinerFuncs) TableNodes(ctx context.Context, table string) ([]string, error) {
	return j.NodesFunc(ctx, table)
}

// Network is how discovery reaches the nodes it finds and learns which are
// connected: Erlang's net_kernel, for discovery's purposes.
type Network interface {
	// Connect connects to the node (net_kernel:connect_node): it returns
	// nil once a connection is up, or why not.
	Connect(ctx context.Context, spec remote.NodeSpec) error
	// Connected lists the nodes connected now, without this one (nodes()).
	Connected() []string
	// Watch sends the process pid a NodeUp or NodeDown message, in order,
	// each time a node connects or is lost, until cancel is called
	// (net_kernel:monitor_nodes).
	Watch(pid actor.PID) (cancel func())
}

// NodeUp tells a watching process that a node connected.
type NodeUp struct{ Node string }

// NodeDown tells a watching process that the connection to a node was lost.
type NodeDown struct{ Node string }

// RemoteNetwork is the Network of a node's remote layer: discovery dials the
// nodes itself, and a peer is up from its handshake to the loss of its
// connection.
func RemoteNetwork(r *remote.Remote) Network { return remoteNetwork{r} }

type remoteNetwork struct{ r *remote.Remote }

func (n remoteNetwork) Connect(ctx context.Context, spec remote.NodeSpec) error {
	if len(spec.Addrs) > 0 {
		n.r.Learn(spec)
	}
	return n.r.Connect(ctx, spec)
}

func (n remoteNetwork) Connected() []string {
	var out []string
	for _, p := range n.r.Peers() {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (n remoteNetwork) Watch(pid actor.PID) func() {
	node := n.r.Node()
	var w watch
	w.set(n.r.Subscribe(func(ev remote.Event) {
		switch ev.Kind {
		case remote.PeerUp:
			w.send(node, pid, NodeUp{Node: ev.Peer.Name})
		case remote.PeerDown:
			w.send(node, pid, NodeDown{Node: ev.Peer.Name})
		}
	}))
	return w.cancel
}

// watch is a subscription that ends when its process is gone: the first
// send that finds no process cancels it.
type watch struct {
	mu      sync.Mutex
	cancels []func()
	done    bool
}

func (w *watch) set(cancels ...func()) {
	w.mu.Lock()
	w.cancels = append(w.cancels, cancels...)
	done := w.done
	w.mu.Unlock()
	if done {
		w.cancel()
	}
}

func (w *watch) send(node *actor.Node, pid actor.PID, msg any) {
	if err := node.Send(pid, msg); errors.Is(err, actor.ErrNoProc) {
		go w.cancel() // not from inside the subscription's own callback
	}
}

func (w *watch) cancel() {
	w.mu.Lock()
	w.done = true
	cancels := w.cancels
	w.cancels = nil
	w.mu.Unlock()
	for _, c := range cancels {
		c()
	}
}

// PeerServiceNetwork is the Network of a node's peer service: discovery
// joins the nodes it finds to the service's cluster (SyncJoin), and a node is
// up and down as the service's failure detector says (OnUp, OnDown).
func PeerServiceNetwork(svc *peerservice.Service) Network { return serviceNetwork{svc} }

type serviceNetwork struct{ svc *peerservice.Service }

func (n serviceNetwork) Connect(ctx context.Context, spec remote.NodeSpec) error {
	return n.svc.SyncJoin(ctx, spec)
}

func (n serviceNetwork) Connected() []string {
	return remoteNetwork{n.svc.Remote()}.Connected()
}

func (n serviceNetwork) Watch(pid actor.PID) func() {
	node := n.svc.Remote().Node()
	self := n.svc.Myself().Name
	// Up and down arrive on the service's one notification goroutine, so
	// they stay in order.
	var w watch
	w.set(n.svc.OnUp("", func(spec remote.NodeSpec) {
		if spec.Name != self {
			w.send(node, pid, NodeUp{Node: spec.Name})
		}
	}), n.svc.OnDown("", func(spec remote.NodeSpec) {
		if spec.Name != self {
			w.send(node, pid, NodeDown{Node: spec.Name})
		}
	}))
	return w.cancel
}

type noNetwork struct{}

func (noNetwork) Connect(context.Context, remote.NodeSpec) error { return ErrNoNetwork }
func (noNetwork) Connected() []string                            { return nil }
func (noNetwork) Watch(actor.PID) func()                         { return func() {} }
