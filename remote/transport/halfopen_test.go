package transport

import (
	"context"
	"net"
	"testing"
	"time"
)

// Sockets that connect and never start their TLS handshake must delay no
// one: with more of them open than any fixed number of handshake slots, a
// legitimate peer still connects at once.
func TestIdleSocketsDoNotLockTLSPeersOut(t *testing.T) {
	ca := newCA(t)
	l, _ := tlsServer(t, ca)
	var idle []net.Conn
	for range 3 * 64 {
		c, err := net.Dial("tcp", l.Addr())
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	t.Cleanup(func() {
		for _, c := range idle {
			_ = c.Close()
		}
	})
	accepted := make(chan Conn, 1)
	go func() {
		c, err := l.Accept(testContext(t))
		if err == nil {
			accepted <- c
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	client, err := (&TCP{TLS: nodeConfig(t, ca)}).Dial(ctx, l.Addr())
	if err != nil {
		t.Fatalf("a legitimate peer behind %d idle sockets: %v after %v", len(idle), err, time.Since(start))
	}
	defer client.Close()
	select {
	case c := <-accepted:
		_ = c.Close()
	case <-ctx.Done():
		t.Fatal("the listener did not hand the legitimate connection over")
	}
}
