// Package tlstest makes certificates for tests of TLS connections between
// nodes: an in-memory certificate authority and node certificates signed by
// it (ECDSA P-256), with configs for mutual TLS 1.3.
//
//	ca, err := tlstest.NewCA()
//	config, err := ca.NodeConfig("node1")    // serves Listen and Dial alike
//	t := &transport.TCP{TLS: config}
//
// Certificates name 127.0.0.1, ::1 and localhost as well as the names given,
// and are valid from 1999 (before testing/synctest's fake epoch) for ten years
// after they are made. Nothing here is fit for production.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"
)

// notBefore is before testing/synctest's fake clock starts (2000-01-01), so
// certificates made outside a bubble verify inside one, and the other way.
var notBefore = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)

const validity = 10 * 365 * 24 * time.Hour

// CA is a certificate authority kept in memory.
type CA struct {
	Certificate *x509.Certificate
	Key         *ecdsa.PrivateKey
	// Pool holds only Certificate: use it as RootCAs and ClientCAs.
	Pool *x509.CertPool
}

// NewCA makes a self-signed certificate authority.
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tlstest: ca key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "gotp test CA " + serial.Text(16)},
		NotBefore:             notBefore,
		NotAfter:              time.Now().Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("tlstest: ca certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tlstest: ca certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{Certificate: cert, Key: key, Pool: pool}, nil
}

// Issue makes a node certificate signed by ca, good for both server and client
// authentication. Its subject is the first name, if any; every name (a DNS
// name or an IP address) is added to 127.0.0.1, ::1 and localhost.
func (ca *CA) Issue(names ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlstest: node key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return tls.Certificate{}, err
	}
	template := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    notBefore,
		NotAfter:     time.Now().Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if len(names) > 0 {
		template.Subject.CommonName = names[0]
	}
	for _, name := range names {
		if ip := net.ParseIP(name); ip != nil {
			template.IPAddresses = append(template.IPAddresses, ip)
		} else {
			template.DNSNames = append(template.DNSNames, name)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca.Certificate, &key.PublicKey, ca.Key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlstest: node certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlstest: node certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// NodeConfig is a TLS 1.3 config for a node that both listens and dials with
// mutual authentication: it presents a certificate issued for names, trusts
// only ca for servers, and requires and verifies clients' certificates against
// ca.
func (ca *CA) NodeConfig(names ...string) (*tls.Config, error) {
	cert, err := ca.Issue(names...)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		RootCAs:      ca.Pool,
		ClientCAs:    ca.Pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}, nil
}

// ClientConfigWithoutCertificate trusts ca for servers but presents no
// certificate: a server requiring mutual authentication refuses it.
func (ca *CA) ClientConfigWithoutCertificate() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: ca.Pool}
}

// MutualTLS makes a fresh CA and returns a server config and a client config
// for mutual TLS between them. Either config also works in the other role.
func MutualTLS(names ...string) (server, client *tls.Config, err error) {
	ca, err := NewCA()
	if err != nil {
		return nil, nil, err
	}
	if server, err = ca.NodeConfig(names...); err != nil {
		return nil, nil, err
	}
	if client, err = ca.NodeConfig(names...); err != nil {
		return nil, nil, err
	}
	return server, client, nil
}

func serialNumber() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("tlstest: serial number: %w", err)
	}
	return serial, nil
}
