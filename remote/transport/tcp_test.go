package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
)

func TestTCPRoundTrip(t *testing.T) {
	tr := &TCP{}
	l := mustListen(t, tr, "127.0.0.1:0")
	client, server := connect(t, tr, l)

	buf := []byte("ping")
	mustWrite(t, client, buf, []byte{}, []byte("second"))
	copy(buf, "XXXX") // the caller may reuse its buffer once WriteFrames returns
	mustRead(t, server, []byte("ping"))
	mustRead(t, server, []byte{})
	mustRead(t, server, []byte("second"))

	mustWrite(t, server, []byte("pong"))
	mustRead(t, client, []byte("pong"))

	if client.RemoteAddr() != l.Addr() || server.LocalAddr() != l.Addr() {
		t.Errorf("addresses: client remote %s, server local %s, listener %s", client.RemoteAddr(), server.LocalAddr(), l.Addr())
	}
	if client.LocalAddr() != server.RemoteAddr() {
		t.Errorf("client local %s != server remote %s", client.LocalAddr(), server.RemoteAddr())
	}
	if client.TLSState() != nil || server.TLSState() != nil {
		t.Error("TLSState of a plain connection is not nil")
	}
	if err := client.WriteFrames(nil); err != nil {
		t.Errorf("WriteFrames(nil) = %v", err)
	}
}

func TestTCPBatchOfManyFrames(t *testing.T) {
	tr := &TCP{}
	l := mustListen(t, tr, "127.0.0.1:0")
	client, server := connect(t, tr, l)

	// Mostly small frames, with some above copyLimit so the batch mixes
	// copied segments and payloads passed by reference.
	var batch [][]byte
	for i := range 5000 {
		size := i % 97
		if i%1000 == 999 {
			size = copyLimit + i
		}
		batch = append(batch, bytes.Repeat([]byte{byte(i)}, size))
	}
	errc := make(chan error, 1)
	go func() {
		for range 3 {
			if err := client.WriteFrames(batch); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for round := range 3 {
		for i, want := range batch {
			got, err := server.ReadFrame()
			if err != nil {
				t.Fatalf("round %d frame %d: %v", round, i, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("round %d frame %d: got %d bytes, want %d", round, i, len(got), len(want))
			}
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestTCPLargeFrame(t *testing.T) {
	const maxSize = 4 << 20
	tr := &TCP{MaxFrameSize: maxSize}
	l := mustListen(t, tr, "127.0.0.1:0")
	client, server := connect(t, tr, l)

	large := make([]byte, maxSize) // exactly the limit is allowed
	for i := range large {
		large[i] = byte(i * 7)
	}
	errc := make(chan error, 1)
	go func() { errc <- client.WriteFrames([][]byte{[]byte("before"), large, []byte("after")}) }()
	mustRead(t, server, []byte("before"))
	mustRead(t, server, large)
	mustRead(t, server, []byte("after"))
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestTCPWriteRejectsOversizeFrame(t *testing.T) {
	tr := &TCP{MaxFrameSize: 1024}
	l := mustListen(t, tr, "127.0.0.1:0")
	client, server := connect(t, tr, l)

	err := client.WriteFrames([][]byte{[]byte("small"), make([]byte, 1025)})
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("WriteFrames(oversize) = %v, want ErrFrameTooLarge", err)
	}
	// Nothing of the rejected batch went out, and the Conn still works.
	mustWrite(t, client, []byte("next"))
	mustRead(t, server, []byte("next"))
}

func TestTCPReadRejectsOversizeFrame(t *testing.T) {
	tr := &TCP{MaxFrameSize: 1024}
	l := mustListen(t, tr, "127.0.0.1:0")
	ctx := testContext(t)
	raw, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	server, err := l.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	// A valid frame, then a length prefix over the limit with no payload:
	// the reader must refuse on the prefix alone.
	stream := appendFrame(nil, []byte("fine"))
	stream = binary.BigEndian.AppendUint32(stream, 1025)
	if _, err := raw.Write(stream); err != nil {
		t.Fatal(err)
	}
	mustRead(t, server, []byte("fine"))
	if _, err := server.ReadFrame(); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("ReadFrame = %v, want ErrFrameTooLarge", err)
	}
}

func TestTCPPartialFrameThenClose(t *testing.T) {
	tests := []struct {
		name    string
		stream  []byte
		wantErr error
	}{
		{"nothing", nil, io.EOF},
		{"half a prefix", []byte{0, 0}, io.ErrUnexpectedEOF},
		{"prefix only", []byte{0, 0, 0, 9}, io.ErrUnexpectedEOF},
		{"part of the payload", append([]byte{0, 0, 0, 9}, "abc"...), io.ErrUnexpectedEOF},
	}
	tr := &TCP{}
	l := mustListen(t, tr, "127.0.0.1:0")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			raw, err := net.Dial("tcp", l.Addr())
			if err != nil {
				t.Fatal(err)
			}
			server, err := l.Accept(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer server.Close()
			if _, err := raw.Write(tt.stream); err != nil {
				t.Fatal(err)
			}
			raw.Close()
			if _, err := server.ReadFrame(); !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadFrame = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestTCPClose(t *testing.T) {
	ca := newCA(t)
	for name, tr := range map[string]*TCP{"plain": {}, "tls": {TLS: nodeConfig(t, ca)}} {
		t.Run(name, func(t *testing.T) { testTCPClose(t, tr) })
	}
}

func testTCPClose(t *testing.T, tr *TCP) {
	l := mustListen(t, tr, "127.0.0.1:0")
	client, server := connect(t, tr, l)

	// A ReadFrame blocked on the connection returns when it is closed locally.
	readErr := make(chan error, 1)
	go func() {
		_, err := server.ReadFrame()
		readErr <- err
	}()
	mustWrite(t, client, []byte("last"))
	if err := client.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := client.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := <-readErr; err != nil {
		t.Fatalf("ReadFrame before EOF: %v", err)
	}
	if _, err := server.ReadFrame(); err != io.EOF {
		t.Fatalf("ReadFrame after peer close = %v, want io.EOF", err)
	}

	if _, err := client.ReadFrame(); !errors.Is(err, ErrClosed) || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("ReadFrame after Close = %v, want ErrClosed and net.ErrClosed", err)
	}
	if err := client.WriteFrames([][]byte{[]byte("x")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("WriteFrames after Close = %v, want ErrClosed", err)
	}

	_, other := connect(t, tr, l)
	go func() {
		_, err := other.ReadFrame()
		readErr <- err
	}()
	other.Close()
	if err := <-readErr; !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked ReadFrame after Close = %v, want ErrClosed", err)
	}
}

func TestTCPAccept(t *testing.T) {
	tr := &TCP{}
	l := mustListen(t, tr, "127.0.0.1:0")

	ctx, cancel := context.WithCancel(t.Context())
	acceptErr := make(chan error, 1)
	go func() {
		_, err := l.Accept(ctx)
		acceptErr <- err
	}()
	cancel()
	if err := <-acceptErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("Accept after cancel = %v, want context.Canceled", err)
	}

	// The listener still works after an Accept gave up.
	client, server := connect(t, tr, l)
	mustWrite(t, client, []byte("still listening"))
	mustRead(t, server, []byte("still listening"))

	go func() {
		_, err := l.Accept(t.Context())
		acceptErr <- err
	}()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-acceptErr; !errors.Is(err, ErrClosed) {
		t.Fatalf("Accept after Close = %v, want ErrClosed", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// Connections accepted earlier outlive the listener.
	mustWrite(t, server, []byte("after close"))
	mustRead(t, client, []byte("after close"))
}

func TestTCPDialErrors(t *testing.T) {
	tr := &TCP{}
	l := mustListen(t, tr, "127.0.0.1:0")
	addr := l.Addr()
	l.Close() // nothing listens on addr now

	_, err := tr.Dial(testContext(t), addr)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Dial(closed port) = %v, want ErrUnreachable", err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("Dial error %v does not keep the net.OpError", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = tr.Dial(ctx, addr)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnreachable) {
		t.Fatalf("Dial(cancelled ctx) = %v, want context.Canceled only", err)
	}
}

func TestTCPConfigValidation(t *testing.T) {
	sizes := []int{-1}
	if strconv.IntSize == 64 {
		tooBig := uint64(maxWireFrameSize) + 1
		sizes = append(sizes, int(tooBig))
	}
	for _, size := range sizes {
		tr := &TCP{MaxFrameSize: size}
		if _, err := tr.Listen("127.0.0.1:0"); err == nil {
			t.Errorf("Listen with MaxFrameSize %d succeeded", size)
		}
		if _, err := tr.Dial(t.Context(), "127.0.0.1:1"); err == nil || errors.Is(err, ErrUnreachable) {
			t.Errorf("Dial with MaxFrameSize %d = %v, want a config error", size, err)
		}
	}
}

// countingConn counts the Write calls that reach the connection.
type countingConn struct {
	net.Conn
	writes int
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes++
	return c.Conn.Write(p)
}

func TestTCPWriteFramesIsOneWrite(t *testing.T) {
	near, far := net.Pipe()
	defer far.Close()
	counting := &countingConn{Conn: near}
	c := newTCPConn(counting, nil, tcpSettings{maxFrameSize: DefaultMaxFrameSize})
	defer c.Close()
	reader := newTCPConn(far, nil, tcpSettings{maxFrameSize: DefaultMaxFrameSize})

	frames := numbered(100)
	errc := make(chan error, 1)
	go func() { errc <- c.WriteFrames(frames) }()
	for _, want := range frames {
		mustRead(t, reader, want)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if counting.writes != 1 {
		t.Errorf("a batch of %d small frames took %d writes, want 1", len(frames), counting.writes)
	}
}

func TestTCPListenTLSWithoutCertificate(t *testing.T) {
	tr := &TCP{TLS: newCA(t).ClientConfigWithoutCertificate()}
	if l, err := tr.Listen("127.0.0.1:0"); err == nil {
		l.Close()
		t.Fatal("listened with TLS and no certificate")
	}
}
