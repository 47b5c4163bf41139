package transport

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

const (
	// readBufferSize is the bufio.Reader size of a TCP Conn: big enough that
	// a burst of small frames costs one read system call.
	readBufferSize = 64 << 10
	// smallReadBuffer is the reader of a Conn whose read limit is at most
	// this (a handshake before authentication), so that an idle half-open
	// connection holds a few KiB, not readBufferSize.
	smallReadBuffer = 4 << 10
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
	readLimit    int // the largest frame ReadFrame takes now; owned by the reader
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

var (
	_ Conn        = (*tcpConn)(nil)
	_ FrameLender = (*tcpConn)(nil)
)

func newTCPConn(conn net.Conn, tlsConn *tls.Conn, s tcpSettings) *tcpConn {
	return &tcpConn{
		conn:         conn,
		tls:          tlsConn,
		maxFrameSize: s.maxFrameSize,
		readLimit:    s.maxFrameSize,
		writeTimeout: s.writeTimeout,
	}
}

// SetReadLimit lowers the largest frame ReadFrame accepts to n (0 or a value
// above the maximum frame size restores the maximum), so that a peer not yet
// authenticated cannot make this side allocate what a 4-byte length claims.
// Call it only between ReadFrame calls.
func (c *tcpConn) SetReadLimit(n int) {
	c.readLimit = readLimit(n, c.maxFrameSize)
	switch {
	case c.readLimit <= smallReadBuffer && c.reader == nil:
		c.reader = bufio.NewReaderSize(c.conn, smallReadBuffer)
	case c.readLimit > smallReadBuffer && c.reader != nil && c.reader.Size() < readBufferSize:
		// Grow the reader for the traffic to come, keeping what it holds.
		var src io.Reader = c.conn
		if n := c.reader.Buffered(); n > 0 {
			held, _ := c.reader.Peek(n)
			src = io.MultiReader(bytes.NewReader(bytes.Clone(held)), c.conn)
		}
		c.reader = bufio.NewReaderSize(src, readBufferSize)
	}
}

func readLimit(n, maxFrameSize int) int {
	if n <= 0 || n > maxFrameSize {
		return maxFrameSize
	}
	return n
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
func (c *tcpConn) ReadFrame() ([]byte, error) { return c.read(readFrame) }

// LendFrame implements FrameLender.
func (c *tcpConn) LendFrame() ([]byte, error) { return c.read(lendFrame) }

func (c *tcpConn) read(next func(*bufio.Reader, int) ([]byte, error)) ([]byte, error) {
	if c.reader == nil {
		c.reader = bufio.NewReaderSize(c.conn, readBufferSize)
	}
	frame, err := next(c.reader, c.readLimit)
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
