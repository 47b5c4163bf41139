package discovery_test

import (
	"context"
	"net"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/cets/discovery"
	"github.com/gotp-dev/gotp/clusterlock"
	"github.com/gotp-dev/gotp/remote"
)

// Two nodes on real TCP, on two loopback addresses, find each other in a
// real DNS server (the headless-service shape: one A record per node) and
// join their tables.
func TestDNSDiscoveryOverTCP(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback TCP: %v", err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	ips := []string{"127.0.0.1", "127.0.0.2"}
	if l, err := net.Listen("tcp", net.JoinHostPort(ips[1], strconv.Itoa(port))); err != nil {
		t.Skipf("cannot listen on %s (loopback range not routed here): %v", ips[1], err)
	} else {
		l.Close()
	}
	dns := startDNS(t, map[string][]net.IP{"gotp.test.svc.": {net.ParseIP(ips[0]), net.ParseIP(ips[1])}}, nil)
	type member struct {
		node *actor.Node
		tab  *cets.Table[string, rec]
		d    *discovery.Discovery
	}
	var ms []member
	for i, ip := range ips {
		n, err := actor.NewNode(actor.Config{Name: "gotp@" + ip})
		if err != nil {
			t.Fatal(err)
		}
		r, err := remote.Start(n, remote.Config{Cookie: "tcp-test", Listen: []string{net.JoinHostPort(ip, strconv.Itoa(port))}})
		if err != nil {
			t.Skipf("listen on %s:%d: %v", ip, port, err)
		}
		t.Cleanup(func() {
			r.Stop()
			_ = n.Stop(context.Background())
		})
		if _, err := clusterlock.Start(n, clusterlock.Config{}); err != nil {
			t.Fatal(err)
		}
		tab, err := cets.Start(n, "t1", cets.Options[string, rec]{Key: func(r rec) string { return r.Key }})
		if err != nil {
			t.Fatal(err)
		}
		if err := tab.Insert(t.Context(), rec{Key: "k" + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
		d := startDisco(t, n, discovery.Config{
			Backend: &discovery.DNSBackend{Name: "gotp.test.svc", Port: port, Resolver: dns.resolver()},
			Tables:  []string{"t1"}, Network: discovery.RemoteNetwork(r),
		})
		ms = append(ms, member{n, tab, d})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for _, m := range ms {
		if err := m.d.WaitForReady(ctx); err != nil {
			t.Fatalf("%s: %v", m.node.Name(), err)
		}
	}
	for _, m := range ms {
		if got := m.tab.Keys(); !reflect.DeepEqual(got, []string{"k0", "k1"}) {
			t.Fatalf("%s holds %v", m.node.Name(), got)
		}
	}
	st, err := ms[0].d.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"gotp@127.0.0.1", "gotp@127.0.0.2"}
	if !reflect.DeepEqual(st.JoinedNodes, all) || !reflect.DeepEqual(st.DiscoveredNodes, all) || !st.DiscoveryWorks {
		t.Fatalf("status %+v", st)
	}
}
