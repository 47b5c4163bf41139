package peerservice_test

import (
	"fmt"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// converged reports whether every node sees n members and the same state.
func converged(t *testing.T, nodes []*tnode, n int) bool {
	t.Helper()
	var digest uint64
	for i, nd := range nodes {
		st, err := nd.svc.Stats(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			digest = st.Digest
		} else if st.Digest != digest {
			return false
		}
	}
	return len(nodes[0].members(t)) == n
}

// awaitConvergence steps fake time until the nodes agree, and returns how
// long it took and how many gossip rounds node 0 made meanwhile.
func awaitConvergence(t *testing.T, nodes []*tnode, limit time.Duration) (time.Duration, int) {
	t.Helper()
	start := time.Now()
	st0, _ := nodes[0].svc.Stats(t.Context())
	step := hb / 10
	for !converged(t, nodes, len(nodes)) {
		if time.Since(start) > limit {
			t.Fatalf("%d nodes did not converge within %v", len(nodes), limit)
		}
		time.Sleep(step)
	}
	st1, _ := nodes[0].svc.Stats(t.Context())
	return time.Since(start), st1.GossipRounds - st0.GossipRounds
}

func TestGossipConvergenceConcurrentJoins(t *testing.T) {
	for _, n := range []int{3, 10, 25, 50} {
		t.Run(fmt.Sprintf("full-mesh-%d", n), func(t *testing.T) {
			if testing.Short() && n > 10 {
				t.Skip("large cluster under -short")
			}
			synctest.Test(t, func(t *testing.T) {
				net := transport.NewNetwork(int64(n))
				var nodes []*tnode
				for i := range n {
					nodes = append(nodes, startNode(t, net, fmt.Sprintf("n%02d", i), peerservice.Config{HeartbeatInterval: hb, GossipInterval: hb}, remote.Config{}))
				}
				// Everyone joins at once, each through a random earlier node
				// or node 0, so that joins are concurrent at several places.
				for i, nd := range nodes[1:] {
					seed := nodes[(i*7)%(i+1)]
					if err := nd.svc.Join(seed.spec()); err != nil {
						t.Fatal(err)
					}
				}
				took, rounds := awaitConvergence(t, nodes, 60*hb)
				t.Logf("%d nodes, full mesh: converged in %v of fake time, %d gossip rounds (heartbeat %v)", n, took, rounds, hb)
			})
		})
	}
}

func TestClientServerScale(t *testing.T) {
	sizes := []struct{ servers, clients int }{{2, 8}, {4, 46}, {8, 192}}
	// GOTP_PEERSERVICE_SCALE=servers,clients adds a size, to see how far it goes.
	if v := os.Getenv("GOTP_PEERSERVICE_SCALE"); v != "" {
		var s, c int
		if _, err := fmt.Sscanf(v, "%d,%d", &s, &c); err != nil || s < 1 || c < 0 {
			t.Fatalf("GOTP_PEERSERVICE_SCALE=%q: want servers,clients", v)
		}
		sizes = append(sizes, struct{ servers, clients int }{s, c})
	}
	for _, sz := range sizes {
		total := sz.servers + sz.clients
		t.Run(fmt.Sprintf("%d-nodes", total), func(t *testing.T) {
			if testing.Short() && total > 10 {
				t.Skip("large cluster under -short")
			}
			synctest.Test(t, func(t *testing.T) {
				net := transport.NewNetwork(int64(total))
				var nodes []*tnode
				for i := 1; i <= sz.servers; i++ {
					nodes = append(nodes, startNode(t, net, fmt.Sprintf("s%04d", i), csConfig(peerservice.Server), remote.Config{}))
				}
				for i := 1; i <= sz.clients; i++ {
					nodes = append(nodes, startNode(t, net, fmt.Sprintf("c%04d", i), csConfig(peerservice.Client), remote.Config{}))
				}
				// Servers join the first server; clients join a server each
				// (round robin), all at once.
				for i, nd := range nodes[1:] {
					seed := nodes[0]
					if i >= sz.servers-1 {
						seed = nodes[i%sz.servers]
					}
					if err := nd.svc.Join(seed.spec()); err != nil {
						t.Fatal(err)
					}
				}
				took, rounds := awaitConvergence(t, nodes, 120*hb)
				t.Logf("%d servers + %d clients: converged in %v of fake time, %d gossip rounds (heartbeat and gossip %v)", sz.servers, sz.clients, took, rounds, hb)
				// Every client holds connections to every server and no client.
				for _, c := range nodes[sz.servers:] {
					r := c.svc.Remote()
					if n := len(r.Peers()); n != sz.servers {
						t.Fatalf("client %s has %d peers, want %d servers", c.name, n, sz.servers)
					}
				}
			})
		})
	}
}
