package discovery_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gotp-dev/gotp/cets/discovery"
	"github.com/gotp-dev/gotp/remote"
	"golang.org/x/net/dns/dnsmessage"
)

func names(specs []remote.NodeSpec) []string {
	var out []string
	for _, s := range specs {
		out = append(out, s.Name)
	}
	return out
}

func TestStaticBackend(t *testing.T) {
	b := discovery.Static("a", "b")
	if err := b.Init(discovery.BackendInfo{Node: "a"}); err != nil {
		t.Fatal(err)
	}
	got, err := b.GetNodes(t.Context())
	if err != nil || !reflect.DeepEqual(names(got), []string{"a", "b"}) {
		t.Fatalf("GetNodes = %v, %v", got, err)
	}
}

func TestParseNodeList(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"", nil},
		{"a@h", []string{"a@h"}},
		{"node1@localhost\nnode2@otherhost\n", []string{"node1@localhost", "node2@otherhost"}},
		{"a b\r\nc\n\n  d\r", []string{"a", "b", "c", "d"}},
		// Only space, CR and LF separate names, as in CETS.
		{"a\tb", []string{"a\tb"}},
	} {
		if got := names(discovery.ParseNodeList([]byte(tc.text))); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseNodeList(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestFileBackendReReadsAndFailsOnMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nodes.txt")
	b := &discovery.FileBackend{Path: path}
	if err := b.Init(discovery.BackendInfo{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetNodes(t.Context()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: err = %v, want ErrNotExist", err)
	}
	if err := os.WriteFile(path, []byte("a b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := b.GetNodes(t.Context())
	if err != nil || !reflect.DeepEqual(names(got), []string{"a", "b"}) {
		t.Fatalf("GetNodes = %v, %v", got, err)
	}
	if err := os.WriteFile(path, []byte("c\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = b.GetNodes(t.Context())
	if err != nil || !reflect.DeepEqual(names(got), []string{"c"}) {
		t.Fatalf("GetNodes after rewrite = %v, %v", got, err)
	}
	if err := (&discovery.FileBackend{}).Init(discovery.BackendInfo{}); !errors.Is(err, discovery.ErrConfig) {
		t.Fatalf("no path: %v", err)
	}
}

// dnsServer is a DNS server on a loopback UDP port answering from fixed
// records.
type dnsServer struct {
	addr string
	a    map[string][]net.IP // name (with trailing dot) -> addresses (A and AAAA)
	srv  map[string][]dnsmessage.SRVResource
}

func startDNS(t *testing.T, a map[string][]net.IP, srv map[string][]dnsmessage.SRVResource) *dnsServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("cannot listen on loopback UDP for a DNS server: %v", err)
	}
	s := &dnsServer{addr: pc.LocalAddr().String(), a: a, srv: srv}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if out, ok := s.answer(buf[:n]); ok {
				_, _ = pc.WriteTo(out, from)
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return s
}

func (s *dnsServer) answer(req []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(req)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	name := q.Name.String()
	_, knownA := s.a[name]
	_, knownSRV := s.srv[name]
	rcode := dnsmessage.RCodeSuccess
	if !knownA && !knownSRV {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: rcode})
	b.EnableCompression()
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 5}
	switch q.Type {
	case dnsmessage.TypeA:
		for _, ip := range s.a[name] {
			if v4 := ip.To4(); v4 != nil {
				_ = b.AResource(rh, dnsmessage.AResource{A: [4]byte(v4)})
			}
		}
	case dnsmessage.TypeAAAA:
		for _, ip := range s.a[name] {
			if ip.To4() == nil {
				_ = b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: [16]byte(ip.To16())})
			}
		}
	case dnsmessage.TypeSRV:
		for _, r := range s.srv[name] {
			_ = b.SRVResource(rh, r)
		}
	}
	out, err := b.Finish()
	return out, err == nil
}

func (s *dnsServer) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.addr)
	}}
}

func TestDNSBackendHeadlessServiceAddresses(t *testing.T) {
	s := startDNS(t, map[string][]net.IP{
		"gotp.default.svc.cluster.local.": {net.ParseIP("10.0.0.2"), net.ParseIP("10.0.0.1"), net.ParseIP("fd00::1")},
	}, nil)
	b := &discovery.DNSBackend{Name: "gotp.default.svc.cluster.local", Port: 7000, Resolver: s.resolver()}
	if err := b.Init(discovery.BackendInfo{}); err != nil {
		t.Fatal(err)
	}
	got, err := b.GetNodes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []remote.NodeSpec{
		{Name: "gotp@10.0.0.1", Addrs: []string{"10.0.0.1:7000"}},
		{Name: "gotp@10.0.0.2", Addrs: []string{"10.0.0.2:7000"}},
		{Name: "gotp@fd00::1", Addrs: []string{"[fd00::1]:7000"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetNodes = %v, want %v", got, want)
	}
}

func TestDNSBackendSRV(t *testing.T) {
	target := func(s string) dnsmessage.Name { return dnsmessage.MustNewName(s) }
	s := startDNS(t, nil, map[string][]dnsmessage.SRVResource{
		"_dist._tcp.gotp.default.svc.cluster.local.": {
			{Priority: 0, Weight: 50, Port: 7001, Target: target("gotp-1.gotp.default.svc.cluster.local.")},
			{Priority: 0, Weight: 50, Port: 7000, Target: target("gotp-0.gotp.default.svc.cluster.local.")},
		},
	})
	b := &discovery.DNSBackend{Name: "gotp.default.svc.cluster.local", Service: "dist", NamePrefix: "app", Resolver: s.resolver()}
	if err := b.Init(discovery.BackendInfo{}); err != nil {
		t.Fatal(err)
	}
	got, err := b.GetNodes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []remote.NodeSpec{
		{Name: "app@gotp-0.gotp.default.svc.cluster.local", Addrs: []string{"gotp-0.gotp.default.svc.cluster.local:7000"}},
		{Name: "app@gotp-1.gotp.default.svc.cluster.local", Addrs: []string{"gotp-1.gotp.default.svc.cluster.local:7001"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetNodes = %v, want %v", got, want)
	}
}

func TestDNSBackendMissingNameIsEmptyCluster(t *testing.T) {
	s := startDNS(t, nil, nil)
	b := &discovery.DNSBackend{Name: "nobody.example", Port: 1, Resolver: s.resolver()}
	got, err := b.GetNodes(t.Context())
	if err != nil || len(got) != 0 {
		t.Fatalf("GetNodes = %v, %v; want no nodes and no error", got, err)
	}
	sb := &discovery.DNSBackend{Name: "nobody.example", Service: "dist", Resolver: s.resolver()}
	got, err = sb.GetNodes(t.Context())
	if err != nil || len(got) != 0 {
		t.Fatalf("SRV GetNodes = %v, %v; want no nodes and no error", got, err)
	}
}

func TestDNSBackendServerDownIsError(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback UDP: %v", err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // nothing answers there
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
	b := &discovery.DNSBackend{Name: "gotp.example", Port: 1, Resolver: r}
	ctx, cancel := context.WithTimeout(t.Context(), 2e9)
	defer cancel()
	if _, err := b.GetNodes(ctx); err == nil {
		t.Fatal("GetNodes succeeded with no DNS server")
	}
}
