// Command supervision shows gotp's supervisors at work on a small tree:
//
//	root (one_for_one)
//	├── cache            a worker
//	└── pool (rest_for_one)
//	    ├── db           a worker
//	    └── api          a worker that depends on db
//
// It crashes the db worker and watches the pool restart db and api; crashes
// it again at once, so that the pool gives up and the root restarts the whole
// pool; crashes the cache; and then stops the tree, which stops every worker
// in reverse start order. It prints what happens as it happens.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/supervisor"
)

// service is a worker that reports its start and its stop, and crashes on
// request. It traps exits, so that a supervisor asking it to shut down runs
// its Terminate.
type service struct {
	name   string
	events chan<- string
}

func (s *service) Init(p *actor.Process) error {
	s.events <- fmt.Sprintf("    %s started as %s", s.name, p.Self())
	return nil
}

func (s *service) Terminate(p *actor.Process, reason error) {
	var panicked *actor.PanicError
	switch {
	case errors.As(reason, &panicked):
		s.events <- fmt.Sprintf("    %s crashed: %v", s.name, panicked.Value)
	default:
		s.events <- fmt.Sprintf("    %s stopped (%v)", s.name, reason)
	}
}

func (s *service) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	if req == "crash" {
		panic("asked to crash")
	}
	return "pong", nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "supervision:", err)
		os.Exit(1)
	}
}

func run() error {
	// Everything below is immediate; the deadline only guards against a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	node, err := actor.NewNode(actor.Config{Name: "demo@localhost"})
	if err != nil {
		return err
	}
	defer node.Stop(ctx)

	events := make(chan string, 64)
	worker := func(name string) supervisor.ChildSpec {
		return supervisor.Worker(name, func() actor.GenServer { return &service{name: name, events: events} },
			actor.WithName(name), actor.WithTrapExit())
	}
	// flush prints what the workers reported. Each step ends with a call to a
	// supervisor, which answers only after it has dealt with what came before,
	// so by then every report of the step is in the channel.
	flush := func() {
		for {
			select {
			case e := <-events:
				fmt.Println(e)
			default:
				return
			}
		}
	}

	fmt.Println("Starting the tree: root supervises cache and the pool; the pool supervises db and api.")
	root, err := supervisor.Start(node, supervisor.Spec{
		Strategy:  supervisor.OneForOne,
		Intensity: 3, // up to 3 restarts in 5 seconds before the root gives up
		Children: []supervisor.ChildSpec{
			worker("cache"),
			supervisor.ChildSupervisor("pool", supervisor.Spec{
				Strategy: supervisor.RestForOne, // api depends on db: when db restarts, so does api
				Children: []supervisor.ChildSpec{worker("db"), worker("api")},
			}),
		},
	}, actor.WithName("root"))
	if err != nil {
		return err
	}
	flush()

	pool, err := childPID(ctx, node, root, "pool")
	if err != nil {
		return err
	}
	fmt.Println("\nThe db worker crashes. The pool restarts it, and api after it (rest_for_one):")
	if err := crash(ctx, node, "db"); err != nil {
		return err
	}
	if _, err := childPID(ctx, node, pool, "db"); err != nil {
		return err
	}
	flush()

	fmt.Println("\nThe db worker crashes again at once. That is more restarts than the pool allows")
	fmt.Println("(1 in 5 seconds), so the pool stops api and gives up; the root restarts the pool:")
	if err := crash(ctx, node, "db"); err != nil {
		return err
	}
	// The pool exits while it handles db's crash, so this call fails; the
	// pool's exit signal reaches the root before the next call does.
	if _, err := supervisor.WhichChildren(ctx, node, pool); err == nil {
		return errors.New("the pool did not give up")
	}
	newPool, err := childPID(ctx, node, root, "pool")
	if err != nil {
		return err
	}
	flush()
	fmt.Printf("    the pool was %s and is now %s\n", pool, newPool)

	fmt.Println("\nThe cache crashes. Only the cache is restarted (one_for_one):")
	if err := crash(ctx, node, "cache"); err != nil {
		return err
	}
	if _, err := childPID(ctx, node, root, "cache"); err != nil {
		return err
	}
	flush()

	fmt.Println("\nThe registered names follow the restarts:")
	for _, name := range []string{"cache", "db", "api"} {
		reply, err := node.Call(ctx, actor.Name{Name: name}, "ping")
		if err != nil {
			return err
		}
		pid, _ := node.WhereIs(name)
		fmt.Printf("    %s is %s and answers %v\n", name, pid, reply)
	}
	counts, err := supervisor.CountChildren(ctx, node, root)
	if err != nil {
		return err
	}
	fmt.Printf("    root: %d children, %d running (%d supervisor, %d worker)\n",
		counts.Specs, counts.Active, counts.Supervisors, counts.Workers)

	fmt.Println("\nStopping the tree: children stop in reverse start order, supervisors after their children:")
	if err := supervisor.Stop(ctx, node, root); err != nil {
		return err
	}
	flush()
	fmt.Println("Done.")
	return nil
}

// crash makes the named worker panic. The worker's exit signal reaches its
// supervisor before the call returns.
func crash(ctx context.Context, node *actor.Node, name string) error {
	_, err := node.Call(ctx, actor.Name{Name: name}, "crash")
	var exit *actor.ExitError
	if !errors.As(err, &exit) {
		return fmt.Errorf("crash %s: %v", name, err)
	}
	return nil
}

// childPID asks sup for the PID of its child id. The answer comes after the
// supervisor has handled every exit signal that reached it before the call,
// so it also tells that the supervisor is done with them.
func childPID(ctx context.Context, node *actor.Node, sup actor.PID, id string) (actor.PID, error) {
	children, err := supervisor.WhichChildren(ctx, node, sup)
	if err != nil {
		return actor.PID{}, err
	}
	for _, c := range children {
		if c.ID == id {
			return c.PID, nil
		}
	}
	return actor.PID{}, fmt.Errorf("no child %q", id)
}
