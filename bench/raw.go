package bench

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"testing"
)

// The raw TCP baselines: what the loopback wire carries with nothing on it
// but length-prefixed frames through bufio, in this OS process. RemoteSend
// and RemoteCall report gotp and protoactor-go beside them.
//
//   - raw send: per pair, one goroutine writes its share of b.N frames
//     (4-byte length, payload) through a 64 KiB bufio.Writer and flushes; the
//     other end reads them through a bufio.Reader and counts.
//   - raw call: TCP ping-pong of a 64-byte frame, flushed each way.

// rawPair is a loopback TCP connection: c writes, s reads.
func rawPair(tb testing.TB) (c, s net.Conn) {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, _ := l.Accept()
		accepted <- conn
	}()
	c, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	s = <-accepted
	if s == nil {
		tb.Fatal("accept failed")
	}
	return c, s
}

func writeFrame(w *bufio.Writer, payload []byte) error {
	var lb [4]byte
	binary.BigEndian.PutUint32(lb[:], uint32(len(payload)))
	if _, err := w.Write(lb[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

func readFrame(r *bufio.Reader, buf []byte) ([]byte, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(lb[:]))
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	_, err := io.ReadFull(r, buf)
	return buf, err
}

func rawRemoteSend(tb testing.TB, pairs, payload int) harness {
	msg := make([]byte, payload)
	counters := make([]*remoteCounter, pairs)
	writers := make([]*bufio.Writer, pairs)
	var conns []net.Conn
	for i := range pairs {
		c, s := rawPair(tb)
		conns = append(conns, c, s)
		counters[i] = &remoteCounter{}
		writers[i] = bufio.NewWriterSize(c, 64<<10)
		counter := counters[i]
		go func() {
			r := bufio.NewReaderSize(s, 64<<10)
			var buf []byte
			for {
				var err error
				if buf, err = readFrame(r, buf); err != nil {
					return
				}
				counter.hit()
			}
		}()
	}
	h := harness{
		run: func(n int) {
			runPairs(n, counters, func(i, n int, sent chan<- error) {
				go func() {
					w := writers[i]
					for range n {
						if err := writeFrame(w, msg); err != nil {
							sent <- err
							return
						}
					}
					sent <- w.Flush()
				}()
			})
		},
		stop: func() {
			for _, c := range conns {
				_ = c.Close()
			}
		},
	}
	h.run(16 * pairs)
	return h
}

func rawRemoteCall(tb testing.TB) remoteCaller {
	c, s := rawPair(tb)
	go serveRaw(s, true)
	return rawCaller(c, func() { _ = c.Close(); _ = s.Close() })
}

// rawCaller makes one ping-pong per call over c, to an echo of frames.
func rawCaller(c net.Conn, stop func()) remoteCaller {
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	msg := make([]byte, callPayload)
	var buf []byte
	return remoteCaller{
		call: func() error {
			if err := writeFrame(w, msg); err != nil {
				return err
			}
			if err := w.Flush(); err != nil {
				return err
			}
			var err error
			buf, err = readFrame(r, buf)
			return err
		},
		stop: stop,
	}
}
