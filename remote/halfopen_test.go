package remote_test

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/remote/transport/tlstest"
)

// Before a peer has proved the cookie, a frame header cannot make the node
// allocate what it announces: a 16 MiB length is refused at once and only
// that connection closes.
func TestHugeLengthBeforeTheHandshake(t *testing.T) {
	b := startNode(t, nil, "b", remote.Config{})
	addr := b.r.Addrs()[0]
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const conns = 20
	for range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte{0x01, 0x00, 0x00, 0x00}); err != nil { // 16 MiB follows, it says
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := io.ReadAll(c); err != nil {
			t.Fatalf("the node held the connection: %v", err)
		}
		_ = c.Close()
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Fatalf("%d announced 16 MiB frames made the node allocate %d bytes", conns, grew)
	}
	// The node still serves a real peer.
	a := startNode(t, nil, "a", remote.Config{})
	connect(t, a, b)
	server, _ := b.Spawn(actor.Server(&echo{}))
	if reply, err := a.Call(ctxT(t), server, "still here"); err != nil || reply != "still here" {
		t.Fatalf("after the flood: %v, %v", reply, err)
	}
}

// Sockets that connect and say nothing cost a bounded amount each, and do not
// delay a legitimate peer, over plain TCP and TLS alike.
func TestIdleHalfOpenConnections(t *testing.T) {
	const idle = 500
	ca, err := tlstest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	for _, withTLS := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "tls"}[withTLS]
		t.Run(name, func(t *testing.T) {
			cfg := func(node string) remote.Config {
				if !withTLS {
					return remote.Config{}
				}
				tc, err := ca.NodeConfig(node)
				if err != nil {
					t.Fatal(err)
				}
				return remote.Config{Transport: &transport.TCP{TLS: tc}}
			}
			b := startNode(t, nil, "b", cfg("b"))
			a := startNode(t, nil, "a", cfg("a"))
			addr := b.r.Addrs()[0]
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			goroutines := runtime.NumGoroutine()
			var socks []net.Conn
			for range idle {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				socks = append(socks, c)
			}
			t.Cleanup(func() {
				for _, c := range socks {
					_ = c.Close()
				}
			})
			start := time.Now()
			connect(t, a, b)
			took := time.Since(start)
			runtime.GC()
			runtime.ReadMemStats(&after)
			perConn := (int64(after.HeapInuse+after.StackInuse) - int64(before.HeapInuse+before.StackInuse)) / idle
			t.Logf("%s: %d idle half-open connections: a peer connected in %v; about %d B and %.1f goroutines each",
				name, idle, took.Round(time.Millisecond), perConn, float64(runtime.NumGoroutine()-goroutines)/idle)
			if took > 2*time.Second {
				t.Fatalf("a legitimate peer took %v to connect past %d idle sockets", took, idle)
			}
			if perConn > 24<<10 {
				t.Fatalf("an idle half-open connection costs %d bytes", perConn)
			}
		})
	}
}
