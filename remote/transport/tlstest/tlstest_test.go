package tlstest_test

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"slices"
	"testing"

	"github.com/gotp-dev/gotp/remote/transport/tlstest"
)

func TestIssue(t *testing.T) {
	ca, err := tlstest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("node1.example", "10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Leaf
	if leaf.Subject.CommonName != "node1.example" {
		t.Errorf("CommonName = %q", leaf.Subject.CommonName)
	}
	for _, name := range []string{"localhost", "node1.example"} {
		if !slices.Contains(leaf.DNSNames, name) {
			t.Errorf("DNS names %v lack %s", leaf.DNSNames, name)
		}
	}
	for _, ip := range []string{"127.0.0.1", "::1", "10.1.2.3"} {
		if !slices.ContainsFunc(leaf.IPAddresses, func(a net.IP) bool { return a.Equal(net.ParseIP(ip)) }) {
			t.Errorf("IP addresses %v lack %s", leaf.IPAddresses, ip)
		}
	}
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool, DNSName: "node1.example", KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Errorf("verify for %v: %v", usage, err)
		}
	}
	other, err := tlstest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: other.Pool}); err == nil {
		t.Error("a certificate verified against another CA")
	}
}

func TestMutualTLS(t *testing.T) {
	server, client, err := tlstest.MutualTLS()
	if err != nil {
		t.Fatal(err)
	}
	if server.ClientAuth != tls.RequireAndVerifyClientCert || server.MinVersion != tls.VersionTLS13 {
		t.Errorf("server config: ClientAuth %v, MinVersion %#x", server.ClientAuth, server.MinVersion)
	}
	if len(client.Certificates) != 1 || client.RootCAs == nil {
		t.Error("client config lacks a certificate or roots")
	}
}
