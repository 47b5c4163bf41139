package remote_test

import (
	"errors"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/remote/transport/tlstest"
)

func TestMutualTLS(t *testing.T) {
	ca, err := tlstest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	other, err := tlstest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	mk := func(ca *tlstest.CA, name string, logs *logBuffer) *testNode {
		cfg, err := ca.NodeConfig(name)
		if err != nil {
			t.Fatal(err)
		}
		// The transport has no logger of its own: a refusal shows in the
		// node's log.
		return startNode(t, nil, name, remote.Config{
			Transport: &transport.TCP{TLS: cfg},
			Logger:    logs.logger(),
		})
	}
	var logA, logB, logC logBuffer
	a, b := mk(ca, "a", &logA), mk(ca, "b", &logB)
	connect(t, a, b)
	server, _ := b.Spawn(actor.Server(&echo{}))
	if reply, err := a.Call(ctxT(t), server, "over tls"); err != nil || reply != "over tls" {
		t.Fatalf("call over TLS: %v, %v", reply, err)
	}

	// A node whose certificate b's CA did not sign is refused, and both
	// sides say why.
	c := mk(other, "c", &logC)
	if err := c.r.Connect(ctxT(t), b.r.Spec()); !errors.Is(err, transport.ErrHandshake) {
		t.Fatalf("node with a foreign certificate: %v, want transport.ErrHandshake", err)
	}
	<-logC.seen("certificate")
	<-logB.seen("certificate")
	if b.r.IsConnected("c") {
		t.Fatal("b lists c as a peer")
	}

	// A plain-TCP node cannot talk to a TLS node either.
	d := startNode(t, nil, "d", remote.Config{})
	err = d.r.Connect(ctxT(t), b.r.Spec())
	if err == nil || errors.Is(err, remote.ErrBadCookie) {
		t.Fatalf("plain node against TLS node: %v", err)
	}
}
