package peerservice_test

import (
	"bytes"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// A client's acknowledged forwards to another client that is then removed
// from the cluster are given up, not sent again for ever.
func TestPendingForwardsToRemovedClientClear(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(24)
		ss, cs := clientServer(t, net, 1, 2)
		time.Sleep(3 * hb)
		net.SetHook(func(src, dst string, frame []byte) ([]byte, bool) {
			if dst == "c2" && bytes.Contains(frame, []byte("precious")) {
				return nil, false
			}
			return frame, true
		})
		err := cs[0].svc.ForwardMessage(t.Context(), peerservice.ToName("c2", "inbox"), "precious", peerservice.ForwardOptions{Ack: true})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * hb)
		if st, _ := cs[0].svc.Stats(t.Context()); st.PendingAcks != 1 {
			t.Fatalf("%d forwards pending before the removal, want 1", st.PendingAcks)
		}
		if err := ss[0].svc.LeaveNode(t.Context(), "c2"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * hb)
		st, err := cs[0].svc.Stats(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st.PendingAcks != 0 {
			t.Fatalf("%d forwards to the removed client still pending on c1", st.PendingAcks)
		}
	})
}

// Acknowledged forwards keep their order when the server relaying them dies
// while a sender sends one every 10 ms: what it lost is sent again through
// the other server, after newer messages took that path, and the receiver
// puts them back in order.
func TestAckedForwardsStayInOrderAcrossRelayLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(25)
		ss, cs := clientServer(t, net, 2, 2)
		time.Sleep(3 * hb)
		sk := spawnSink(t, cs[1], "inbox")
		net.SetDelay("s1", "c2", time.Millisecond, 5*time.Millisecond)
		const n = 1000
		for i := range n {
			if i == 300 {
				ss[0].stop()
			}
			time.Sleep(10 * time.Millisecond)
			err := cs[0].svc.ForwardMessage(t.Context(), peerservice.ToName("c2", "inbox"), i, peerservice.ForwardOptions{Ack: true})
			if err != nil {
				t.Fatalf("forward %d: %v", i, err)
			}
		}
		time.Sleep(20 * hb)
		got := sk.drain()
		want := make([]any, n)
		for i := range want {
			want[i] = i
		}
		if !reflect.DeepEqual(got, want) {
			lost, dup, disorder := 0, 0, 0
			seen := map[any]bool{}
			highest := -1
			for _, m := range got {
				if seen[m] {
					dup++
				}
				seen[m] = true
				if m.(int) < highest {
					disorder++ // arrived after a newer one
				}
				highest = max(highest, m.(int))
			}
			lost = n - len(seen)
			t.Fatalf("c2 got %d messages: %d lost, %d duplicated, %d out of order", len(got), lost, dup, disorder)
		}
		if st, _ := cs[0].svc.Stats(t.Context()); st.PendingAcks != 0 {
			t.Fatalf("%d forwards still pending", st.PendingAcks)
		}
	})
}

// An acknowledged message whose acks are all lost for longer than the
// receiver used to remember deliveries is still delivered once: the receiver
// remembers as long as the sender may send again.
func TestAckedForwardOnceWhenAcksLostLong(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(26)
		var nodes []*tnode
		for i := range 2 {
			cfg := peerservice.Config{HeartbeatInterval: hb, MaxRetransmits: 100}
			nodes = append(nodes, startNode(t, net, fmt.Sprintf("n%d", i), cfg, remote.Config{}))
		}
		syncJoin(t, nodes[1], nodes[0])
		time.Sleep(3 * hb)
		sk := spawnSink(t, nodes[1], "inbox")
		var losing atomic.Bool
		losing.Store(true)
		net.SetHook(func(src, dst string, frame []byte) ([]byte, bool) {
			if losing.Load() && src == "n1" && bytes.Contains(frame, []byte("gotp.peerservice.ack")) {
				return nil, false
			}
			return frame, true
		})
		err := nodes[0].svc.ForwardMessage(t.Context(), peerservice.ToName("n1", "inbox"), "once", peerservice.ForwardOptions{Ack: true})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(80 * hb)
		losing.Store(false)
		time.Sleep(5 * hb)
		if got := sk.drain(); !reflect.DeepEqual(got, []any{"once"}) {
			t.Fatalf("delivered %v, want exactly once", got)
		}
		if st, _ := nodes[0].svc.Stats(t.Context()); st.PendingAcks != 0 {
			t.Fatalf("%d forwards still pending once acks flow again", st.PendingAcks)
		}
	})
}
