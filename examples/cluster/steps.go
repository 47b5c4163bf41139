package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/ensemble"
	"github.com/gotp-dev/gotp/observer"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/rafted"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/supervisor"
)

// counter is the rafted value: commands add to it, queries read it.
type counter struct{ n int64 }

func (c *counter) Command(arg any) any { c.n += arg.(int64); return c.n }
func (c *counter) Query(any) any       { return c.n }
func (c *counter) Snapshot() ([]byte, error) {
	return []byte(strconv.FormatInt(c.n, 10)), nil
}
func (c *counter) Restore(b []byte) (err error) {
	c.n, err = strconv.ParseInt(string(b), 10, 64)
	return err
}

// demo is the running cluster.
type demo struct {
	opts    options
	members []*member
	byName  map[string]*member
	obs     *observer.Server
	inbox   chan any
	dir     string // the raft members' directories
}

func (d *demo) get(name string) *member { return d.byName[name] }

// live returns the members not stopped.
func (d *demo) live() []*member {
	var out []*member
	for _, m := range d.members {
		if !m.stopped {
			out = append(out, m)
		}
	}
	return out
}

// shutdown stops the observer and every node, clients first.
func (d *demo) shutdown() {
	if d.obs != nil {
		_ = d.obs.Stop(context.Background())
	}
	for i := len(d.members) - 1; i >= 0; i-- {
		d.members[i].stop()
	}
}

func run(ctx context.Context, out io.Writer, opts options) error {
	if opts.broadcasts <= 0 {
		opts.broadcasts = 20
	}
	if opts.stepTime <= 0 {
		opts.stepTime = 15 * time.Second
	}
	r := &reporter{out: out, progress: opts.progress, bound: opts.stepTime}
	d := &demo{opts: opts, byName: map[string]*member{}, inbox: make(chan any, 16)}
	defer func() {
		start := time.Now()
		d.shutdown()
		if d.dir != "" {
			_ = os.RemoveAll(d.dir)
		}
		fmt.Fprintf(out, "✓ shutdown: %d nodes stopped (%v)\n", len(d.members), time.Since(start).Round(10*time.Millisecond))
	}()
	dir, err := os.MkdirTemp("", "gotp-cluster-demo-")
	if err != nil {
		return err
	}
	d.dir = dir
	steps := []struct {
		title string
		fn    func(context.Context) (string, error)
	}{
		{"start 2 servers and 3 clients over loopback TCP", d.start},
		{"observer serving the cluster", d.observe},
		{"membership: every node sees all 5 members", d.membership},
		{fmt.Sprintf("plumtree: %d broadcasts reach every node", opts.broadcasts), d.broadcast},
		{"cets: a row written on c1 is read locally on every node", d.table},
		{"ensemble: K/V write and read from c3, which hosts no peers", d.ensemble},
		{"rafted: a value on 3 nodes survives its leader being killed", d.raft},
		{"server s1 stopped: the clients carry on through s2", d.killServer},
	}
	for _, s := range steps {
		if err := r.step(ctx, s.title, s.fn); err != nil {
			return err
		}
	}
	if opts.hold > 0 {
		fmt.Fprintf(out, "holding the cluster for %v (Ctrl-C to stop); observer: %s\n", opts.hold, d.obs.URL())
		select {
		case <-ctx.Done():
		case <-time.After(opts.hold):
		}
	}
	return nil
}

// start starts the five nodes and joins them through s1.
func (d *demo) start(ctx context.Context) (string, error) {
	for _, spec := range []struct {
		name string
		role peerservice.Role
	}{{"s1", peerservice.Server}, {"s2", peerservice.Server}, {"c1", peerservice.Client}, {"c2", peerservice.Client}, {"c3", peerservice.Client}} {
		m, err := startMember(spec.name, spec.role)
		if err != nil {
			return "", err
		}
		d.members = append(d.members, m)
		d.byName[m.name] = m
	}
	s1 := d.get("s1")
	for _, m := range d.members[1:] {
		if err := m.svc.SyncJoin(ctx, s1.svc.Myself()); err != nil {
			return "", fmt.Errorf("%s joins s1: %w", m.name, err)
		}
	}
	var addrs []string
	for _, m := range d.members {
		addrs = append(addrs, fmt.Sprintf("%s(%s)=%s", m.name, m.role, strings.Join(m.svc.Myself().Addrs, ",")))
	}
	return strings.Join(addrs, " "), nil
}

// observe starts the observer of s2 (the server that stays up) under s2's
// application supervisor, on a loopback port the OS picks, and checks that
// it answers.
func (d *demo) observe(ctx context.Context) (string, error) {
	s2 := d.get("s2")
	spec, obs, err := observer.ChildSpec("observer", s2.node, "127.0.0.1:0", observer.Options{
		Remote: s2.svc.Remote(), Peers: s2.svc, Supervisors: []actor.Dest{s2.sup},
	})
	if err != nil {
		return "", err
	}
	if _, err := supervisor.StartChild(ctx, s2.node, s2.sup, spec); err != nil {
		return "", err
	}
	d.obs = obs
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, obs.URL(), nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("observer answered %s", resp.Status)
	}
	return "observer of s2: " + obs.URL() + " (open it to watch the steps live; -hold keeps it up)", nil
}

// membership waits until every node's membership holds all five.
func (d *demo) membership(ctx context.Context) (string, error) {
	want := []string{"c1", "c2", "c3", "s1", "s2"}
	for _, m := range d.members {
		err := waitFor(ctx, m.name+" sees all members", func() bool {
			specs, err := m.svc.AllMembers(ctx)
			if err != nil {
				return false
			}
			var names []string
			for _, s := range specs {
				names = append(names, s.Name)
			}
			slices.Sort(names)
			return slices.Equal(names, want)
		})
		if err != nil {
			return "", err
		}
	}
	c1 := d.get("c1")
	direct, err := c1.svc.Members(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("all 5 nodes see %v; client c1 connects to %v only", want, direct), nil
}

// broadcast sends broadcasts from every node in turn and waits for each to
// reach all five, then reports the relative message redundancy: payloads
// received / (deliveries) - 1, deliveries being the nodes reached other
// than the root.
func (d *demo) broadcast(ctx context.Context) (string, error) {
	// The broadcast servers follow the peer service's whole membership
	// (clients reach each other through the servers).
	for _, m := range d.members {
		if err := waitFor(ctx, m.name+"'s broadcast membership", func() bool {
			got, err := m.bcast.BroadcastMembers(ctx)
			return err == nil && len(got) == len(d.members)
		}); err != nil {
			return "", err
		}
	}
	n := d.opts.broadcasts
	payloads := func() int {
		total := 0
		for _, m := range d.members {
			_, p := m.hits.count()
			total += p
		}
		return total
	}
	var firstHalf, secondHalf int
	start := time.Now()
	for i := range n {
		root := d.members[i%len(d.members)]
		before := payloads()
		if err := root.bcast.Broadcast(note{ID: fmt.Sprintf("m%03d", i), Text: "hello from " + root.name}, "hits"); err != nil {
			return "", err
		}
		for _, m := range d.members {
			if err := waitFor(ctx, fmt.Sprintf("broadcast %d on %s", i, m.name), func() bool {
				got, _ := m.hits.count()
				return got >= i+1
			}); err != nil {
				return "", err
			}
		}
		if i < n/2 {
			firstHalf += payloads() - before
		} else {
			secondHalf += payloads() - before
		}
	}
	// Late duplicates (a graft racing an eager push) are counted too: let
	// one lazy tick pass before the final count.
	select {
	case <-time.After(200 * time.Millisecond):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	total := payloads()
	deliveries := n * (len(d.members) - 1)
	rmr := float64(total)/float64(deliveries) - 1
	rmrLate := float64(secondHalf)/float64((n-n/2)*(len(d.members)-1)) - 1
	return fmt.Sprintf("%d deliveries (%d broadcasts x %d other nodes) in %v, %d payloads received: RMR %.3f overall "+
		"(each root's first broadcasts flood until duplicates prune its tree), %.3f over the last %d",
		deliveries, n, len(d.members)-1, time.Since(start).Round(time.Millisecond), total, rmr, rmrLate, n-n/2), nil
}

// table joins the five sessions tables, writes on c1 and reads everywhere.
func (d *demo) table(ctx context.Context) (string, error) {
	s1 := d.get("s1")
	for _, m := range d.members[1:] {
		if err := s1.tab.Join(ctx, m.tab.Server(), cets.JoinOptions{}); err != nil {
			return "", fmt.Errorf("join %s's table: %w", m.name, err)
		}
	}
	if err := d.get("c1").tab.Insert(ctx, Session{User: "alice", Node: "c1"}); err != nil {
		return "", err
	}
	var seen []string
	for _, m := range d.members {
		s, ok := m.tab.Get("alice")
		if !ok || s.Node != "c1" {
			return "", fmt.Errorf("%s reads alice = %+v, %v", m.name, s, ok)
		}
		seen = append(seen, m.name)
	}
	others, err := d.get("c3").tab.OtherNodes(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("alice@c1 read locally on %v; c3's table is joined with %v", seen, others), nil
}

// ensemble runs one ensemble of three peers on s1, s2 and c1 and uses it
// from c3, which is in the ensemble cluster but hosts no peer.
func (d *demo) ensemble(ctx context.Context) (string, error) {
	s1, c3 := d.get("s1"), d.get("c3")
	if err := s1.ens.Enable(ctx); err != nil {
		return "", err
	}
	for _, name := range []string{"s2", "c1", "c3"} {
		if err := d.get(name).ens.Join(ctx, "s1"); err != nil {
			return "", fmt.Errorf("%s joins the ensemble cluster: %w", name, err)
		}
	}
	peers := []string{"s1", "s2", "c1"}
	if err := s1.ens.CreateEnsemble(ctx, "kv", peers, ensemble.MemoryBackend); err != nil {
		return "", err
	}
	var leader string
	if err := waitFor(ctx, "kv's leader seen from c3", func() bool {
		var ok bool
		leader, ok = c3.ens.GetLeader("kv")
		return ok
	}); err != nil {
		return "", err
	}
	client := c3.ens.Client()
	put, err := client.KOver(ctx, "kv", "greeting", []byte("hello, ensemble"))
	if err != nil {
		return "", fmt.Errorf("KOver from c3: %w", err)
	}
	got, err := client.KGet(ctx, "kv", "greeting")
	if err != nil {
		return "", fmt.Errorf("KGet from c3: %w", err)
	}
	if string(got.Value) != "hello, ensemble" {
		return "", fmt.Errorf("c3 read %q", got.Value)
	}
	return fmt.Sprintf("ensemble kv on %v led by %s; c3 wrote greeting (epoch %d seq %d) and read %q",
		peers, leader, put.Epoch, put.Seq, got.Value), nil
}

// raft starts a rafted counter on s1, s2 and c1, each member a child of
// its node's application supervisor keeping its log in a directory, adds to
// it from c2, kills the leader's process and shows the new leader with the
// value intact, and the killed member restarted by its supervisor, resumed
// from its log and following the new leader.
func (d *demo) raft(ctx context.Context) (string, error) {
	newData := func() rafted.Data { return &counter{} }
	cfg := rafted.Config{HeartbeatInterval: 50 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond}
	names := []string{"s1", "s2", "c1"}
	for i, name := range names {
		opts := rafted.Options{NewData: newData, Name: "counter", Dir: filepath.Join(d.dir, "raft-"+name)}
		if i == 0 {
			opts.Create = &cfg
		} else {
			opts.Join = []rafted.Server{rafted.ByName("s1", "counter")}
		}
		m := d.get(name)
		if _, err := supervisor.StartChild(ctx, m.node, m.sup, rafted.ChildSpec("counter", opts)); err != nil {
			return "", fmt.Errorf("%s's raft member: %w", name, err)
		}
	}
	client := d.get("c2").node
	for i := range 3 {
		if _, err := d.command(ctx, client, names, fmt.Sprint("add-", i)); err != nil {
			return "", err
		}
	}
	leader, err := d.raftLeader(ctx, client, names, "")
	if err != nil {
		return "", err
	}
	old, ok := d.get(leader).node.WhereIs("counter")
	if !ok {
		return "", fmt.Errorf("no raft member registered on %s", leader)
	}
	if err := d.get(leader).node.Exit(old, actor.Kill); err != nil {
		return "", err
	}
	killed := time.Now()
	survivors := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == leader })
	next, err := d.raftLeader(ctx, client, survivors, leader)
	if err != nil {
		return "", err
	}
	elected := time.Since(killed).Round(10 * time.Millisecond)
	v, err := rafted.Query(ctx, client, rafted.ByName(next, "counter"), nil)
	if err != nil {
		return "", err
	}
	if v != int64(3) {
		return "", fmt.Errorf("value after failover %v, want 3", v)
	}
	after, err := d.command(ctx, client, survivors, "add-3")
	if err != nil {
		return "", err
	}
	// The supervisor restarted the killed member; it resumes from its
	// directory and catches up with the new leader.
	var st rafted.Status
	if err := waitFor(ctx, "the restarted member catches up", func() bool {
		cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		st, err = rafted.GetStatus(cctx, client, rafted.ByName(leader, "counter"))
		return err == nil && st.From != old && st.StateName == "follower" && st.Leader.Node == next && st.AppliedIndex >= st.CommitIndex && st.CommitIndex > 0
	}); err != nil {
		return "", err
	}
	return fmt.Sprintf("3 commands from c2 -> 3; killed the leader's process on %s; %s elected after %v; value still %v, next command -> %v; "+
		"%s's supervisor restarted its member (%v, was %v), which resumed from its log and follows %s",
		leader, next, elected, v, after, leader, st.From, old, next), nil
}

// raftLeader asks the members in names for a leader that is not avoid,
// until one names it.
func (d *demo) raftLeader(ctx context.Context, c *actor.Node, names []string, avoid string) (string, error) {
	var leader string
	err := waitFor(ctx, "raft leader", func() bool {
		for _, n := range names {
			cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			st, err := rafted.GetStatus(cctx, c, rafted.ByName(n, "counter"))
			cancel()
			if err == nil && !st.Leader.IsZero() && st.Leader.Node != avoid {
				leader = st.Leader.Node
				return true
			}
		}
		return false
	})
	return leader, err
}

// command runs one command through whichever member of names leads.
func (d *demo) command(ctx context.Context, c *actor.Node, names []string, id string) (any, error) {
	var ret any
	var last error
	i := 0
	err := waitFor(ctx, "command "+id, func() bool {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		var err error
		ret, err = rafted.Command(cctx, c, rafted.ByName(names[i%len(names)], "counter"), int64(1), id)
		var nl rafted.NotLeaderError
		if errors.As(err, &nl) && !nl.Leader.IsZero() && slices.Contains(names, nl.Leader.Node) {
			ret, err = rafted.Command(cctx, c, rafted.ByName(nl.Leader.Node, "counter"), int64(1), id)
		}
		last = err
		i++
		return err == nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w (last: %v)", err, last)
	}
	return ret, nil
}

// killServer stops s1's node and shows the clients carrying on through s2:
// their failure detectors report s1 down, a forward from c1 reaches c2 and
// a call from c1 reaches c3.
func (d *demo) killServer(ctx context.Context) (string, error) {
	c1, c2, c3, s1, s2 := d.get("c1"), d.get("c2"), d.get("c3"), d.get("s1"), d.get("s2")
	inbox := d.inbox
	if _, err := c2.node.Spawn(actor.Func(func(_ *actor.Process, msg any) error {
		inbox <- msg
		return nil
	}), actor.WithName("inbox")); err != nil {
		return "", err
	}
	if _, err := c3.node.Spawn(actor.Server(&echo{}), actor.WithName("echo")); err != nil {
		return "", err
	}
	downs := make(chan string, 8)
	for _, m := range []*member{c1, c2, c3} {
		cancel := m.svc.OnDown("s1", func(remote.NodeSpec) { downs <- m.name })
		defer cancel()
	}
	s1.stop()
	stopped := time.Now()
	var saw []string
	for len(saw) < 3 {
		select {
		case n := <-downs:
			saw = append(saw, n)
		case <-ctx.Done():
			return "", fmt.Errorf("s1's loss detected only by %v: %w", saw, ctx.Err())
		}
	}
	detected := time.Since(stopped).Round(10 * time.Millisecond)
	slices.Sort(saw)
	if err := c1.svc.ForwardMessage(ctx, peerservice.ToName("c2", "inbox"), "hello through s2", peerservice.ForwardOptions{}); err != nil {
		return "", fmt.Errorf("forward c1 -> c2: %w", err)
	}
	var got any
	select {
	case got = <-inbox:
	case <-ctx.Done():
		return "", fmt.Errorf("c2 did not receive the forward: %w", ctx.Err())
	}
	reply, err := c1.node.Call(ctx, actor.Name{Node: "c3", Name: "echo"}, "ping")
	if err != nil {
		return "", fmt.Errorf("call c1 -> c3: %w", err)
	}
	var up []string
	if err := waitFor(ctx, "s2's failure detector drops s1", func() bool {
		st, err := s2.svc.Stats(ctx)
		up = st.Up
		return err == nil && !slices.Contains(st.Up, "s1")
	}); err != nil {
		return "", err
	}
	return fmt.Sprintf("%v found s1 down after %v; c2 got %q from c1; c3 answered c1's call with %q; s2 holds alive %v",
		saw, detected, got, reply, up), nil
}

// echo answers a call with what it was sent.
type echo struct{}

func (echo) HandleCall(_ *actor.Process, _ actor.From, req any) (any, error) { return req, nil }
