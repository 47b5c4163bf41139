package discovery_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets/discovery"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// tnode is a node with its remote layer on an in-memory network.
type tnode struct {
	*actor.Node
	r *remote.Remote
}

// startNode starts name on net, listening on its own name; a node reaches
// another by name (the in-memory network's addresses are names). Both are
// stopped when the test ends.
func startNode(t *testing.T, net *transport.Network, name string) *tnode {
	t.Helper()
	n, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	r, err := remote.Start(n, remote.Config{
		Cookie: "test-cookie", Transport: net.Transport(name), Listen: []string{name},
		NetTickTime: 4 * time.Second,
		Resolve:     func(ctx context.Context, node string) ([]string, error) { return []string{node}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Stop()
		if err := n.Stop(context.Background()); err != nil {
			t.Errorf("stop %s: %v", name, err)
		}
	})
	return &tnode{Node: n, r: r}
}

// spawnTable registers a stand-in table process under name on n.
func spawnTable(t *testing.T, n *tnode, name string) actor.PID {
	t.Helper()
	pid, err := n.Spawn(actor.Func(func(p *actor.Process, msg any) error { return nil }), actor.WithName(name))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// fakeJoiner records joins and how many ran at once; each join takes
// joinTime of (fake) time.
type fakeJoiner struct {
	mu        sync.Mutex
	joinTime  time.Duration
	active    int
	maxActive int
	joins     []string // "table:remote node"
	fail      map[string]error
	nodes     map[string][]string
}

func (j *fakeJoiner) Join(ctx context.Context, table string, local, remote actor.PID) error {
	j.mu.Lock()
	j.active++
	j.maxActive = max(j.maxActive, j.active)
	j.joins = append(j.joins, table+":"+remote.Node)
	err := j.fail[table+":"+remote.Node]
	d := j.joinTime
	j.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
	j.mu.Lock()
	j.active--
	j.mu.Unlock()
	return err
}

func (j *fakeJoiner) TableNodes(ctx context.Context, table string) ([]string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if n, ok := j.nodes[table]; ok {
		return n, nil
	}
	return nil, errors.New("no such table")
}

func (j *fakeJoiner) get() (joins []string, maxActive int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.joins), j.maxActive
}

// callLog records when a backend was called, relative to a start time.
type callLog struct {
	mu    sync.Mutex
	start time.Time
	at    []time.Duration
}

func newCallLog() *callLog { return &callLog{start: time.Now()} }

func (l *callLog) record() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.at = append(l.at, time.Since(l.start))
	return len(l.at)
}

func (l *callLog) get() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.at)
}

func startDisco(t *testing.T, n *actor.Node, cfg discovery.Config) *discovery.Discovery {
	t.Helper()
	d, err := discovery.Start(n, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Stop(context.Background()); err != nil {
			t.Errorf("stop discovery: %v", err)
		}
	})
	return d
}

func sysInfo(t *testing.T, d *discovery.Discovery) discovery.SystemInfo {
	t.Helper()
	si, err := d.SystemInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return si
}

func secs(ds ...float64) []time.Duration {
	var out []time.Duration
	for _, d := range ds {
		out = append(out, time.Duration(d*float64(time.Second)))
	}
	return out
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }
