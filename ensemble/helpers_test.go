package ensemble_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/ensemble"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// cluster is a set of nodes on an in-memory network, each running the
// ensemble service. Use it inside a synctest bubble.
type cluster struct {
	t       testing.TB
	net     *transport.Network
	cfg     ensemble.Config
	nodes   map[string]*actor.Node
	remotes map[string]*remote.Remote
	svcs    map[string]*ensemble.Service
	names   []string
}

func newCluster(t testing.TB, seed int64, n int, cfg ensemble.Config) *cluster {
	c := &cluster{t: t, net: transport.NewNetwork(seed), cfg: cfg, nodes: map[string]*actor.Node{},
		remotes: map[string]*remote.Remote{}, svcs: map[string]*ensemble.Service{}}
	for i := range n {
		c.addNode(fmt.Sprintf("n%d", i+1))
	}
	return c
}

func (c *cluster) addNode(name string) *ensemble.Service {
	t := c.t
	t.Helper()
	n, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	r, err := remote.Start(n, remote.Config{
		Cookie:    "ensemble-test",
		Transport: c.net.Transport(name),
		Listen:    []string{name},
		Resolve:   func(_ context.Context, node string) ([]string, error) { return []string{node}, nil },
		// The frames the service is told of are the distribution's.
		MaxFrameSize: c.cfg.MaxFrameSize,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.cfg
	if cfg.DataDir != "" {
		cfg.DataDir = filepath.Join(cfg.DataDir, name) // a directory per node
	}
	s, err := ensemble.Start(n, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.nodes[name], c.remotes[name], c.svcs[name] = n, r, s
	c.names = append(c.names, name)
	t.Cleanup(func() {
		r.Stop()
		_ = n.Stop(context.Background())
	})
	return s
}

func (c *cluster) svc(name string) *ensemble.Service { return c.svcs[name] }

// stopNode stops a node's distribution layer and node, as a crash would
// leave its DataDir.
func (c *cluster) stopNode(name string) {
	c.remotes[name].Stop()
	_ = c.nodes[name].Stop(context.Background())
	c.names = slices.DeleteFunc(c.names, func(n string) bool { return n == name })
}

// form enables the first node and joins every other one.
func (c *cluster) form() {
	t := c.t
	t.Helper()
	ctx, cancel := ctxT(5 * time.Second)
	defer cancel()
	if err := c.svcs[c.names[0]].Enable(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.names[1:] {
		if err := c.svcs[n].Join(ctx, c.names[0]); err != nil {
			t.Fatalf("join %s: %v", n, err)
		}
	}
}

// create makes an ensemble on peers and waits until every peer's node
// knows its leader.
func (c *cluster) create(id string, peers ...string) string {
	t := c.t
	t.Helper()
	ctx, cancel := ctxT(5 * time.Second)
	defer cancel()
	if err := c.svcs[c.names[0]].CreateEnsemble(ctx, id, peers, ""); err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
	return c.waitLeader(id, peers)
}

// waitLeader advances fake time until every node in on agrees on a leader
// of ensemble id, and returns it.
func (c *cluster) waitLeader(id string, on []string, except ...string) string {
	t := c.t
	t.Helper()
	for range 200 {
		leader := ""
		agreed := true
		for _, n := range on {
			l, ok := c.svcs[n].GetLeader(id)
			if !ok || slices.Contains(except, l) || (leader != "" && l != leader) {
				agreed = false
				break
			}
			leader = l
		}
		if agreed && leader != "" {
			return leader
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no leader of %s agreed on by %v", id, on)
	return ""
}

func ctxT(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
