package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
)

// handle is the console's hold on one member: in this OS process, or in
// one of its own.
type handle struct {
	name  string
	role  peerservice.Role
	addrs []string
	local *member
	proc  *child
	gone  bool // stopped or killed
}

// demo is the running cluster, as the console sees it.
type demo struct {
	opts   options
	nodes  []*handle
	byName map[string]*handle
	ctl    *actor.Node
	ctlR   *remote.Remote
	inbox  chan any
	url    string
	dir    string // the raft members' directories
}

// ask has node's agent do q, bounded by ctx.
func (d *demo) ask(ctx context.Context, node string, q ask) (answer, error) {
	if dl, ok := ctx.Deadline(); ok {
		q.Timeout = time.Until(dl)
	}
	v, err := d.ctl.Call(ctx, actor.Name{Node: node, Name: "agent"}, q)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", node, q.Op, err)
	}
	a, ok := v.(answer)
	if !ok {
		return answer{}, fmt.Errorf("%s %s: answered %T", node, q.Op, v)
	}
	if a.Err != "" {
		return a, fmt.Errorf("%s %s: %s", node, q.Op, a.Err)
	}
	return a, nil
}

// op is an ask of op with its string arguments.
func op(name string, args ...string) ask { return ask{Op: name, Args: args} }

// live returns the members not stopped.
func (d *demo) live() []*handle {
	var out []*handle
	for _, h := range d.nodes {
		if !h.gone {
			out = append(out, h)
		}
	}
	return out
}

// stopNode stops a member: in this process, its node stops; in its own,
// the agent is told to stop and the process exits (it is killed if it does
// not within two seconds).
func (d *demo) stopNode(ctx context.Context, h *handle) {
	if h.gone {
		return
	}
	h.gone = true
	if h.local != nil {
		h.local.stop()
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, _ = d.ask(cctx, h.name, op("stop"))
	cancel()
	h.proc.wait(2 * time.Second)
}

// shutdown stops every node, clients first, then the console.
func (d *demo) shutdown() {
	for i := len(d.nodes) - 1; i >= 0; i-- {
		d.stopNode(context.Background(), d.nodes[i])
	}
	if d.ctl != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = d.ctl.Stop(ctx)
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
	d := &demo{opts: opts, byName: map[string]*handle{}, inbox: make(chan any, 16)}
	defer func() {
		start := time.Now()
		d.shutdown()
		if d.dir != "" {
			_ = os.RemoveAll(d.dir)
		}
		fmt.Fprintf(out, "✓ shutdown: %d nodes stopped (%v)\n", len(d.nodes), time.Since(start).Round(10*time.Millisecond))
	}()
	dir, err := os.MkdirTemp("", "gotp-cluster-demo-")
	if err != nil {
		return err
	}
	d.dir = dir
	where, gone := "in this OS process", "stopped"
	if opts.procs {
		where, gone = "each in its own OS process", "killed (SIGKILL)"
	}
	steps := []struct {
		title string
		fn    func(context.Context) (string, error)
	}{
		{"start 2 servers and 3 clients over loopback TCP, " + where, d.start},
		{"observer serving the cluster", d.observe},
		{"membership: every node sees all 5 members", d.membership},
		{fmt.Sprintf("plumtree: %d broadcasts reach every node", opts.broadcasts), d.broadcast},
		{"cets: a row written on c1 is read locally on every node", d.table},
		{"ensemble: K/V write and read from c3, which hosts no peers", d.ensemble},
		{"rafted: a value on 3 nodes survives its leader being killed", d.raft},
		{"server s1 " + gone + ": the clients carry on through s2", d.killServer},
	}
	for _, s := range steps {
		if err := r.step(ctx, s.title, s.fn); err != nil {
			if opts.procs {
				d.childLogs(out)
			}
			return err
		}
	}
	if opts.hold > 0 {
		fmt.Fprintf(out, "holding the cluster for %v (Ctrl-C to stop); observer: %s\n", opts.hold, d.url)
		select {
		case <-ctx.Done():
		case <-time.After(opts.hold):
		}
	}
	return nil
}

// childLogs prints what the members' processes wrote on standard error.
func (d *demo) childLogs(out io.Writer) {
	for _, h := range d.nodes {
		if h.proc != nil {
			if l := h.proc.stderr.String(); l != "" {
				fmt.Fprintf(out, "--- %s's standard error:\n%s", h.name, l)
			}
		}
	}
}

// start starts the five nodes (here or each in a process of its own) and
// the console node, connects the console to each, and joins them through
// s1.
func (d *demo) start(ctx context.Context) (string, error) {
	for _, spec := range []struct {
		name string
		role peerservice.Role
	}{{"s1", peerservice.Server}, {"s2", peerservice.Server}, {"c1", peerservice.Client}, {"c2", peerservice.Client}, {"c3", peerservice.Client}} {
		h := &handle{name: spec.name, role: spec.role}
		if d.opts.procs {
			c, addrs, err := startChild(ctx, spec.name, spec.role)
			if err != nil {
				return "", err
			}
			h.proc, h.addrs = c, addrs
		} else {
			m, err := startMember(spec.name, spec.role)
			if err != nil {
				return "", err
			}
			h.local, h.addrs = m, m.svc.Myself().Addrs
		}
		d.nodes = append(d.nodes, h)
		d.byName[h.name] = h
	}
	ctl, err := actor.NewNode(actor.Config{Name: "ctl"})
	if err != nil {
		return "", err
	}
	d.ctl = ctl
	if d.ctlR, err = remote.Start(ctl, remote.Config{Cookie: cookie, Listen: []string{"127.0.0.1:0"}}); err != nil {
		return "", err
	}
	for _, h := range d.nodes {
		if err := d.ctlR.Connect(ctx, remote.NodeSpec{Name: h.name, Addrs: h.addrs}); err != nil {
			return "", fmt.Errorf("console connects to %s: %w", h.name, err)
		}
	}
	s1 := d.nodes[0]
	for _, h := range d.nodes[1:] {
		if _, err := d.ask(ctx, h.name, op("join", append([]string{s1.name}, s1.addrs...)...)); err != nil {
			return "", err
		}
	}
	var addrs []string
	for _, h := range d.nodes {
		pid := ""
		if h.proc != nil {
			pid = fmt.Sprintf(" pid %d", h.proc.cmd.Process.Pid)
		}
		addrs = append(addrs, fmt.Sprintf("%s(%s%s)=%s", h.name, h.role, pid, strings.Join(h.addrs, ",")))
	}
	return strings.Join(addrs, " "), nil
}

// observe starts the observer of s2 (the server that stays up) under s2's
// application supervisor and checks that it answers.
func (d *demo) observe(ctx context.Context) (string, error) {
	a, err := d.ask(ctx, "s2", op("observer"))
	if err != nil {
		return "", err
	}
	d.url = a.Text
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url, nil)
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
	return "observer of s2: " + d.url + " (open it to watch the steps live; -hold keeps it up)", nil
}

// membership waits until every node's membership holds all five: each
// agent answers when its peer service reports a membership that size.
func (d *demo) membership(ctx context.Context) (string, error) {
	want := []string{"c1", "c2", "c3", "s1", "s2"}
	var c1direct []string
	for _, h := range d.nodes {
		a, err := d.ask(ctx, h.name, ask{Op: "members", N: len(want)})
		if err != nil {
			return "", err
		}
		if !slices.Equal(a.Strs, want) {
			return "", fmt.Errorf("%s sees %v, want %v", h.name, a.Strs, want)
		}
		if h.name == "c1" {
			c1direct = a.More
		}
	}
	return fmt.Sprintf("all 5 nodes see %v; client c1 connects to %v only", want, c1direct), nil
}

// broadcast sends broadcasts from every node in turn and waits for each to
// reach all five, then reports the relative message redundancy: payloads
// received / (deliveries) - 1, deliveries being the nodes reached other
// than the root.
func (d *demo) broadcast(ctx context.Context) (string, error) {
	// The broadcast servers follow the peer service's whole membership
	// (clients reach each other through the servers).
	for _, h := range d.nodes {
		if _, err := d.ask(ctx, h.name, ask{Op: "bcast-members", N: len(d.nodes)}); err != nil {
			return "", err
		}
	}
	n := d.opts.broadcasts
	payloads := func() (int, error) {
		total := 0
		for _, h := range d.nodes {
			a, err := d.ask(ctx, h.name, ask{Op: "hits"})
			if err != nil {
				return 0, err
			}
			total += int(a.M)
		}
		return total, nil
	}
	var secondHalf int
	start := time.Now()
	for i := range n {
		root := d.nodes[i%len(d.nodes)]
		before, err := payloads()
		if err != nil {
			return "", err
		}
		if _, err := d.ask(ctx, root.name, op("broadcast", fmt.Sprintf("m%03d", i), "hello from "+root.name)); err != nil {
			return "", err
		}
		// Each agent answers once its handler holds i+1 messages.
		for _, h := range d.nodes {
			if _, err := d.ask(ctx, h.name, ask{Op: "hits", N: i + 1}); err != nil {
				return "", fmt.Errorf("broadcast %d on %s: %w", i, h.name, err)
			}
		}
		if i >= n/2 {
			after, err := payloads()
			if err != nil {
				return "", err
			}
			secondHalf += after - before
		}
	}
	// Late duplicates (a graft racing an eager push) are counted too: let
	// one lazy tick pass before the final count.
	select {
	case <-time.After(200 * time.Millisecond):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	total, err := payloads()
	if err != nil {
		return "", err
	}
	deliveries := n * (len(d.nodes) - 1)
	rmr := float64(total)/float64(deliveries) - 1
	rmrLate := float64(secondHalf)/float64((n-n/2)*(len(d.nodes)-1)) - 1
	return fmt.Sprintf("%d deliveries (%d broadcasts x %d other nodes) in %v, %d payloads received: RMR %.3f overall "+
		"(each root's first broadcasts flood until duplicates prune its tree), %.3f over the last %d",
		deliveries, n, len(d.nodes)-1, time.Since(start).Round(time.Millisecond), total, rmr, rmrLate, n-n/2), nil
}

// table joins the five sessions tables, writes on c1 and reads everywhere.
func (d *demo) table(ctx context.Context) (string, error) {
	if _, err := d.ask(ctx, "s1", op("table-join", "s2", "c1", "c2", "c3")); err != nil {
		return "", err
	}
	if _, err := d.ask(ctx, "c1", op("table-insert", "alice", "c1")); err != nil {
		return "", err
	}
	var seen []string
	for _, h := range d.nodes {
		a, err := d.ask(ctx, h.name, op("table-get", "alice"))
		if err != nil {
			return "", err
		}
		if len(a.Strs) != 2 || a.Strs[1] != "c1" {
			return "", fmt.Errorf("%s reads alice = %v", h.name, a.Strs)
		}
		seen = append(seen, h.name)
	}
	others, err := d.ask(ctx, "c3", op("table-others"))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("alice@c1 read locally on %v; c3's table is joined with %v", seen, others.Strs), nil
}

// ensemble runs one ensemble of three peers on s1, s2 and c1 and uses it
// from c3, which is in the ensemble cluster but hosts no peer.
func (d *demo) ensemble(ctx context.Context) (string, error) {
	if _, err := d.ask(ctx, "s1", op("ens-enable")); err != nil {
		return "", err
	}
	for _, name := range []string{"s2", "c1", "c3"} {
		if _, err := d.ask(ctx, name, op("ens-join", "s1")); err != nil {
			return "", err
		}
	}
	peers := []string{"s1", "s2", "c1"}
	if _, err := d.ask(ctx, "s1", op("ens-create", append([]string{"kv"}, peers...)...)); err != nil {
		return "", err
	}
	leader, err := d.ask(ctx, "c3", op("ens-leader", "kv"))
	if err != nil {
		return "", err
	}
	kv, err := d.ask(ctx, "c3", op("ens-kv", "kv", "greeting", "hello, ensemble"))
	if err != nil {
		return "", err
	}
	if kv.Text != "hello, ensemble" {
		return "", fmt.Errorf("c3 read %q", kv.Text)
	}
	return fmt.Sprintf("ensemble kv on %v led by %s; c3 wrote greeting (epoch %d seq %d) and read %q",
		peers, leader.Text, kv.N, kv.M, kv.Text), nil
}

// raft starts a rafted counter on s1, s2 and c1, each member a child of
// its node's application supervisor keeping its log in a directory, adds to
// it from c2, kills the leader's process and shows the new leader with the
// value intact, and the killed member restarted by its supervisor, resumed
// from its log and following the new leader.
func (d *demo) raft(ctx context.Context) (string, error) {
	names := []string{"s1", "s2", "c1"}
	for i, name := range names {
		join := ""
		if i > 0 {
			join = "s1"
		}
		if _, err := d.ask(ctx, name, op("raft-start", d.dir, join)); err != nil {
			return "", err
		}
	}
	cmd := func(id string, on []string) (answer, error) {
		return d.ask(ctx, "c2", op("raft-command", append([]string{id}, on...)...))
	}
	for i := range 3 {
		if _, err := cmd(fmt.Sprint("add-", i), names); err != nil {
			return "", err
		}
	}
	leader, err := d.ask(ctx, "c2", op("raft-leader", append([]string{""}, names...)...))
	if err != nil {
		return "", err
	}
	old, err := d.ask(ctx, leader.Text, op("kill", "counter"))
	if err != nil {
		return "", err
	}
	killed := time.Now()
	survivors := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == leader.Text })
	next, err := d.ask(ctx, "c2", op("raft-leader", append([]string{leader.Text}, survivors...)...))
	if err != nil {
		return "", err
	}
	elected := time.Since(killed).Round(10 * time.Millisecond)
	v, err := d.ask(ctx, "c2", op("raft-query", next.Text))
	if err != nil {
		return "", err
	}
	if v.Text != "3" {
		return "", fmt.Errorf("value after failover %v, want 3", v.Text)
	}
	after, err := cmd("add-3", survivors)
	if err != nil {
		return "", err
	}
	// The supervisor restarted the killed member; it resumes from its
	// directory and catches up with the new leader.
	restarted, err := d.ask(ctx, "c2", op("raft-caught-up", leader.Text, next.Text, old.Text))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("3 commands from c2 -> 3; killed the leader's process on %s; %s elected after %v; value still %v, next command -> %v; "+
		"%s's supervisor restarted its member (%v, was %v), which resumed from its log and follows %s",
		leader.Text, next.Text, elected, v.Text, after.Text, leader.Text, restarted.Text, old.Text, next.Text), nil
}

// killServer takes s1 away (its node stopped, or its OS process killed)
// and shows the clients carrying on through s2: their failure detectors
// (and s2's) report s1 down, a forward from c1 reaches c2 and a call from c1
// reaches c3.
func (d *demo) killServer(ctx context.Context) (string, error) {
	inbox := d.inbox
	downs := make(chan string, 4)
	sink, err := d.ctl.Spawn(actor.Func(func(_ *actor.Process, msg any) error {
		switch m := msg.(type) {
		case forwarded:
			inbox <- m.Msg
		case downNotice:
			downs <- m.By
		}
		return nil
	}))
	if err != nil {
		return "", err
	}
	if _, err := d.ask(ctx, "c2", ask{Op: "spawn-inbox", PID: sink}); err != nil {
		return "", err
	}
	if _, err := d.ask(ctx, "c3", op("spawn-echo")); err != nil {
		return "", err
	}
	for _, c := range []string{"c1", "c2", "c3", "s2"} {
		if _, err := d.ask(ctx, c, ask{Op: "watch-down", Args: []string{"s1"}, PID: sink}); err != nil {
			return "", err
		}
	}
	s1 := d.byName["s1"]
	if s1.proc != nil {
		s1.gone = true
		s1.proc.kill()
	} else {
		d.stopNode(ctx, s1)
	}
	stopped := time.Now()
	var saw []string
	for len(saw) < 4 {
		select {
		case n := <-downs:
			saw = append(saw, n)
		case <-ctx.Done():
			return "", fmt.Errorf("s1's loss detected only by %v: %w", saw, ctx.Err())
		}
	}
	detected := time.Since(stopped).Round(10 * time.Millisecond)
	slices.Sort(saw)
	saw = slices.DeleteFunc(saw, func(n string) bool { return n == "s2" })
	if _, err := d.ask(ctx, "c1", op("forward", "c2", "inbox", "hello through s2")); err != nil {
		return "", err
	}
	var got any
	select {
	case got = <-inbox:
	case <-ctx.Done():
		return "", fmt.Errorf("c2 did not receive the forward: %w", ctx.Err())
	}
	reply, err := d.ask(ctx, "c1", op("call", "c3", "echo", "ping"))
	if err != nil {
		return "", err
	}
	up, err := d.ask(ctx, "s2", op("up-without", "s1"))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%v found s1 down after %v; c2 got %q from c1; c3 answered c1's call with %q; s2 holds alive %v",
		saw, detected, got, reply.Text, up.Strs), nil
}
