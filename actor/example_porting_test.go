package actor_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

// queue is a gen_server that defers its replies: a "take" with nothing
// queued is answered later, when a "put" cast brings an item (Erlang's
// {noreply, State} and gen_server:reply/2). Plain messages reach HandleInfo
// (handle_info/2).
type queue struct {
	items   []string
	waiting []actor.From
	infos   chan string
}

func (q *queue) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	if req != "take" {
		return fmt.Errorf("unknown call %v", req), nil
	}
	if len(q.items) == 0 {
		q.waiting = append(q.waiting, from)
		return actor.NoReply, nil
	}
	item := q.items[0]
	q.items = q.items[1:]
	return item, nil
}

func (q *queue) HandleCast(p *actor.Process, msg any) error {
	item, ok := msg.(string)
	if !ok {
		return nil
	}
	if len(q.waiting) > 0 {
		from := q.waiting[0]
		q.waiting = q.waiting[1:]
		return p.Reply(from, item)
	}
	q.items = append(q.items, item)
	return nil
}

func (q *queue) HandleInfo(p *actor.Process, msg any) error {
	q.infos <- fmt.Sprint("info: ", msg)
	return nil
}

// A gen_server with calls, casts, info and a deferred reply.
func ExampleNoReply() {
	node, _ := actor.NewNode(actor.Config{Name: "example@localhost"})
	defer node.Stop(context.Background())
	q := &queue{infos: make(chan string, 1)}
	pid, _ := node.Spawn(actor.Server(q), actor.WithName("queue"))

	taken := make(chan any)
	go func() {
		v, _ := node.Call(context.Background(), pid, "take") // waits: the queue is empty
		taken <- v
	}()
	// The cast may reach the server before the call, which then finds the
	// item queued; either way the caller gets it.
	node.Cast(actor.Name{Name: "queue"}, "job-1")
	fmt.Println("taken:", <-taken)
	node.Send(pid, "hello")
	fmt.Println(<-q.infos)
	// Output:
	// taken: job-1
	// info: hello
}

// receive ... after: a process that waits for a message at most a while
// arms a timer to itself and cancels it when the message comes first.
func ExampleProcess_SendAfter() {
	node, _ := actor.NewNode(actor.Config{Name: "example@localhost"})
	defer node.Stop(context.Background())
	type timeout struct{}
	results := make(chan string, 2)
	var timer actor.TimerRef
	pid, _ := node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		switch m := msg.(type) {
		case string:
			if m == "wait" {
				timer = p.SendAfter(10*time.Millisecond, p.Self(), timeout{})
				return nil
			}
			p.CancelTimer(timer)
			results <- "got " + m
		case timeout:
			results <- "timed out"
		}
		return nil
	}))
	node.Send(pid, "wait")
	fmt.Println(<-results) // nothing came: the timer fired
	node.Send(pid, "wait")
	node.Send(pid, "ping")
	fmt.Println(<-results)
	// Output:
	// timed out
	// got ping
}

// gen_server:call(Name, Req, Timeout): the deadline is the ctx's; a callee
// that does not answer in time is ErrTimeout (and context.DeadlineExceeded),
// and its late reply never reaches the caller.
func ExampleCallAs() {
	node, _ := actor.NewNode(actor.Config{Name: "example@localhost"})
	defer node.Stop(context.Background())
	release := make(chan struct{})
	node.Spawn(actor.Server(slow{release}), actor.WithName("slow"))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := actor.CallAs[string](ctx, node, actor.Name{Name: "slow"}, "question")
	fmt.Println(errors.Is(err, actor.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	close(release)

	answer, err := actor.CallAs[string](context.Background(), node, actor.Name{Name: "slow"}, "again")
	fmt.Println(answer, err)
	// Output:
	// true true
	// answer to again <nil>
}

type slow struct{ release chan struct{} }

func (s slow) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	<-s.release
	return fmt.Sprint("answer to ", req), nil
}
