package remote_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// Two nodes that dial each other at the same instant, the first time or
// after a partition healed, end up connected: one of the crossing
// connections gives way to the other, and neither node is left with none.
func TestCrossingDialsLeaveOneConnection(t *testing.T) {
	for _, healed := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			net := transport.NewNetwork(1)
			a := startNode(t, net, "a", remote.Config{NetTickTime: 4 * time.Second})
			b := startNode(t, net, "b", remote.Config{NetTickTime: 4 * time.Second})
			if healed {
				if err := a.r.Connect(t.Context(), b.r.Spec()); err != nil {
					t.Fatal(err)
				}
				net.Partition([]string{"a"}, []string{"b"})
				time.Sleep(10 * time.Second)
				net.Heal()
			}
			errs := make(chan error, 2)
			go func() { errs <- a.r.Connect(t.Context(), b.r.Spec()) }()
			go func() { errs <- b.r.Connect(t.Context(), a.r.Spec()) }()
			if err1, err2 := <-errs, <-errs; err1 != nil || err2 != nil {
				t.Fatalf("connect: %v, %v", err1, err2)
			}
			time.Sleep(10 * time.Second)
			if !a.r.IsConnected("b") || !b.r.IsConnected("a") {
				t.Fatalf("healed=%v: after crossing dials a->b %v, b->a %v", healed, a.r.IsConnected("b"), b.r.IsConnected("a"))
			}
		})
	}
}
