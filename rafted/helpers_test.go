package rafted_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"io"
	"log"
	"slices"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/rafted"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// kv is the test value: a map of int64 registers.
//
//	command []any{"put", key, v}  sets key, returns the old value
//	command []any{"add", key, d}  adds d, returns the new value
//	query   key                    returns the value
type kv struct{ m map[string]int64 }

func newKV() rafted.Data { return &kv{m: map[string]int64{}} }

func (d *kv) Command(arg any) any {
	a, ok := arg.([]any)
	if !ok || len(a) != 3 {
		return fmt.Errorf("bad command %v", arg)
	}
	key, _ := a[1].(string)
	v, _ := a[2].(int64)
	switch a[0] {
	case "put":
		old := d.m[key]
		d.m[key] = v
		return old
	case "add":
		d.m[key] += v
		return d.m[key]
	}
	return fmt.Errorf("bad command %v", arg)
}

func (d *kv) Query(arg any) any {
	key, _ := arg.(string)
	return d.m[key]
}

func (d *kv) Snapshot() ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(d.m)
	return b.Bytes(), err
}

func (d *kv) Restore(b []byte) error {
	d.m = map[string]int64{}
	return gob.NewDecoder(bytes.NewReader(b)).Decode(&d.m)
}

func put(k string, v int64) []any { return []any{"put", k, v} }
func add(k string, v int64) []any { return []any{"add", k, v} }

// cluster is a set of nodes on an in-memory network, each with its
// distribution layer, and the members started on them. Use it inside a
// synctest bubble.
type cluster struct {
	t       testing.TB
	net     *transport.Network
	nodes   map[string]*actor.Node
	remotes map[string]*remote.Remote
	names   []string
	// maxFrame is every node's remote.Config.MaxFrameSize (0: the default).
	maxFrame int
}

func newCluster(t testing.TB, seed int64, n int) *cluster {
	return newClusterFrame(t, seed, n, 0)
}

// newClusterFrame is newCluster with frames of at most maxFrame bytes.
func newClusterFrame(t testing.TB, seed int64, n, maxFrame int) *cluster {
	c := &cluster{t: t, net: transport.NewNetwork(seed), nodes: map[string]*actor.Node{}, remotes: map[string]*remote.Remote{}, maxFrame: maxFrame}
	for i := range n {
		c.addNode(fmt.Sprintf("n%d", i+1))
	}
	return c
}

func (c *cluster) addNode(name string) *actor.Node {
	t := c.t
	t.Helper()
	n, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	r, err := remote.Start(n, remote.Config{
		Cookie:       "rafted-test",
		MaxFrameSize: c.maxFrame,
		Transport:    c.net.Transport(name),
		Listen:       []string{name},
		Resolve:      func(_ context.Context, node string) ([]string, error) { return []string{node}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	c.nodes[name], c.remotes[name] = n, r
	c.names = append(c.names, name)
	t.Cleanup(func() {
		r.Stop()
		_ = n.Stop(context.Background())
	})
	return n
}

func (c *cluster) node(i int) *actor.Node { return c.nodes[c.names[i]] }

// group creates a group on node 0 and joins one member on each other node
// (nodes 1..size-1), all named "rv".
func (c *cluster) group(size int, cfg rafted.Config) []*rafted.Member {
	t := c.t
	t.Helper()
	ctx := context.Background()
	first, err := rafted.Start(ctx, c.node(0), rafted.Options{NewData: newKV, Create: &cfg, Name: "rv"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	ms := []*rafted.Member{first}
	for i := 1; i < size; i++ {
		m, err := rafted.Start(ctx, c.node(i), rafted.Options{NewData: newKV, Join: []rafted.Server{first.Server()}, Name: "rv"})
		if err != nil {
			t.Fatalf("join %d: %v", i, err)
		}
		ms = append(ms, m)
	}
	return ms
}

// groupFrame is group with members told the frame limit.
func (c *cluster) groupFrame(size int, cfg rafted.Config, maxFrame int) []*rafted.Member {
	t := c.t
	t.Helper()
	ctx := context.Background()
	first, err := rafted.Start(ctx, c.node(0), rafted.Options{NewData: newKV, Create: &cfg, Name: "rv", MaxFrameSize: maxFrame})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	ms := []*rafted.Member{first}
	for i := 1; i < size; i++ {
		m, err := rafted.Start(ctx, c.node(i), rafted.Options{NewData: newKV, Join: []rafted.Server{first.Server()}, Name: "rv", MaxFrameSize: maxFrame})
		if err != nil {
			t.Fatalf("join %d: %v", i, err)
		}
		ms = append(ms, m)
	}
	return ms
}

func ctxT(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// leaderOf asks every live member for its status and returns the index of
// the member that is leader, or -1.
func leaderOf(c *cluster, ms []*rafted.Member) int {
	for i, m := range ms {
		ctx, cancel := ctxT(time.Second)
		st, err := rafted.GetStatus(ctx, c.node(0), m.Server())
		cancel()
		if err == nil && st.StateName == "leader" {
			return i
		}
	}
	return -1
}

// waitLeader advances fake time until some member in ms (other than those
// in except) is leader.
func waitLeader(t testing.TB, c *cluster, ms []*rafted.Member, except ...int) int {
	t.Helper()
	for range 100 {
		for i, m := range ms {
			if slices.Contains(except, i) {
				continue
			}
			ctx, cancel := ctxT(time.Second)
			st, err := rafted.GetStatus(ctx, c.node(i), m.Server())
			cancel()
			if err == nil && st.StateName == "leader" {
				return i
			}
		}
		time.Sleep(100 * time.Millisecond) // fake time: lets elections run
	}
	t.Fatal("no leader elected")
	return -1
}

var discardLog = log.New(io.Discard, "", 0)
