package remote_test

import (
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// A node does not keep something for every peer it ever saw: what it
// remembers of departed peers (their addresses, their session counts) is
// bounded, the oldest forgotten first.
func TestDepartedPeersAreForgotten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(80)
		hub := startNode(t, net, "hub", remote.Config{})
		remote.SetDepartedLimit(hub.r, 8)
		for i := range 50 {
			p := startNode(t, net, fmt.Sprintf("p%d", i), remote.Config{})
			connect(t, p, hub)
			p.r.Stop()
			synctest.Wait()
		}
		if n := remote.Remembered(hub.r); n > 8+8 {
			t.Fatalf("the hub remembers %d peers after 50 came and went (limit 8)", n)
		}
		// A departed peer that comes back is served as a new one.
		back := startNode(t, net, "p3", remote.Config{})
		connect(t, back, hub)
	})
}
