package wire_test

import (
	"strings"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
)

// benchMessages are the payloads of the encode and decode benchmarks.
var benchMessages = []struct {
	name    string
	message any
}{
	{"string64", strings.Repeat("x", 64)},
	{"bytes1KiB", make([]byte, 1024)},
	{"int", 42},
	{"registered", point{X: 1, Y: 2, Owner: pidA}},
}

func benchEnvelope(message any) actor.Envelope {
	return actor.Envelope{Kind: actor.EnvMessage, From: pidA, To: pidB, Message: message}
}

func BenchmarkEncodeEnvelope(b *testing.B) {
	for _, bm := range benchMessages {
		b.Run(bm.name, func(b *testing.B) {
			env := benchEnvelope(bm.message)
			b.ReportAllocs()
			var size int
			for b.Loop() {
				data, err := wire.EncodeEnvelope(env)
				if err != nil {
					b.Fatal(err)
				}
				size = len(data)
			}
			b.ReportMetric(float64(size), "bytes/frame")
		})
	}
}

func BenchmarkAppendEnvelope(b *testing.B) {
	for _, bm := range benchMessages[:2] {
		b.Run(bm.name, func(b *testing.B) {
			env := benchEnvelope(bm.message)
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				buf, err = wire.AppendEnvelope(buf[:0], env)
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeEnvelope(b *testing.B) {
	for _, bm := range benchMessages {
		b.Run(bm.name, func(b *testing.B) {
			data, err := wire.EncodeEnvelope(benchEnvelope(bm.message))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := wire.DecodeEnvelope(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeReason(b *testing.B) {
	env := actor.Envelope{Kind: actor.EnvDown, From: pidB, To: pidA, Ref: refA, Reason: actor.Normal}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := wire.EncodeEnvelope(env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeFrameEnvelopeOf is the general path, DecodeFrame then
// EnvelopeOf, for comparison with DecodeEnvelope.
func BenchmarkDecodeFrameEnvelopeOf(b *testing.B) {
	for _, bm := range benchMessages[:2] {
		b.Run(bm.name, func(b *testing.B) {
			data, err := wire.EncodeEnvelope(benchEnvelope(bm.message))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				f, err := wire.DecodeFrame(data)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := wire.EnvelopeOf(f.GetEnvelope()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
