// Command observer runs a small cluster in one process over loopback TCP,
// with traffic and crashes, and serves the web observer of its first node:
//
//	go run ./examples/observer            # until interrupted; prints the URL
//	go run ./examples/observer -duration 5s -addr 127.0.0.1:0
//
// Two servers (a, b) and two clients (c, d) form a client-server cluster.
// Node a runs an application supervisor with a worker that crashes every few
// seconds, a pool of echo servers, a slow consumer whose mailbox fills in
// bursts and drains, and a Raft group shared with b. Client d leaves after
// 15 s, so the cluster page shows the failure detector's verdict turn.
// Prometheus metrics are served at /metrics beside the pages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/observer"
	"github.com/gotp-dev/gotp/observer/metrics"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/rafted"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/supervisor"
)

const heartbeat = 200 * time.Millisecond

type member struct {
	node *actor.Node
	svc  *peerservice.Service
}

func start(name string, role peerservice.Role) (*member, error) {
	node, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		return nil, err
	}
	svc, err := peerservice.StartNode(node,
		remote.Config{Cookie: "observer-example", Listen: []string{"127.0.0.1:0"}},
		peerservice.Config{Topology: peerservice.ClientServer, Role: role, HeartbeatInterval: heartbeat, GossipInterval: heartbeat})
	if err != nil {
		return nil, err
	}
	return &member{node: node, svc: svc}, nil
}

func (m *member) stop() {
	_ = m.svc.Stop(context.Background())
	_ = m.node.Stop(context.Background())
}

// echo answers calls with what it was sent, and counts them: its state is
// shown on its process page (it is started through observer.Inspectable).
type echo struct{ calls int }

func (e *echo) HandleCall(_ *actor.Process, _ actor.From, req any) (any, error) {
	e.calls++
	return req, nil
}

func (e *echo) Inspect() any { return map[string]int{"calls": e.calls} }

// flaky ticks and crashes on its fifth tick; its supervisor restarts it.
type flaky struct{ ticks int }

type tick struct{}

var errFlaky = errors.New("flaky worker gave up")

func (f *flaky) Init(p *actor.Process) error {
	p.SendAfter(time.Second, p.Self(), tick{})
	return nil
}

func (f *flaky) HandleCall(*actor.Process, actor.From, any) (any, error) { return nil, nil }

func (f *flaky) HandleInfo(p *actor.Process, msg any) error {
	if _, ok := msg.(tick); ok {
		f.ticks++
		if f.ticks == 5 {
			return errFlaky
		}
		p.SendAfter(time.Second, p.Self(), tick{})
	}
	return nil
}

// slow takes 20 ms per message, so a burst queues up in its mailbox.
func slow(*actor.Process, any) error {
	time.Sleep(20 * time.Millisecond)
	return nil
}

// counter is the Raft group's value.
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

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "address of the observer (loopback unless -token is set)")
	token := flag.String("token", "", "bearer token the observer requires")
	duration := flag.Duration("duration", 0, "stop after this long (0: run until interrupted)")
	flag.Parse()
	if err := run(*addr, *token, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "observer example:", err)
		os.Exit(1)
	}
}

func run(addr, token string, duration time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}

	var members []*member
	defer func() {
		for i := len(members) - 1; i >= 0; i-- {
			members[i].stop()
		}
	}()
	for _, spec := range []struct {
		name string
		role peerservice.Role
	}{{"a", peerservice.Server}, {"b", peerservice.Server}, {"c", peerservice.Client}, {"d", peerservice.Client}} {
		m, err := start(spec.name, spec.role)
		if err != nil {
			return err
		}
		members = append(members, m)
	}
	a := members[0]
	for _, m := range members[1:] {
		if err := m.svc.SyncJoin(ctx, a.svc.Myself()); err != nil {
			return fmt.Errorf("%s joins: %w", m.node.Name(), err)
		}
	}
	for _, m := range members {
		if _, err := m.node.Spawn(observer.Inspectable("echo", &echo{}), actor.WithName("echo")); err != nil {
			return err
		}
	}

	newEcho := func() actor.GenServer { return &echo{} }
	app, err := supervisor.Start(a.node, supervisor.Spec{Intensity: 10, Period: 10 * time.Second, Children: []supervisor.ChildSpec{
		supervisor.Worker("flaky", func() actor.GenServer { return &flaky{} }, actor.WithName("flaky")),
		supervisor.BehaviorWorker("slow", func() actor.Behavior { return actor.Func(slow) }, actor.WithName("slow")),
		supervisor.ChildSupervisor("pool", supervisor.Spec{Strategy: supervisor.OneForAll, Children: []supervisor.ChildSpec{
			supervisor.Worker("echo1", newEcho), supervisor.Worker("echo2", newEcho),
			supervisor.BehaviorWorker("echo3", func() actor.Behavior { return observer.Inspectable("echo", &echo{}) }),
		}}, actor.WithName("pool")),
	}}, actor.WithName("app"))
	if err != nil {
		return err
	}

	raft, err := rafted.Start(ctx, a.node, rafted.Options{NewData: func() rafted.Data { return &counter{} }, Create: &rafted.Config{}, Name: "counter"})
	if err != nil {
		return err
	}
	if _, err := rafted.Start(ctx, members[1].node, rafted.Options{NewData: func() rafted.Data { return &counter{} }, Join: []rafted.Server{raft.Server()}, Name: "counter"}); err != nil {
		return err
	}

	var calls, bursts atomic.Int64
	opts := observer.Options{
		Remote:       a.svc.Remote(),
		Peers:        a.svc,
		Supervisors:  []actor.Dest{app},
		Rafted:       []rafted.Server{raft.Server()},
		AllowActions: true,
		Token:        token,
		Panels: []observer.Panel{{Name: "traffic", Data: func(context.Context) (any, error) {
			return map[string]int64{"calls": calls.Load(), "bursts": bursts.Load()}, nil
		}}},
	}
	// Prometheus metrics of the same node, served beside the pages.
	metricsObserver, err := observer.New(a.node, opts)
	if err != nil {
		return err
	}
	metricsHandler, err := metrics.Handler(metricsObserver, metrics.Options{GoCollector: true})
	if err != nil {
		return err
	}
	opts.Routes = map[string]http.Handler{"GET /metrics": metricsHandler}
	obs, err := observer.Start(a.node, addr, opts)
	if err != nil {
		return err
	}
	defer func() { _ = obs.Stop(context.Background()) }()
	url := obs.URL()
	if token != "" {
		url += "?token=" + token
	}
	fmt.Println("observer of node a:", url)
	fmt.Println("metrics:", obs.URL()+"metrics")

	second := time.NewTicker(time.Second)
	defer second.Stop()
	started := time.Now()
	dLeft := false
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			fmt.Println("stopping after", time.Since(started).Round(time.Millisecond))
			return nil
		case <-second.C:
		}
		for _, m := range members[1:] {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			if _, err := a.node.Call(cctx, actor.Name{Node: m.node.Name(), Name: "echo"}, n); err == nil {
				calls.Add(1)
			}
			cancel()
		}
		if n%3 == 0 {
			bursts.Add(1)
			for i := range 80 {
				_ = a.node.Send(actor.Name{Name: "slow"}, i)
			}
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, _ = rafted.Command(cctx, a.node, raft.Server(), int64(1), "tick-"+strconv.Itoa(n))
		cancel()
		if !dLeft && time.Since(started) > 15*time.Second {
			dLeft = true
			fmt.Println("client d leaves")
			members[3].stop()
			members = members[:3]
		}
	}
}
