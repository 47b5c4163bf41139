package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gotp-dev/gotp/internal/halfopen"
)

// maxPendingHandshakes bounds the TLS handshakes a listener runs at once, so
// a flood of connections that never finish their handshake costs a bounded
// amount. The listener never waits for a slot: a connection beyond the bound
// closes the oldest one still in its handshake (see internal/halfopen), so
// idle sockets cannot lock a legitimate peer out.
const maxPendingHandshakes = 1024

// tcpListener accepts on its own goroutine, so that Accept can honour a ctx and
// TLS handshakes run in parallel instead of one slow client stalling the rest.
type tcpListener struct {
	ln       net.Listener
	settings tcpSettings

	ready    chan Conn     // accepted (and handshaken) connections, handed to Accept
	done     chan struct{} // closed by Close
	pending  *halfopen.Set // connections in their TLS handshake
	stopping context.Context
	stop     context.CancelFunc
	loops    sync.WaitGroup

	closeOnce sync.Once
}

var _ Listener = (*tcpListener)(nil)

func newTCPListener(ln net.Listener, s tcpSettings) *tcpListener {
	stopping, stop := context.WithCancel(context.Background())
	l := &tcpListener{
		ln:       ln,
		settings: s,
		ready:    make(chan Conn),
		done:     make(chan struct{}),
		pending:  halfopen.New(maxPendingHandshakes),
		stopping: stopping,
		stop:     stop,
	}
	l.loops.Go(l.acceptLoop)
	return l
}

// Accept implements Listener.
func (l *tcpListener) Accept(ctx context.Context) (Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.done:
		return nil, fmt.Errorf("transport: accept on %s: %w", l.Addr(), ErrClosed)
	}
}

// Close implements Listener. It waits for the accept loop and any handshakes in
// progress to end.
func (l *tcpListener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		l.stop()
		err = l.ln.Close()
		l.loops.Wait()
	})
	return err
}

func (l *tcpListener) Addr() string { return l.ln.Addr().String() }

func (l *tcpListener) acceptLoop() {
	var backoff time.Duration
	for {
		raw, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: the condition may pass,
			// so back off and retry, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.settings.logger.Warn("transport: accept failed, retrying", "addr", l.Addr(), "error", err, "backoff", backoff)
			if !l.wait(backoff) {
				return
			}
			continue
		}
		backoff = 0
		if l.settings.tls == nil {
			l.hand(newTCPConn(raw, nil, l.settings))
			continue
		}
		id := l.pending.Add(raw)
		l.loops.Go(func() { l.handshake(raw, id) })
	}
}

// handshake runs the server side of a TLS handshake and hands the connection
// to Accept; a failure closes it and is only logged, so one bad client never
// disturbs the listener or other clients.
func (l *tcpListener) handshake(raw net.Conn, id uint64) {
	tlsConn := tls.Server(raw, l.settings.tls)
	ctx, cancel := context.WithTimeout(l.stopping, l.settings.handshakeTimeout)
	defer cancel()
	err := tlsConn.HandshakeContext(ctx)
	l.pending.Done(id)
	if err != nil {
		raw.Close()
		err = &HandshakeError{Addr: raw.RemoteAddr().String(), Err: err}
		l.settings.logger.Warn("transport: rejected connection", "addr", l.Addr(), "remote_addr", raw.RemoteAddr().String(), "error", err)
		return
	}
	l.hand(newTCPConn(tlsConn, tlsConn, l.settings))
}

// hand passes c to an Accept call, or closes it if the listener closes first.
func (l *tcpListener) hand(c *tcpConn) {
	select {
	case l.ready <- c:
	case <-l.done:
		c.Close()
	}
}

// wait sleeps for d unless the listener closes first; it reports whether the
// listener is still open.
func (l *tcpListener) wait(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-l.done:
		return false
	}
}
