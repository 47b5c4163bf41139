package etf_test

import (
	"runtime"
	"testing"

	"github.com/gotp-dev/gotp/erlang/etf"
)

// FuzzDecode: any input decodes or fails with an error, never a panic; what
// decodes encodes and decodes again to an equal term; and decoding allocates
// within a bound set by the input's length and the decoder's limits, whatever
// lengths the input claims.
func FuzzDecode(f *testing.F) {
	seeds := [][]byte{
		{131, 106},
		{131, 108, 255, 255, 255, 255, 106},
		{131, 109, 255, 255, 255, 255},
		{131, 80, 255, 255, 255, 255, 120, 156},
		{131, 104, 2, 100, 0, 2, 111, 107, 107, 0, 3, 1, 2, 3},
		{131, 116, 0, 0, 0, 1, 119, 1, 97, 97, 1},
		{131, 88, 119, 1, 110, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3},
		{131, 90, 0, 3, 119, 1, 110, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3},
		{131, 111, 0, 0, 1, 0, 0},
		{131, 77, 0, 0, 0, 1, 3, 0xe0},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	dec := etf.Decoder{MaxSize: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		v, err := dec.Decode(data)
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20+64*uint64(len(data)) {
			t.Fatalf("decoding %d bytes allocated %d", len(data), grew)
		}
		if err != nil {
			return
		}
		b, err := etf.Encode(v)
		if err != nil {
			t.Fatalf("decoded %#v, which does not encode: %v", v, err)
		}
		w, err := dec.Decode(b)
		if err != nil {
			t.Fatalf("re-encoded %#v does not decode: %v", v, err)
		}
		if !etf.Equal(v, w) {
			t.Fatalf("%#v came back as %#v", v, w)
		}
	})
}
