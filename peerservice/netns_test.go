package peerservice_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/internal/netns"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
)

// TestHelperLabNode is not a test: TestNetnsFailureDetection runs it in a
// network namespace as one node of a client-server cluster. It prints "up
// NODE" and "down NODE" as the peer service reports them, and exits when its
// standard input closes.
func TestHelperLabNode(t *testing.T) {
	name := os.Getenv("GOTP_LAB_NODE")
	if name == "" {
		t.Skip("helper process for TestNetnsFailureDetection")
	}
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(1)
	}
	n, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		fail(err)
	}
	cfg := peerservice.Config{
		Topology:          peerservice.ClientServer,
		Role:              peerservice.Role(os.Getenv("GOTP_LAB_ROLE")),
		HeartbeatInterval: 100 * time.Millisecond,
		MissedHeartbeats:  3,
		GossipInterval:    100 * time.Millisecond,
	}
	svc, err := peerservice.StartNode(n, remote.Config{
		Cookie: "lab",
		Listen: []string{os.Getenv("GOTP_LAB_ADDR")},
		// A dial to a host whose link is down must give up well before
		// the link returns, so that the next probe finds it.
		HandshakeTimeout: time.Second,
	}, cfg)
	if err != nil {
		fail(err)
	}
	out := make(chan string, 64)
	svc.OnUp("", func(s remote.NodeSpec) { out <- "up " + s.Name })
	svc.OnDown("", func(s remote.NodeSpec) { out <- "down " + s.Name })
	go func() {
		for line := range out {
			fmt.Println(line)
		}
	}()
	for _, seed := range strings.Fields(os.Getenv("GOTP_LAB_SEEDS")) {
		peer, addr, _ := strings.Cut(seed, "=")
		if err := svc.Join(remote.NodeSpec{Name: peer, Addrs: []string{addr}}); err != nil {
			fail(err)
		}
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// labNode is one node's process and the lines it printed.
type labNode struct {
	name  string
	lines <-chan string
}

// TestNetnsFailureDetection runs two servers and a client as three processes
// in three network namespaces, pulls one server's link, and checks that the
// others detect the failure through missed heartbeats and reconnect on their
// own once the link is back.
func TestNetnsFailureDetection(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process network test")
	}
	lab := netns.New(t, 3)
	roles := []string{"server", "server", "client"}
	names := []string{"s1", "s2", "c1"}
	addrs := make([]string, 3)
	for i, h := range lab.Hosts {
		addrs[i] = net.JoinHostPort(h.Addr, "7100")
	}
	nodes := make([]*labNode, 3)
	for i, h := range lab.Hosts {
		var seeds []string
		for j := range i {
			if roles[j] == "server" {
				seeds = append(seeds, names[j]+"="+addrs[j])
			}
		}
		_, lines := h.Start(t, h.Command(os.Args[0], "-test.run=^TestHelperLabNode$"),
			"GOTP_LAB_NODE="+names[i], "GOTP_LAB_ROLE="+roles[i],
			"GOTP_LAB_ADDR="+addrs[i], "GOTP_LAB_SEEDS="+strings.Join(seeds, " "))
		nodes[i] = &labNode{name: names[i], lines: lines}
	}
	// One deadline for the whole test: a node that never reports what it
	// should fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	expect := func(ln *labNode, want ...string) {
		t.Helper()
		pending := map[string]bool{}
		for _, w := range want {
			pending[w] = true
		}
		for len(pending) > 0 {
			select {
			case line, ok := <-ln.lines:
				if !ok {
					t.Fatalf("%s exited while waiting for %v", ln.name, pending)
				}
				if strings.HasPrefix(line, "error") {
					t.Fatalf("%s: %s", ln.name, line)
				}
				delete(pending, line)
			case <-ctx.Done():
				t.Fatalf("%s: still waiting for %v", ln.name, pending)
			}
		}
	}
	// The cluster forms: servers see each other and the client; the client
	// sees both servers.
	expect(nodes[0], "up s2", "up c1")
	expect(nodes[1], "up s1", "up c1")
	expect(nodes[2], "up s1", "up s2")

	// Pull s2's cable. The others stop hearing its heartbeats and declare it
	// down; s2 declares them down too.
	start := time.Now()
	lab.Hosts[1].LinkDown()
	expect(nodes[0], "down s2")
	expect(nodes[2], "down s2")
	t.Logf("failure detected in %v (bound: 3 missed heartbeats of 100ms, plus scheduling)", time.Since(start))
	expect(nodes[1], "down s1", "down c1")

	// Plug it back: without anyone calling Join, everyone reconnects.
	lab.Hosts[1].LinkUp()
	expect(nodes[0], "up s2")
	expect(nodes[2], "up s2")
	expect(nodes[1], "up s1", "up c1")
}
