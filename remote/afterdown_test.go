package remote_test

import (
	"fmt"
	"runtime"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// Nothing from a connection is delivered after the DOWN its loss caused: a
// process flooded by a remote sender that it monitors sees no message from
// it after its noconnection DOWN, however many frames were still on their
// way when the connection went.
func TestNothingArrivesAfterTheDown(t *testing.T) {
	for round := range 5 {
		t.Run("", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				net := transport.NewNetwork(int64(30 + round))
				a := startNode(t, net, "a", remote.Config{})
				b := startNode(t, net, "b", remote.Config{})
				connect(t, a, b)
				var before, after int
				down, first := make(chan struct{}), make(chan struct{})
				r, _ := a.Spawn(actor.Func(func(p *actor.Process, msg any) error {
					switch m := msg.(type) {
					case func(*actor.Process):
						m(p)
					case actor.DownMessage:
						close(down)
					case int:
						select {
						case <-down:
							after++
						default:
							if before == 0 {
								close(first)
							}
							before++
						}
					}
					return nil
				}))
				stop := make(chan struct{})
				started := make(chan struct{})
				s, _ := b.Spawn(actor.Func(func(p *actor.Process, msg any) error {
					close(started)
					for i := 0; ; i++ {
						select {
						case <-stop:
							return nil
						default:
						}
						_ = p.Send(r, i)
					}
				}))
				monitored := make(chan struct{})
				_ = a.Send(r, func(p *actor.Process) { p.Monitor(s); close(monitored) })
				<-monitored
				synctest.Wait()
				_ = b.Send(s, "go")
				<-started
				<-first
				// No new session can carry the rest of the flood: only what
				// the old one still held could arrive.
				net.Partition([]string{"a"}, []string{"b"})
				a.r.Disconnect("b")
				<-down
				close(stop)
				synctest.Wait()
				if after > 0 {
					t.Fatalf("%d messages arrived after the DOWN (%d before)", after, before)
				}
			})
		})
	}
}

// Point 12: across reconnects a stream stays in order: what the old session
// still held never arrives after what the new one carries (messages lost with
// a connection are lost, none is reordered).
func TestOrderAcrossReconnects(t *testing.T) {
	for round := range 21 {
		t.Run("", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				net := transport.NewNetwork(int64(40 + round))
				a := startNode(t, net, "a", remote.Config{})
				b := startNode(t, net, "b", remote.Config{})
				connect(t, a, b)
				last, got := -1, 0
				var disorder []string
				progress := make(chan struct{}, 1)
				r, _ := a.Spawn(actor.Func(func(p *actor.Process, msg any) error {
					if i, ok := msg.(int); ok {
						if i <= last {
							disorder = append(disorder, fmt.Sprintf("%d after %d", i, last))
						}
						last = i
						got++
						if got%100 == 0 {
							select {
							case progress <- struct{}{}:
							default:
							}
						}
					}
					return nil
				}))
				stop := make(chan struct{})
				done := make(chan struct{})
				s, _ := b.Spawn(actor.Func(func(p *actor.Process, msg any) error {
					defer close(done)
					for i := 0; ; i++ {
						select {
						case <-stop:
							return nil
						default:
						}
						_ = p.Send(r, i)
						if i%64 == 0 {
							runtime.Gosched()
						}
					}
				}))
				_ = b.Send(s, "go")
				for range 5 {
					<-progress // the stream flows (again)
					net.Disconnect("a", "b")
				}
				<-progress
				close(stop)
				<-done
				synctest.Wait()
				if len(disorder) > 0 {
					t.Fatalf("%d of %d messages out of order: %v", len(disorder), got, disorder[:min(5, len(disorder))])
				}
			})
		})
	}
}
