package dist_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/erlang/dist"
	"github.com/gotp-dev/gotp/erlang/etf"
	"github.com/gotp-dev/gotp/internal/erltest"
	"github.com/gotp-dev/gotp/remote/transport/tlstest"
)

// writePEM writes blocks to a file in dir and returns its path.
func writePEM(t *testing.T, dir, name string, blocks ...*pem.Block) string {
	t.Helper()
	var b []byte
	for _, blk := range blocks {
		b = append(b, pem.EncodeToMemory(blk)...)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The distribution over mutual TLS, as erl -proto_dist inet_tls runs it: the
// Erlang node calls a Go server and the Go node calls back; an Erlang node
// without TLS cannot connect.
func TestTLSDistribution(t *testing.T) {
	erl := erltest.Erl(t)
	if err := exec.Command(erl, "-noshell", "-eval", "{ok, _} = application:ensure_all_started(ssl), halt().").Run(); err != nil {
		t.Skip("this erl has no ssl application (Debian's erlang-ssl; .ci/run installs it): TLS distribution is not tested")
	}
	c := newClusterTLS(t)
	dir := t.TempDir()
	cert, err := c.ca.Issue(c.host)
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile := writePEM(t, dir, "node.pem", &pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	keyFile := writePEM(t, dir, "node.key", &pem.Block{Type: "PRIVATE KEY", Bytes: key})
	caFile := writePEM(t, dir, "ca.pem", &pem.Block{Type: "CERTIFICATE", Bytes: c.ca.Certificate.Raw})
	opts := fmt.Sprintf(`[{server, [{certfile, %q}, {keyfile, %q}, {cacertfile, %q}, {verify, verify_peer}, {fail_if_no_peer_cert, true}]},
		{client, [{certfile, %q}, {keyfile, %q}, {cacertfile, %q}, {verify, verify_peer}]}].`,
		certFile, keyFile, caFile, certFile, keyFile, caFile)
	optFile := filepath.Join(dir, "ssl_dist.conf")
	if err := os.WriteFile(optFile, []byte(opts), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.node.Spawn(actor.Server(echo{}), actor.WithName("echo")); err != nil {
		t.Fatal(err)
	}
	g := "'go@" + c.host + "'"
	env := append(os.Environ(), fmt.Sprintf("ERL_EPMD_PORT=%d", c.epmd.Port()),
		"ERL_FLAGS=-proto_dist inet_tls -ssl_dist_optfile "+optFile)
	e := startErlCookie(t, env, "etls", c.host, cookie, `
		io:format("~p~n", [gen_server:call({echo, `+g+`}, over_tls)]),
		register(shell, self()),
		io:format("ready~n"),
		receive {From, hello} -> From ! {hello_back, node()} end,
		receive stop -> ok end`)
	e.expect(t, "{echo,over_tls}")
	e.expect(t, "ready")
	r := spawnRunner(t, c.node)
	if err := c.node.Send(actor.Name{Node: e.name, Name: "shell"}, etf.Tuple{r.pid, etf.Atom("hello")}); err != nil {
		t.Fatal(err)
	}
	if m := r.recv(t); !etf.Equal(m, etf.Tuple{etf.Atom("hello_back"), etf.Atom(e.name)}) {
		t.Fatalf("got %#v", m)
	}

	// A plain-TCP Erlang node is refused.
	plainEnv := append(os.Environ(), fmt.Sprintf("ERL_EPMD_PORT=%d", c.epmd.Port()))
	p := startErlCookie(t, plainEnv, "eplain", c.host, cookie, `io:format("~p~n", [net_adm:ping(`+g+`)]), receive stop -> ok end`)
	p.expect(t, "pang")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.d.Connect(ctx, p.name); !errors.Is(err, dist.ErrHandshake) {
		t.Fatalf("TLS dial to a plain node: %v, want ErrHandshake", err)
	}
}

type tlsCluster struct {
	*cluster
	ca *tlstest.CA
}

func newClusterTLS(t *testing.T) *tlsCluster {
	ca, err := tlstest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	// Short names: the VM checks the certificate against the host name of
	// the node it dials, which must be a name, not an address.
	h := shortHost(t)
	cfg, err := ca.NodeConfig(h)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MinVersion = 0 // TLS 1.2 or 1.3, as the VM offers
	return &tlsCluster{cluster: newClusterAt(t, dist.Config{TLS: cfg}, h), ca: ca}
}
