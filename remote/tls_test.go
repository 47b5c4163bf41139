package remote_test

import (
	"crypto/tls"
	"errors"
	"strings"
	"sync"
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

// With RequireCertName, a peer's certificate must name the node it claims to
// be: a certificate for "mallory" cannot claim to be "a". A TLSPolicy sees
// the verified TLS state of every peer it accepts.
func TestCertificateBindsTheNodeName(t *testing.T) {
	ca, err := tlstest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cfgFor := func(certName string) *tls.Config {
		c, err := ca.NodeConfig(certName)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	policy := &recordingTLSPolicy{}
	var logB logBuffer
	b := startNode(t, nil, "b", remote.Config{
		Transport: &transport.TCP{TLS: cfgFor("b")}, RequireCertName: true, Policy: policy, Logger: logB.logger(),
	})
	// An honest "a".
	a := startNode(t, nil, "a", remote.Config{Transport: &transport.TCP{TLS: cfgFor("a")}, RequireCertName: true})
	connect(t, a, b)
	if got := policy.names(); len(got) != 1 || got[0] != "a" {
		t.Fatalf("TLS policy saw %v, want [a] with its certificate", got)
	}
	// "c" presenting mallory's certificate.
	c := startNode(t, nil, "c", remote.Config{Transport: &transport.TCP{TLS: cfgFor("mallory")}})
	err = c.r.Connect(ctxT(t), b.r.Spec())
	if err == nil || !strings.Contains(err.Error(), remote.ErrCertName.Error()) {
		t.Fatalf("a node whose certificate names another: %v, want a refusal for %v", err, remote.ErrCertName)
	}
	<-logB.seen("certificate does not name")
	if b.r.IsConnected("c") {
		t.Fatal("b accepted a node its certificate does not name")
	}
}

type recordingTLSPolicy struct {
	mu   sync.Mutex
	seen []string
}

func (p *recordingTLSPolicy) Accept(remote.NodeSpec) error      { return nil }
func (p *recordingTLSPolicy) Route(dest string) (string, error) { return dest, nil }
func (p *recordingTLSPolicy) AcceptTLS(peer remote.NodeSpec, state *tls.ConnectionState) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if state != nil && len(state.PeerCertificates) > 0 {
		p.seen = append(p.seen, peer.Name)
	}
	return nil
}

func (p *recordingTLSPolicy) names() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}
