package bench

import (
	"sync"
	"testing"

	pa "github.com/asynkron/protoactor-go/actor"
	"github.com/gotp-dev/gotp/actor"
)

// Fan-in: P producer goroutines send b.N messages in all into one consumer,
// which counts them; an op ends when the consumer has received every message.
// One op is one message.
//
//   - gotp: the consumer is a process, producers use Node.Send (the mailbox is
//     unbounded, so producers never block).
//   - chan: the consumer is a goroutine reading a `chan any` of capacity
//     fanInChanCap (of `any`, like a mailbox; an empty struct in an interface
//     does not allocate).
//   - protoactor: the consumer is an actor, producers use RootContext.Send
//     (its default mailbox is unbounded too).

const fanInChanCap = 1024

type (
	item struct{}
	// expect tells a consumer how many items make up the run.
	expect struct {
		n    int
		done chan struct{}
	}
)

var fanInProducers = []int{1, 4, 16}

// returns when all have finished sending.
func produce(producers, n int, send func()) {
	var wg sync.WaitGroup
	for i := range producers {
		share := n / producers
		if i < n%producers {
			share++
		}
		wg.Go(func() {
			for range share {
				send()
			}
		})
	}
	wg.Wait()
}

// counter is the consumer's state: it closes done once it has seen n items.
// The expect message is sent before any item, so items never find it unset.
type counter struct {
	left int
	done chan struct{}
}

func (c *counter) receive(msg any) {
	switch m := msg.(type) {
	case expect:
		c.left, c.done = m.n, m.done
		if c.left == 0 {
			close(c.done)
		}
	case item:
		c.left--
		if c.left == 0 {
			close(c.done)
		}
	}
}

func gotpFanIn(tb testing.TB, producers int) harness {
	node := newGotpNode(tb)
	var c counter
	consumer, err := node.Spawn(actor.Func(func(_ *actor.Process, msg any) error {
		c.receive(msg)
		return nil
	}))
	if err != nil {
		tb.Fatal(err)
	}
	return harness{
		run: func(n int) {
			done := make(chan struct{})
			if err := node.Send(consumer, expect{n: n, done: done}); err != nil {
				panic(err)
			}
			produce(producers, n, func() {
				if err := node.Send(consumer, item{}); err != nil {
					panic(err)
				}
			})
			<-done
		},
		stop: func() { stopGotpNode(tb, node) },
	}
}

func chanFanIn(tb testing.TB, producers int) harness {
	ch := make(chan any, fanInChanCap)
	var c counter
	quit := make(chan struct{})
	go func() {
		for {
			select {
			case m := <-ch:
				c.receive(m)
			case <-quit:
				return
			}
		}
	}()
	return harness{
		run: func(n int) {
			done := make(chan struct{})
			ch <- expect{n: n, done: done}
			produce(producers, n, func() { ch <- item{} })
			<-done
		},
		stop: func() { close(quit) },
	}
}

func protoFanIn(tb testing.TB, producers int) harness {
	sys := newProtoSystem()
	var c counter
	consumer := sys.Root.Spawn(pa.PropsFromFunc(func(ctx pa.Context) {
		c.receive(ctx.Message())
	}))
	return harness{
		run: func(n int) {
			done := make(chan struct{})
			sys.Root.Send(consumer, expect{n: n, done: done})
			produce(producers, n, func() { sys.Root.Send(consumer, item{}) })
			<-done
		},
		stop: func() { stopProto(tb, sys, consumer) },
	}
}
