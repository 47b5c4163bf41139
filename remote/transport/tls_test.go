package transport

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/gotp-dev/gotp/remote/transport/tlstest"
)

func newCA(t testing.TB) *tlstest.CA {
	t.Helper()
	ca, err := tlstest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func nodeConfig(t testing.TB, ca *tlstest.CA) *tls.Config {
	t.Helper()
	config, err := ca.NodeConfig("node")
	if err != nil {
		t.Fatal(err)
	}
	return config
}

// tlsServer listens with mutual TLS and logs rejected handshakes to records.
func tlsServer(t *testing.T, ca *tlstest.CA) (Listener, logRecords) {
	records := make(logRecords, 16)
	server := &TCP{TLS: nodeConfig(t, ca), Logger: slog.New(records)}
	return mustListen(t, server, "127.0.0.1:0"), records
}

func TestTLSMutualAuthentication(t *testing.T) {
	ca := newCA(t)
	l, _ := tlsServer(t, ca)
	client, server := connect(t, &TCP{TLS: nodeConfig(t, ca)}, l)

	mustWrite(t, client, []byte("secret"))
	mustRead(t, server, []byte("secret"))
	mustWrite(t, server, []byte("reply"))
	mustRead(t, client, []byte("reply"))

	for name, c := range map[string]Conn{"client": client, "server": server} {
		state := c.TLSState()
		if state == nil {
			t.Fatalf("%s: TLSState is nil", name)
		}
		if state.Version != tls.VersionTLS13 {
			t.Errorf("%s: TLS version %#x, want 1.3", name, state.Version)
		}
		if len(state.PeerCertificates) == 0 {
			t.Errorf("%s: no peer certificate", name)
		}
	}
}

func TestTLSServerNameFromDialedHost(t *testing.T) {
	ca := newCA(t)
	l, _ := tlsServer(t, ca)
	_, port, _ := net.SplitHostPort(l.Addr())
	client, err := (&TCP{TLS: nodeConfig(t, ca)}).Dial(testContext(t), net.JoinHostPort("localhost", port))
	if err != nil {
		if strings.Contains(err.Error(), "connection refused") {
			t.Skip("localhost does not resolve to 127.0.0.1 here")
		}
		t.Fatal(err)
	}
	defer client.Close()
	if got := client.TLSState().ServerName; got != "localhost" {
		t.Errorf("ServerName = %q, want localhost", got)
	}
}

func TestTLSRaisesMinVersion(t *testing.T) {
	ca := newCA(t)
	l, _ := tlsServer(t, ca)
	old := nodeConfig(t, ca)
	old.MinVersion = tls.VersionTLS12
	client, _ := connect(t, &TCP{TLS: old}, l)
	if v := client.TLSState().Version; v != tls.VersionTLS13 {
		t.Errorf("version %#x, want 1.3", v)
	}
	if old.MinVersion != tls.VersionTLS12 {
		t.Error("the caller's config was changed")
	}

	capped := nodeConfig(t, ca)
	capped.MaxVersion = tls.VersionTLS12
	if _, err := (&TCP{TLS: capped}).Dial(testContext(t), l.Addr()); err == nil || errors.Is(err, ErrHandshake) {
		t.Errorf("Dial with MaxVersion 1.2 = %v, want a config error", err)
	}
}

// expectRejected checks that a client the server refuses gets ErrHandshake,
// from Dial or, with TLS 1.3 client authentication, from its first ReadFrame;
// that the server logs the rejection; and that the listener keeps serving.
func expectRejected(t *testing.T, ca *tlstest.CA, l Listener, records logRecords, client *TCP, wantDialErr bool) {
	t.Helper()
	conn, err := client.Dial(testContext(t), l.Addr())
	if wantDialErr {
		if !errors.Is(err, ErrHandshake) {
			t.Fatalf("Dial = %v, want ErrHandshake", err)
		}
		if !strings.HasPrefix(err.Error(), "tls handshake with "+l.Addr()+": ") {
			t.Errorf("error %q does not say which handshake failed", err)
		}
	} else {
		if err != nil {
			t.Fatalf("Dial = %v; the server verifies client certificates after the client's handshake", err)
		}
		_, err = conn.ReadFrame()
		conn.Close()
		if !errors.Is(err, ErrHandshake) {
			t.Fatalf("first ReadFrame = %v, want ErrHandshake", err)
		}
		t.Logf("client sees: %v", err)
	}

	r := nextRecord(t, records)
	if !strings.Contains(recordAttr(r, "error"), "tls handshake with ") {
		t.Errorf("server log %q: error %q", r.Message, recordAttr(r, "error"))
	}

	good, server := connect(t, &TCP{TLS: nodeConfig(t, ca)}, l)
	mustWrite(t, good, []byte("after a rejected client"))
	mustRead(t, server, []byte("after a rejected client"))
}

func TestTLSClientWithoutCertificateRefused(t *testing.T) {
	ca := newCA(t)
	l, records := tlsServer(t, ca)
	expectRejected(t, ca, l, records, &TCP{TLS: ca.ClientConfigWithoutCertificate()}, false)
}

func TestTLSWrongCARefused(t *testing.T) {
	t.Run("client does not trust the server", func(t *testing.T) {
		ca := newCA(t)
		l, records := tlsServer(t, ca)
		stranger := nodeConfig(t, newCA(t))
		expectRejected(t, ca, l, records, &TCP{TLS: stranger}, true)
	})
	t.Run("server does not trust the client", func(t *testing.T) {
		ca := newCA(t)
		l, records := tlsServer(t, ca)
		stranger := nodeConfig(t, newCA(t))
		stranger.RootCAs = ca.Pool // trusts the server, but its certificate is foreign
		// Present it even though the server asks for another CA's, so the
		// server has to verify and refuse it.
		foreign := stranger.Certificates[0]
		stranger.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &foreign, nil
		}
		expectRejected(t, ca, l, records, &TCP{TLS: stranger}, false)
	})
}

func TestTLSHandshakeFailureKeepsListener(t *testing.T) {
	ca := newCA(t)
	l, records := tlsServer(t, ca)

	// A client that stalls in the handshake must not hold up others:
	// handshakes run in parallel.
	stalled, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()

	// A client that speaks plain frames instead of TLS.
	plain, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Write(appendFrame(nil, []byte("not tls at all"))); err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	r := nextRecord(t, records)
	if !strings.Contains(recordAttr(r, "error"), "tls handshake with "+plain.LocalAddr().String()) {
		t.Errorf("server log %q: error %q", r.Message, recordAttr(r, "error"))
	}

	client, server := connect(t, &TCP{TLS: nodeConfig(t, ca)}, l)
	mustWrite(t, client, []byte("hello"))
	mustRead(t, server, []byte("hello"))
}
