package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/ensemble"
	"github.com/gotp-dev/gotp/observer"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/rafted"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/wire"
	"github.com/gotp-dev/gotp/supervisor"
)

// The demo is driven from a console node ("ctl", in the program's own OS
// process) that joins no membership: it calls the agent, a gen_server
// registered as "agent" under every member's application supervisor, which
// does each step's work on its node. The same calls drive the cluster
// whether its nodes share the console's OS process or each have their own.

// ask is a request to a member's agent: an operation and its arguments.
type ask struct {
	Op   string
	Args []string
	N    int
	PID  actor.PID
	// Timeout bounds the work the agent does for the request.
	Timeout time.Duration
}

// answer is the agent's reply; Err is set when the operation failed.
type answer struct {
	Err  string
	Text string
	Strs []string
	More []string
	N, M int64
}

// forwarded is what the agent's inbox process passes on to the console.
type forwarded struct{ Msg any }

// downNotice tells the console that member By found Node down.
type downNotice struct{ Node, By string }

func init() {
	wire.MustRegister[ask]("gotp.demo.ask")
	wire.MustRegister[answer]("gotp.demo.answer")
	wire.MustRegister[forwarded]("gotp.demo.forwarded")
	wire.MustRegister[downNotice]("gotp.demo.down")
	wire.MustRegister[note]("gotp.demo.note")
}

// agent is the console's hand on one member.
type agent struct {
	m *member
	// Requests waiting for an event: membership of a size, messages of
	// the broadcast handler.
	members []waiting
	hits    []waiting
	cancels []func()
}

type waiting struct {
	from actor.From
	n    int
}

type (
	membersChanged struct{}
	hitsChanged    struct{}
)

func agentSpec(m *member) supervisor.ChildSpec {
	return supervisor.Worker("agent", func() actor.GenServer { return &agent{m: m} }, actor.WithName("agent"))
}

func (a *agent) Init(p *actor.Process) error {
	self := p.Self()
	node := p.Node()
	a.cancels = append(a.cancels,
		a.m.svc.Subscribe(func(peerservice.MembershipEvent) { _ = node.Send(self, membersChanged{}) }),
		a.m.hits.onChange(func() { _ = node.Send(self, hitsChanged{}) }))
	return nil
}

func (a *agent) Terminate(*actor.Process, error) {
	for _, c := range a.cancels {
		c()
	}
}

func (a *agent) HandleInfo(p *actor.Process, msg any) error {
	switch msg.(type) {
	case membersChanged:
		a.members = a.settle(p, a.members, a.membership)
	case hitsChanged:
		a.hits = a.settle(p, a.hits, a.hitCount)
	}
	return nil
}

// settle answers the waiting requests whose condition now holds and returns
// the rest.
func (a *agent) settle(p *actor.Process, ws []waiting, check func(n int) (answer, bool)) []waiting {
	return slices.DeleteFunc(ws, func(w waiting) bool {
		ans, ok := check(w.n)
		if ok {
			_ = p.Reply(w.from, ans)
		}
		return ok
	})
}

// membership answers once the node's membership holds n members: all of
// them, and the ones it connects to.
func (a *agent) membership(n int) (answer, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	all, err := a.m.svc.AllMembers(ctx)
	if err != nil || len(all) < n {
		return answer{}, false
	}
	direct, err := a.m.svc.Members(ctx)
	if err != nil {
		return answer{}, false
	}
	var names []string
	for _, s := range all {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return answer{Strs: names, More: direct}, true
}

// hitCount answers once the broadcast handler holds n distinct messages.
func (a *agent) hitCount(n int) (answer, bool) {
	got, payloads := a.m.hits.count()
	return answer{N: int64(got), M: int64(payloads)}, got >= n
}

func (a *agent) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	q, ok := req.(ask)
	if !ok {
		return nil, fmt.Errorf("agent: unknown request %T", req)
	}
	switch q.Op {
	case "members":
		if ans, ok := a.membership(q.N); ok {
			return ans, nil
		}
		a.members = append(a.members, waiting{from, q.N})
		return actor.NoReply, nil
	case "hits":
		if ans, ok := a.hitCount(q.N); ok {
			return ans, nil
		}
		a.hits = append(a.hits, waiting{from, q.N})
		return actor.NoReply, nil
	case "watch-down":
		// The peer service calls this once its failure detector (or the
		// connection) finds the node down; the agent tells q.PID.
		node, to := p.Node(), q.PID
		var once sync.Once
		a.cancels = append(a.cancels, a.m.svc.OnDown(q.Args[0], func(remote.NodeSpec) {
			once.Do(func() { _ = node.Send(to, downNotice{Node: q.Args[0], By: a.m.name}) })
		}))
		return answer{}, nil
	case "spawn-inbox":
		to := q.PID
		_, err := p.Node().Spawn(actor.Func(func(p *actor.Process, msg any) error {
			return p.Send(to, forwarded{Msg: msg})
		}), actor.WithName("inbox"))
		return answer{}, err
	case "spawn-echo":
		_, err := p.Node().Spawn(actor.Server(&echo{}), actor.WithName("echo"))
		return answer{}, err
	case "stop":
		// Replied first: the node that answers is about to go.
		_ = p.Reply(from, answer{})
		go a.m.stop()
		return actor.NoReply, nil
	}
	// The rest may take a while (joins, elections, commands): each runs on
	// its own goroutine, so the agent keeps answering, and replies when done.
	node := p.Node()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), cmpOr(q.Timeout, 15*time.Second))
		defer cancel()
		ans, err := a.work(ctx, q)
		if err != nil {
			ans = answer{Err: err.Error()}
		}
		_ = node.Reply(from, ans)
	}()
	return actor.NoReply, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// work does one of the operations that may take a while.
func (a *agent) work(ctx context.Context, q ask) (answer, error) {
	m := a.m
	arg := func(i int) string {
		if i < len(q.Args) {
			return q.Args[i]
		}
		return ""
	}
	switch q.Op {
	case "join":
		return answer{}, m.svc.SyncJoin(ctx, remote.NodeSpec{Name: arg(0), Addrs: q.Args[1:]})
	case "addrs":
		return answer{Strs: m.svc.Myself().Addrs}, nil
	case "observer":
		return a.observe(ctx)

	case "bcast-members":
		// The broadcast server follows the peer service's membership a
		// moment behind it and says nothing when it has; it is asked.
		return answer{}, waitFor(ctx, m.name+"'s broadcast membership", func() bool {
			got, err := m.bcast.BroadcastMembers(ctx)
			return err == nil && len(got) == q.N
		})
	case "broadcast":
		return answer{}, m.bcast.Broadcast(note{ID: arg(0), Text: arg(1)}, "hits")

	case "table-join":
		for _, other := range q.Args {
			if err := m.tab.Join(ctx, actor.Name{Node: other, Name: "sessions"}, cets.JoinOptions{}); err != nil {
				return answer{}, fmt.Errorf("join %s's table: %w", other, err)
			}
		}
		return answer{}, nil
	case "table-insert":
		return answer{}, m.tab.Insert(ctx, Session{User: arg(0), Node: arg(1)})
	case "table-get":
		s, ok := m.tab.Get(arg(0))
		if !ok {
			return answer{}, fmt.Errorf("no row for %s", arg(0))
		}
		return answer{Strs: []string{s.User, s.Node}}, nil
	case "table-others":
		others, err := m.tab.OtherNodes(ctx)
		return answer{Strs: others}, err

	case "ens-enable":
		return answer{}, m.ens.Enable(ctx)
	case "ens-join":
		return answer{}, m.ens.Join(ctx, arg(0))
	case "ens-create":
		return answer{}, m.ens.CreateEnsemble(ctx, arg(0), q.Args[1:], ensemble.MemoryBackend)
	case "ens-leader":
		// This node hosts no peer of the ensemble; its directory names the
		// leader once a leader change notification reaches it.
		leader, err := m.ens.WaitLeader(ctx, arg(0))
		return answer{Text: leader}, err
	case "ens-kv":
		client := m.ens.Client()
		put, err := client.KOver(ctx, arg(0), arg(1), []byte(arg(2)))
		if err != nil {
			return answer{}, fmt.Errorf("KOver: %w", err)
		}
		got, err := client.KGet(ctx, arg(0), arg(1))
		if err != nil {
			return answer{}, fmt.Errorf("KGet: %w", err)
		}
		return answer{Text: string(got.Value), N: int64(put.Epoch), M: int64(put.Seq)}, nil

	case "raft-start":
		opts := rafted.Options{NewData: func() rafted.Data { return &counter{} }, Name: "counter", Dir: filepath.Join(arg(0), "raft-"+m.name)}
		if arg(1) == "" {
			opts.Create = &rafted.Config{HeartbeatInterval: 50 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond}
		} else {
			opts.Join = []rafted.Server{rafted.ByName(arg(1), "counter")}
		}
		_, err := supervisor.StartChild(ctx, m.node, m.sup, rafted.ChildSpec("counter", opts))
		return answer{}, err
	case "raft-command":
		ret, err := raftCommand(ctx, m.node, q.Args[1:], arg(0))
		return answer{Text: fmt.Sprint(ret)}, err
	case "raft-leader":
		leader, err := raftLeader(ctx, m.node, q.Args[1:], arg(0))
		return answer{Text: leader}, err
	case "raft-query":
		v, err := rafted.Query(ctx, m.node, rafted.ByName(arg(0), "counter"), nil)
		return answer{Text: fmt.Sprint(v)}, err
	case "raft-caught-up":
		// The member on arg(0), restarted (not old), follows arg(1) and has
		// applied all it knows committed.
		var st rafted.Status
		err := waitFor(ctx, "the restarted member catches up", func() bool {
			cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			defer cancel()
			var err error
			st, err = rafted.GetStatus(cctx, m.node, rafted.ByName(arg(0), "counter"))
			return err == nil && st.From.String() != arg(2) && st.StateName == "follower" && st.Leader.Node == arg(1) &&
				st.AppliedIndex >= st.CommitIndex && st.CommitIndex > 0
		})
		return answer{Text: st.From.String()}, err
	case "kill":
		pid, ok := m.node.WhereIs(arg(0))
		if !ok {
			return answer{}, fmt.Errorf("nothing registered as %s on %s", arg(0), m.name)
		}
		return answer{Text: pid.String()}, m.node.Exit(pid, actor.Kill)

	case "forward":
		return answer{}, m.svc.ForwardMessage(ctx, peerservice.ToName(arg(0), arg(1)), arg(2), peerservice.ForwardOptions{})
	case "call":
		reply, err := m.node.Call(ctx, actor.Name{Node: arg(0), Name: arg(1)}, arg(2))
		return answer{Text: fmt.Sprint(reply)}, err
	case "up-without":
		// Asked once the node's failure detector reported arg(0) down: the
		// manager's stats, read after that verdict, no longer hold it up.
		st, err := m.svc.Stats(ctx)
		if err == nil && slices.Contains(st.Up, arg(0)) {
			err = fmt.Errorf("%s still holds %s up: %v", m.name, arg(0), st.Up)
		}
		return answer{Strs: st.Up}, err
	}
	return answer{}, fmt.Errorf("agent: unknown operation %q", q.Op)
}

// observe starts the observer under the node's application supervisor on
// a loopback port the OS picks.
func (a *agent) observe(ctx context.Context) (answer, error) {
	m := a.m
	spec, obs, err := observer.ChildSpec("observer", m.node, "127.0.0.1:0", observer.Options{
		Remote: m.svc.Remote(), Peers: m.svc, Supervisors: []actor.Dest{m.sup},
		Panels: []observer.Panel{observer.TablesPanel(m.node, actor.Name{Node: m.name, Name: "sessions"})},
	})
	if err != nil {
		return answer{}, err
	}
	if _, err := supervisor.StartChild(ctx, m.node, m.sup, spec); err != nil {
		return answer{}, err
	}
	return answer{Text: obs.URL()}, nil
}

// raftLeader asks the members in names for a leader that is not avoid,
// until one names it (rafted has no leadership notice to wait for).
func raftLeader(ctx context.Context, c *actor.Node, names []string, avoid string) (string, error) {
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

// raftCommand runs one command (adding 1) through whichever member of names
// leads, retrying while there is none.
func raftCommand(ctx context.Context, c *actor.Node, names []string, id string) (any, error) {
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

// echo answers a call with what it was sent.
type echo struct{}

func (echo) HandleCall(_ *actor.Process, _ actor.From, req any) (any, error) { return req, nil }
