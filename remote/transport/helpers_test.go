package transport

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"
)

// testTimeout bounds real-network waits so a broken test fails instead of
// hanging; passing tests never come near it.
const testTimeout = 20 * time.Second

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func mustListen(t testing.TB, tr Transport, addr string) Listener {
	t.Helper()
	l, err := tr.Listen(addr)
	if err != nil {
		t.Fatalf("Listen(%q): %v", addr, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// connect dials l from tr and returns both ends, closed at cleanup.
func connect(t testing.TB, tr Transport, l Listener) (client, server Conn) {
	t.Helper()
	ctx := testContext(t)
	type accepted struct {
		conn Conn
		err  error
	}
	done := make(chan accepted, 1)
	go func() {
		c, err := l.Accept(ctx)
		done <- accepted{c, err}
	}()
	client, err := tr.Dial(ctx, l.Addr())
	if err != nil {
		t.Fatalf("Dial(%s): %v", l.Addr(), err)
	}
	t.Cleanup(func() { client.Close() })
	a := <-done
	if a.err != nil {
		t.Fatalf("Accept: %v", a.err)
	}
	t.Cleanup(func() { a.conn.Close() })
	return client, a.conn
}

func mustWrite(t testing.TB, c Conn, frames ...[]byte) {
	t.Helper()
	if err := c.WriteFrames(frames); err != nil {
		t.Fatalf("WriteFrames: %v", err)
	}
}

func mustRead(t testing.TB, c Conn, want []byte) {
	t.Helper()
	got, err := c.ReadFrame()
	if err != nil {
		t.Fatalf("ReadFrame: %v (want %q)", err, want)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("ReadFrame = %q, want %q", got, want)
	}
}

// numbered returns frames "0", "1", ... "count-1".
func numbered(count int) [][]byte {
	frames := make([][]byte, count)
	for i := range frames {
		frames[i] = fmt.Appendf(nil, "%d", i)
	}
	return frames
}

// logRecords is a slog.Handler that hands every record to a channel.
type logRecords chan slog.Record

func (h logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h logRecords) Handle(_ context.Context, r slog.Record) error {
	select {
	case h <- r:
	default: // a test that stops listening must not block the listener
	}
	return nil
}
func (h logRecords) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logRecords) WithGroup(string) slog.Handler      { return h }

// nextRecord waits for the next log record.
func nextRecord(t testing.TB, records logRecords) slog.Record {
	t.Helper()
	select {
	case r := <-records:
		return r
	case <-testContext(t).Done():
		t.Fatal("no log record")
		return slog.Record{}
	}
}

func recordAttr(r slog.Record, key string) string {
	var value string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			value = a.Value.String()
			return false
		}
		return true
	})
	return value
}

// loopReader replays a stream for ever, for benchmarks of the frame reader.
type loopReader struct {
	stream []byte
	offset int
	reader *bufio.Reader
}

func newLoopReader(stream []byte) *loopReader {
	l := &loopReader{stream: stream}
	l.reader = bufio.NewReaderSize(l, readBufferSize)
	return l
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.stream[l.offset:])
	l.offset = (l.offset + n) % len(l.stream)
	return n, nil
}
