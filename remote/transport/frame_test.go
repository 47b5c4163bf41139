package transport

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

func encodeFrames(frames ...[]byte) []byte {
	var stream []byte
	for _, frame := range frames {
		stream = appendFrame(stream, frame)
	}
	return stream
}

func TestReadFrame(t *testing.T) {
	header := func(size uint32) []byte { return binary.BigEndian.AppendUint32(nil, size) }
	tests := []struct {
		name    string
		stream  []byte
		max     int
		want    [][]byte
		wantErr error // after the frames in want
	}{
		{"empty stream", nil, 64, nil, io.EOF},
		{"one frame", encodeFrames([]byte("hello")), 64, [][]byte{[]byte("hello")}, io.EOF},
		{"empty frame", encodeFrames([]byte{}), 64, [][]byte{{}}, io.EOF},
		{"several", encodeFrames([]byte("a"), []byte("bb"), []byte("ccc")), 64, [][]byte{[]byte("a"), []byte("bb"), []byte("ccc")}, io.EOF},
		{"exactly max", encodeFrames(bytes.Repeat([]byte{7}, 64)), 64, [][]byte{bytes.Repeat([]byte{7}, 64)}, io.EOF},
		{"one over max", encodeFrames(bytes.Repeat([]byte{7}, 65)), 64, nil, ErrFrameTooLarge},
		{"huge length, no payload", header(0xffffffff), 64, nil, ErrFrameTooLarge},
		{"cut in header", []byte{0, 0}, 64, nil, io.ErrUnexpectedEOF},
		{"cut in payload", append(header(10), "abc"...), 64, nil, io.ErrUnexpectedEOF},
		{"cut after a frame", append(encodeFrames([]byte("ok")), 0), 64, [][]byte{[]byte("ok")}, io.ErrUnexpectedEOF},
	}
	// readFrame hands each frame over; lendFrame lends those that fit its
	// buffer (a 16-byte one lends only the smallest and reads the others as
	// readFrame does) and must read the same stream the same way.
	readers := []struct {
		name   string
		read   func(*bufio.Reader, int) ([]byte, error)
		buffer int
	}{
		{"read", readFrame, 4096},
		{"lend", lendFrame, 4096},
		{"lend from a small buffer", lendFrame, 16},
	}
	for _, rd := range readers {
		for _, tt := range tests {
			t.Run(rd.name+"/"+tt.name, func(t *testing.T) {
				r := bufio.NewReaderSize(bytes.NewReader(tt.stream), rd.buffer)
				for i, want := range tt.want {
					got, err := rd.read(r, tt.max)
					if err != nil {
						t.Fatalf("frame %d: %v", i, err)
					}
					if !bytes.Equal(got, want) || got == nil {
						t.Fatalf("frame %d = %q, want %q", i, got, want)
					}
				}
				if _, err := rd.read(r, tt.max); !errors.Is(err, tt.wantErr) {
					t.Fatalf("final error = %v, want %v", err, tt.wantErr)
				}
			})
		}
	}
}

// TestLendFrameAllocatesNothing: a lent frame is the reader's own buffer.
func TestLendFrameAllocatesNothing(t *testing.T) {
	frame := bytes.Repeat([]byte{1}, 100)
	stream := bytes.Repeat(encodeFrames(frame), 1000)
	src := bytes.NewReader(stream)
	r := bufio.NewReaderSize(src, 64<<10)
	allocs := testing.AllocsPerRun(10, func() {
		src.Reset(stream)
		r.Reset(src)
		for range 1000 {
			if got, err := lendFrame(r, 1<<20); err != nil || len(got) != len(frame) {
				t.Fatalf("lendFrame = %d bytes, %v", len(got), err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("lending 1000 frames allocated %v times", allocs)
	}
}

// FuzzReadFrame feeds arbitrary streams to the frame reader: it must never
// panic or allocate past the limit, and whatever it returns must re-encode to a
// prefix of its input.
func FuzzReadFrame(f *testing.F) {
	valid := encodeFrames([]byte("hello"), nil, bytes.Repeat([]byte("x"), 300), []byte{0, 0, 0, 4})
	for cut := 0; cut <= len(valid); cut++ {
		f.Add(valid[:cut], uint16(1024))
	}
	f.Add(valid, uint16(4))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1}, uint16(1024))
	f.Add([]byte{0, 0, 1, 0}, uint16(256))
	f.Fuzz(func(t *testing.T, stream []byte, limit uint16) {
		maxSize := int(limit)
		// A tiny buffer makes frames span many refills of the reader.
		r := bufio.NewReaderSize(bytes.NewReader(stream), 16)
		var reencoded []byte
		for {
			frame, err := readFrame(r, maxSize)
			if err != nil {
				switch {
				case errors.Is(err, io.EOF):
					if !bytes.Equal(reencoded, stream) {
						t.Fatalf("io.EOF after %d of %d bytes", len(reencoded), len(stream))
					}
				case errors.Is(err, io.ErrUnexpectedEOF):
					if len(reencoded) >= len(stream) {
						t.Fatalf("io.ErrUnexpectedEOF with nothing left")
					}
				case errors.Is(err, ErrFrameTooLarge):
					size := binary.BigEndian.Uint32(stream[len(reencoded):])
					if uint64(size) <= uint64(maxSize) {
						t.Fatalf("frame of %d bytes rejected with max %d", size, maxSize)
					}
				default:
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
			if len(frame) > maxSize {
				t.Fatalf("frame of %d bytes with max %d", len(frame), maxSize)
			}
			reencoded = appendFrame(reencoded, frame)
			if !bytes.HasPrefix(stream, reencoded) {
				t.Fatalf("frames do not re-encode to a prefix of the input")
			}
		}
	})
}
