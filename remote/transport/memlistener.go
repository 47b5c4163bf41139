package transport

import (
	"context"
	"fmt"
	"sync"
)

// memListener queues dialed connections until Accept takes them; Dial never
// waits for Accept, as with a TCP backlog.
type memListener struct {
	network *Network
	addr    string
	notify  chan struct{} // capacity 1: something was queued
	closed  chan struct{}

	mu       sync.Mutex
	pending  []*memConn
	isClosed bool
}

var _ Listener = (*memListener)(nil)

// Accept implements Listener.
func (l *memListener) Accept(ctx context.Context) (Conn, error) {
	for {
		if c, err := l.take(); c != nil || err != nil {
			return c, err
		}
		select {
		case <-l.notify:
		case <-l.closed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (l *memListener) take() (*memConn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.isClosed {
		return nil, fmt.Errorf("transport: accept on %s: %w", l.addr, errLocalClosed)
	}
	if len(l.pending) == 0 {
		return nil, nil
	}
	c := l.pending[0]
	l.pending[0] = nil
	l.pending = l.pending[1:]
	if len(l.pending) > 0 {
		l.signal()
	}
	return c, nil
}

func (l *memListener) enqueue(c *memConn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.isClosed {
		return false
	}
	l.pending = append(l.pending, c)
	l.signal()
	return true
}

func (l *memListener) signal() {
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

// Close implements Listener. Connections dialed but not yet accepted are
// closed, so their dialers read io.EOF.
func (l *memListener) Close() error {
	n := l.network
	n.mu.Lock()
	if n.listeners[l.addr] == l {
		delete(n.listeners, l.addr)
	}
	n.mu.Unlock()
	l.mu.Lock()
	if l.isClosed {
		l.mu.Unlock()
		return nil
	}
	l.isClosed = true
	pending := l.pending
	l.pending = nil
	l.mu.Unlock()
	close(l.closed)
	for _, c := range pending {
		c.Close()
	}
	return nil
}

func (l *memListener) Addr() string { return l.addr }
