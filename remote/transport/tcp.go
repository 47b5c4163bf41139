package transport

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// DefaultHandshakeTimeout bounds a TLS handshake when TCP.HandshakeTimeout is
// zero.
const DefaultHandshakeTimeout = 10 * time.Second

// TCP is the Transport over TCP, optionally with TLS 1.3. The zero value is
// plain TCP with DefaultMaxFrameSize. Fields must not change once the TCP is in
// use.
type TCP struct {
	// TLS, when set, makes every connection TLS 1.3 (a lower MinVersion is
	// raised). The same config serves Listen and Dial: set Certificates,
	// RootCAs, and for mutual authentication ClientCAs with
	// ClientAuth: tls.RequireAndVerifyClientCert. When ServerName is empty,
	// Dial uses the host part of the address it dials. See package tlstest
	// for configs to use in tests.
	TLS *tls.Config
	// MaxFrameSize is the largest frame written or read, in bytes; zero means
	// DefaultMaxFrameSize. At most 1<<32-1.
	MaxFrameSize int
	// DialTimeout bounds the TCP connect of Dial, on top of Dial's ctx; zero
	// means no bound beyond ctx and the operating system's.
	DialTimeout time.Duration
	// HandshakeTimeout bounds each TLS handshake, on both sides; zero means
	// DefaultHandshakeTimeout. Dial's handshake is bounded by its ctx too.
	HandshakeTimeout time.Duration
	// KeepAlive is the TCP keep-alive period; zero means the net package's
	// default (15s) and a negative value turns keep-alives off.
	KeepAlive time.Duration
	// WriteTimeout, when positive, bounds each WriteFrames call, so a peer
	// that stops reading cannot block the writer for ever; the Conn is broken
	// after a timeout.
	WriteTimeout time.Duration
	// Logger receives accept failures (TLS handshakes that fail, accept
	// errors the listener retries). Nil discards them.
	Logger *slog.Logger
}

var _ Transport = (*TCP)(nil)

// tcpSettings is a TCP with its defaults filled in, checked once per Listen or
// Dial.
type tcpSettings struct {
	tls              *tls.Config // nil for plain TCP; already cloned and raised to 1.3
	maxFrameSize     int
	dialTimeout      time.Duration
	handshakeTimeout time.Duration
	keepAlive        time.Duration
	writeTimeout     time.Duration
	logger           *slog.Logger
}

func (t *TCP) settings() (tcpSettings, error) {
	maxFrameSize, err := resolveMaxFrameSize(t.MaxFrameSize)
	if err != nil {
		return tcpSettings{}, err
	}
	s := tcpSettings{
		maxFrameSize:     maxFrameSize,
		dialTimeout:      t.DialTimeout,
		handshakeTimeout: t.HandshakeTimeout,
		keepAlive:        t.KeepAlive,
		writeTimeout:     t.WriteTimeout,
		logger:           t.Logger,
	}
	if s.handshakeTimeout <= 0 {
		s.handshakeTimeout = DefaultHandshakeTimeout
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if t.TLS != nil {
		s.tls = t.TLS.Clone()
		if s.tls.MinVersion < tls.VersionTLS13 {
			s.tls.MinVersion = tls.VersionTLS13
		}
		if s.tls.MaxVersion != 0 && s.tls.MaxVersion < tls.VersionTLS13 {
			return tcpSettings{}, fmt.Errorf("transport: TLS.MaxVersion %#x is below TLS 1.3", s.tls.MaxVersion)
		}
	}
	return s, nil
}

// Listen listens on a TCP address such as "127.0.0.1:0" or ":7946".
func (t *TCP) Listen(addr string) (Listener, error) {
	s, err := t.settings()
	if err != nil {
		return nil, err
	}
	if s.tls != nil && len(s.tls.Certificates) == 0 && s.tls.GetCertificate == nil && s.tls.GetConfigForClient == nil {
		return nil, fmt.Errorf("transport: listen %s: TLS config has no certificate to serve", addr)
	}
	lc := net.ListenConfig{KeepAlive: s.keepAlive}
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s: %w", addr, err)
	}
	return newTCPListener(ln, s), nil
}

// Dial connects to addr ("host:port") and, with TLS, completes the handshake
// before returning. A refused or timed-out connect wraps ErrUnreachable; a
// failed handshake is a *HandshakeError.
func (t *TCP) Dial(ctx context.Context, addr string) (Conn, error) {
	s, err := t.settings()
	if err != nil {
		return nil, err
	}
	dialer := net.Dialer{Timeout: s.dialTimeout, KeepAlive: s.keepAlive}
	raw, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("transport: dial %s: %w", addr, err)
		}
		return nil, fmt.Errorf("transport: dial %s: %w: %w", addr, ErrUnreachable, err)
	}
	if s.tls == nil {
		return newTCPConn(raw, nil, s), nil
	}
	config := s.tls
	if config.ServerName == "" {
		config = config.Clone()
		config.ServerName = hostOf(addr)
	}
	tlsConn := tls.Client(raw, config)
	handshakeCtx, cancel := context.WithTimeout(ctx, s.handshakeTimeout)
	defer cancel()
	if err := tlsConn.HandshakeContext(handshakeCtx); err != nil {
		raw.Close()
		return nil, &HandshakeError{Addr: addr, Err: err}
	}
	c := newTCPConn(tlsConn, tlsConn, s)
	c.awaitingVerdict = true
	return c, nil
}

// hostOf is the host part of "host:port", or addr itself when it has no port.
func hostOf(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}
