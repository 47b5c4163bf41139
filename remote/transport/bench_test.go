package transport

import (
	"fmt"
	"testing"
	"time"
)

// benchmarkThroughput writes b.N frames of size bytes in batches of batch from
// one end of a connection and reads them at the other.
func benchmarkThroughput(b *testing.B, tr Transport, listenAddr string, size, batch int) {
	l := mustListen(b, tr, listenAddr)
	client, server := connect(b, tr, l)
	frames := make([][]byte, batch)
	for i := range frames {
		frames[i] = make([]byte, size)
	}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		for sent := 0; sent < b.N; sent += batch {
			if err := client.WriteFrames(frames[:min(batch, b.N-sent)]); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for range b.N {
		if _, err := server.ReadFrame(); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "frames/s")
}

func BenchmarkTCPThroughput(b *testing.B) {
	for _, size := range []int{64, 1024} {
		for _, batch := range []int{1, 16, 128} {
			b.Run(fmt.Sprintf("size=%d/batch=%d", size, batch), func(b *testing.B) {
				benchmarkThroughput(b, &TCP{}, "127.0.0.1:0", size, batch)
			})
		}
	}
}

func BenchmarkTLSThroughput(b *testing.B) {
	ca := newCA(b)
	for _, size := range []int{64, 1024} {
		b.Run(fmt.Sprintf("size=%d/batch=128", size), func(b *testing.B) {
			benchmarkThroughput(b, &TCP{TLS: nodeConfig(b, ca)}, "127.0.0.1:0", size, 128)
		})
	}
}

func BenchmarkNetworkThroughput(b *testing.B) {
	for _, size := range []int{64, 1024} {
		for _, batch := range []int{1, 128} {
			b.Run(fmt.Sprintf("size=%d/batch=%d", size, batch), func(b *testing.B) {
				benchmarkThroughput(b, NewNetwork(1).Transport("node"), "", size, batch)
			})
		}
	}
}

func BenchmarkReadFrame(b *testing.B) {
	frame := make([]byte, 64)
	stream := make([]byte, 0, 1000*(len(frame)+frameHeaderSize))
	for range 1000 {
		stream = appendFrame(stream, frame)
	}
	r := newLoopReader(stream)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := readFrame(r.reader, DefaultMaxFrameSize); err != nil {
			b.Fatal(err)
		}
	}
}
