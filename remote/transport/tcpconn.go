package transport

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

const (
	// readBufferSize is the bufio.Reader size of a TCP Conn: big enough that
	// a burst of small frames costs one read system call.
	readBufferSize = 64 << 10
	// copyLimit: payloads shorter than this are copied into the write buffer
	// next to their prefix; longer ones are handed to the kernel by reference
	// (writev), where copying would cost more than the extra iovec.
	copyLimit = 16 << 10
	// keepWriteBuffer is the largest write buffer kept between calls, so one
	// burst does not pin its memory for the life of the connection.
	keepWriteBuffer = 1 << 20
)

// tcpConn is a Conn over a net.Conn (a *net.TCPConn or a *tls.Conn).
type tcpConn struct {
	conn         net.Conn
	tls          *tls.Conn // nil for plain TCP
	reader       *bufio.Reader
	maxFrameSize int
	writeTimeout time.Duration

	// Owned by the one writer goroutine.
	writeBuf  []byte
	writeBufs net.Buffers
	writeErr  error // sticky: after a failed write the stream is unusable

	// awaitingVerdict: a TLS client that has read nothing yet, so a TLS
	// alert may still be the server refusing its certificate. Owned by the
	// reader goroutine.
	awaitingVerdict bool

	closeOnce sync.Once
}

var _ Conn = (*tcpConn)(nil)

func newTCPConn(conn net.Conn, tlsConn *tls.Conn, s tcpSettings) *tcpConn {
	return &tcpConn{
		conn:         conn,
		tls:          tlsConn,
		reader:       bufio.NewReaderSize(conn, readBufferSize),
		maxFrameSize: s.maxFrameSize,
		writeTimeout: s.writeTimeout,
	}
}

// WriteFrames implements Conn. Only one goroutine may call it at a time.
func (c *tcpConn) WriteFrames(frames [][]byte) error {
	if c.writeErr != nil {
		return c.writeErr
	}
	if err := checkFrameSizes(frames, c.maxFrameSize); err != nil {
		return err
	}
	if len(frames) == 0 {
		return nil
	}
	if c.writeTimeout > 0 {
		if err := c.conn.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
			return c.failWrite(err)
		}
	}
	// Coalesce prefixes and small payloads into writeBuf; a large payload
	// ends the current segment and goes out by reference.
	buf := c.writeBuf[:0]
	bufs := c.writeBufs[:0]
	segmentStart := 0
	for _, frame := range frames {
		buf = appendFrameHeader(buf, len(frame))
		if len(frame) < copyLimit {
			buf = append(buf, frame...)
			continue
		}
		bufs = append(bufs, buf[segmentStart:len(buf):len(buf)], frame)
		segmentStart = len(buf)
	}
	var err error
	if len(bufs) == 0 {
		_, err = c.conn.Write(buf)
	} else {
		if segmentStart < len(buf) {
			bufs = append(bufs, buf[segmentStart:])
		}
		// Copy the slice header: WriteTo consumes the Buffers it is given.
		pending := bufs
		_, err = pending.WriteTo(c.conn)
	}
	clear(bufs) // drop references to the caller's payloads
	c.writeBufs = bufs[:0]
	if cap(buf) <= keepWriteBuffer {
		c.writeBuf = buf[:0]
	} else {
		c.writeBuf = nil
	}
	if err != nil {
		return c.failWrite(err)
	}
	return nil
}

func (c *tcpConn) failWrite(err error) error {
	c.writeErr = c.wrapErr(err)
	return c.writeErr
}

// ReadFrame implements Conn. Only one goroutine may call it at a time.
func (c *tcpConn) ReadFrame() ([]byte, error) {
	frame, err := readFrame(c.reader, c.maxFrameSize)
	if err != nil {
		if c.awaitingVerdict && isRemoteTLSAlert(err) {
			// TLS 1.3: a server that rejects our certificate does so after
			// our side of the handshake has finished, so its verdict
			// arrives here rather than in Dial.
			return nil, &HandshakeError{Addr: c.RemoteAddr(), Err: err}
		}
		return nil, c.wrapErr(err)
	}
	c.awaitingVerdict = false
	return frame, nil
}

// wrapErr makes an error from a locally closed connection match ErrClosed as
// well as net.ErrClosed.
func (c *tcpConn) wrapErr(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

func isRemoteTLSAlert(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "remote error"
}

// Close implements Conn. With TLS it sends close_notify first (crypto/tls
// bounds that write, and skips it when a write is in progress).
func (c *tcpConn) Close() error {
	var err error
	c.closeOnce.Do(func() { err = c.conn.Close() })
	return err
}

func (c *tcpConn) LocalAddr() string  { return c.conn.LocalAddr().String() }
func (c *tcpConn) RemoteAddr() string { return c.conn.RemoteAddr().String() }

// TLSState implements Conn.
func (c *tcpConn) TLSState() *tls.ConnectionState {
	if c.tls == nil {
		return nil
	}
	state := c.tls.ConnectionState()
	return &state
}
