package peerservice_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote/transport"
)

// silent is a gen_server that never answers a call.
type silent struct{}

func (silent) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	return actor.NoReply, nil
}
func (silent) HandleCast(p *actor.Process, msg any) error { return nil }

// watchSignals spawns a trapping process on n that links to and monitors
// target when told, and hands every exit and DOWN it gets to the channel.
func watchSignals(t *testing.T, n *tnode, target actor.PID) (actor.PID, chan any) {
	t.Helper()
	got := make(chan any, 8)
	pid, err := n.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		switch m := msg.(type) {
		case string:
			_ = p.Link(target)
			p.Monitor(target)
		case actor.ExitMessage, actor.DownMessage:
			got <- m
		}
		return nil
	}), actor.WithTrapExit())
	if err != nil {
		t.Fatal(err)
	}
	_ = n.Send(pid, "watch")
	return pid, got
}

// Two clients have no connection to each other: when one is cut off, the
// links, monitors and calls between them still fire noconnection, on both
// sides, from what the servers and the failure detector learn.
func TestClientToClientSignalsFireWhenCutOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(21)
		_, cs := clientServer(t, net, 2, 3)
		time.Sleep(3 * hb)
		c1, c2 := cs[0], cs[1]
		victim, err := c2.Spawn(actor.Server(silent{}))
		if err != nil {
			t.Fatal(err)
		}
		onC1 := spawnSink(t, c1, "peer")
		_, fromC1 := watchSignals(t, c1, victim)
		_, fromC2 := watchSignals(t, c2, onC1.pid)
		calls := make(chan error, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		go func() {
			_, err := c1.Call(ctx, victim, "never answered")
			calls <- err
		}()
		synctest.Wait()

		net.Isolate("c2")
		time.Sleep(6 * hb)
		for _, side := range []struct {
			name string
			ch   chan any
		}{{"c1 -> c2", fromC1}, {"c2 -> c1", fromC2}} {
			var exits, downs int
			for len(side.ch) > 0 {
				switch m := (<-side.ch).(type) {
				case actor.ExitMessage:
					if !isNoConnection(m.Reason) {
						t.Errorf("%s: link fired with %v, want noconnection", side.name, m.Reason)
					}
					exits++
				case actor.DownMessage:
					if !isNoConnection(m.Reason) {
						t.Errorf("%s: monitor fired with %v, want noconnection", side.name, m.Reason)
					}
					downs++
				}
			}
			if exits != 1 || downs != 1 {
				t.Errorf("%s: %d exits and %d DOWNs within %v of the cut, want one of each", side.name, exits, downs, 6*hb)
			}
		}
		select {
		case err := <-calls:
			if !isNoConnection(err) {
				t.Errorf("call to the cut-off client: %v, want noconnection", err)
			}
		default:
			t.Errorf("call to the cut-off client still pending %v after the cut", 6*hb)
		}
		net.Heal()
		time.Sleep(40 * hb) // let the cluster settle before it stops
	})
}

// A client whose relay's connection is lost routes through another server at
// once, before its failure detector has missed a heartbeat: what it sends in
// between is not handed to a dial of the dead server.
func TestRelayRoutesAroundLostConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(22)
		ss, cs := clientServer(t, net, 2, 2)
		time.Sleep(3 * hb)
		sk := spawnSink(t, cs[1], "inbox")
		ss[0].stop()
		synctest.Wait()
		if cs[0].svc.Remote().IsConnected("s1") {
			t.Fatal("c1 still connected to the stopped s1")
		}
		const n = 10
		for i := range n {
			if err := cs[0].svc.ForwardMessage(t.Context(), peerservice.ToName("c2", "inbox"), i, peerservice.ForwardOptions{}); err != nil {
				t.Fatalf("forward %d: %v", i, err)
			}
		}
		time.Sleep(hb / 10)
		if got := sk.drain(); len(got) != n {
			t.Fatalf("c2 got %v right after s1 stopped, want all %d through s2", got, n)
		}
	})
}
