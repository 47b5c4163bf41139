package ensemble_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"testing/synctest"
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
// knows its leader, and the messages in flight then are handled (the
// followers' peers have heard from the leader).
func (c *cluster) create(id string, peers ...string) string {
	t := c.t
	t.Helper()
	ctx, cancel := ctxT(5 * time.Second)
	defer cancel()
	if err := c.svcs[c.names[0]].CreateEnsemble(ctx, id, peers, ""); err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
	leader := c.waitLeader(id, peers)
	synctest.Wait()
	return leader
}

// waitLeader waits until every node in on names one leader of ensemble
// id, none of except, and returns it.
func (c *cluster) waitLeader(id string, on []string, except ...string) string {
	c.t.Helper()
	var leader string
	c.waitDirs(on, fmt.Sprintf("a leader of %s agreed on by %v", id, on), func() (ok bool) {
		leader, ok = c.agreedLeader(id, on, except)
		return ok
	})
	return leader
}

// waitDirs waits until cond holds, looking again only when the directory
// of a node in on changes (fake time passes meanwhile); it fails the test
// after 20 s.
func (c *cluster) waitDirs(on []string, what string, cond func() bool) {
	t := c.t
	t.Helper()
	ctx, cancel := ctxT(20 * time.Second)
	defer cancel()
	cases := make([]reflect.SelectCase, len(on)+1)
	cases[len(on)] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())}
	for {
		// The channels are taken before cond looks, so that no change
		// between the two goes unseen.
		for i, n := range on {
			cases[i] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c.svcs[n].DirectoryChanged())}
		}
		if cond() {
			return
		}
		if i, _, _ := reflect.Select(cases); i == len(on) {
			t.Fatalf("waited 20 s for %s", what)
		}
	}
}

// agreedLeader is the leader every node in on names, if they name one and
// it is none of except.
func (c *cluster) agreedLeader(id string, on, except []string) (string, bool) {
	leader := ""
	for _, n := range on {
		l, ok := c.svcs[n].GetLeader(id)
		if !ok || slices.Contains(except, l) || (leader != "" && l != leader) {
			return "", false
		}
		leader = l
	}
	return leader, leader != ""
}

func ctxT(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
