package transport

import (
	"context"
	"crypto/tls"
	"errors"
)

// DefaultMaxFrameSize is the largest frame a transport accepts when its
// MaxFrameSize is zero: 16 MiB.
const DefaultMaxFrameSize = 16 << 20

// maxWireFrameSize is the largest length a 4-byte prefix can carry.
const maxWireFrameSize = 1<<32 - 1

// Errors returned by transports. Compare with errors.Is: the returned errors wrap
// these with the address and the underlying cause.
var (
	// ErrFrameTooLarge: a frame is longer than the transport's MaxFrameSize.
	// WriteFrames returns it before writing anything of the batch; ReadFrame
	// returns it after reading only the length prefix, and the connection
	// should then be closed, since the stream is no longer at a frame boundary.
	ErrFrameTooLarge = errors.New("transport: frame too large")
	// ErrUnreachable: Dial could not reach the address (no listener, refused,
	// timed out, or partitioned away in a Network). A Dial ended by its ctx
	// wraps the ctx's error instead.
	ErrUnreachable = errors.New("transport: unreachable")
	// ErrClosed: the listener or connection was closed, locally or (for
	// writes) by the peer or the network. Errors from a TCP connection closed
	// locally match both ErrClosed and net.ErrClosed; a peer's orderly close
	// shows up on ReadFrame as io.EOF instead.
	ErrClosed = errors.New("transport: closed")
	// ErrHandshake: the TLS handshake failed. Dial returns a *HandshakeError,
	// which matches it; so does the first ReadFrame of a client whose
	// certificate the server rejected after the handshake (see the package
	// documentation on TLS 1.3).
	ErrHandshake = errors.New("transport: tls handshake failed")
)

// HandshakeError is a failed TLS handshake with Addr. It matches ErrHandshake
// and unwraps to the crypto/tls or x509 error.
type HandshakeError struct {
	Addr string
	Err  error
}

func (e *HandshakeError) Error() string { return "tls handshake with " + e.Addr + ": " + e.Err.Error() }

func (e *HandshakeError) Unwrap() error { return e.Err }

// Is reports whether target is ErrHandshake.
func (e *HandshakeError) Is(target error) bool { return target == ErrHandshake }

// FrameLender is a Conn that can lend its next frame instead of handing it
// over, sparing the copy: LendFrame is ReadFrame, except that the slice it
// returns is valid only until the next LendFrame or ReadFrame. A TCP Conn is
// one.
type FrameLender interface {
	LendFrame() ([]byte, error)
}

// Conn is one connection carrying frames in order, both ways.
//
// One goroutine may write (WriteFrames) while another reads (ReadFrame); each
// of the two must be used by one goroutine at a time. Close may be called from
// any goroutine, at any time, and more than once.
type Conn interface {
	// WriteFrames writes the frames in order. A TCP Conn writes the whole
	// batch with as few system calls as it can (length prefixes and small
	// payloads copied into one buffer, large payloads passed by reference,
	// one write per call). If any frame is longer than the maximum frame size,
	// nothing is written and the error wraps ErrFrameTooLarge. Any other error
	// leaves the stream in an unknown state: close the connection. The frames
	// may be reused by the caller once WriteFrames returns.
	WriteFrames(frames [][]byte) error
	// ReadFrame returns the next frame; the returned slice belongs to the
	// caller. A frame longer than the maximum frame size returns an error
	// wrapping ErrFrameTooLarge (close the connection). ReadFrame returns
	// io.EOF when the peer closed the connection at a frame boundary,
	// io.ErrUnexpectedEOF when it closed mid-frame, and an error wrapping
	// ErrClosed (and, for TCP, net.ErrClosed) once this side is closed.
	ReadFrame() ([]byte, error)
	// Close closes the connection; a ReadFrame or WriteFrames blocked on it
	// returns. Calls after the first return nil.
	Close() error
	LocalAddr() string
	RemoteAddr() string
	// TLSState returns the TLS connection state, or nil for a plain
	// connection.
	TLSState() *tls.ConnectionState
}

// Listener accepts connections at an address.
type Listener interface {
	// Accept waits for the next connection. It returns ctx's error when ctx
	// ends first, and an error wrapping ErrClosed once the listener is
	// closed. A connection that fails its TLS handshake is never returned:
	// it is closed and logged, and Accept keeps waiting.
	Accept(ctx context.Context) (Conn, error)
	// Close stops listening; blocked Accepts return. Connections already
	// accepted stay open. Calls after the first return nil.
	Close() error
	// Addr is the address the listener is bound to (with the real port when
	// listening on port 0).
	Addr() string
}

// Transport makes connections: TCP for real networks, Network for tests.
type Transport interface {
	Listen(addr string) (Listener, error)
	Dial(ctx context.Context, addr string) (Conn, error)
}
