package ensemble

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func putAll(t *testing.T, b Backend, objs ...Object) {
	t.Helper()
	for _, o := range objs {
		if err := b.Put(o); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFileBackendReopen(t *testing.T) {
	dir := t.TempDir()
	b, err := NewFileBackend("e", dir)
	if err != nil {
		t.Fatal(err)
	}
	putAll(t, b, Object{Key: "a", Value: []byte("1"), Epoch: 1, Seq: 1},
		Object{Key: "b", Value: []byte("2"), Epoch: 1, Seq: 2},
		Object{Key: "a", NotFound: true, Epoch: 2, Seq: 3})
	_ = b.Close()
	b, err = NewFileBackend("e", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if o, ok := b.Get("a"); !ok || !o.NotFound || o.Seq != 3 {
		t.Fatalf("a: %+v %v", o, ok)
	}
	if o, ok := b.Get("b"); !ok || string(o.Value) != "2" {
		t.Fatalf("b: %+v %v", o, ok)
	}
}

// TestFileBackendDamage: a torn last write is cut off at open; damage
// before the end is refused.
func TestFileBackendDamage(t *testing.T) {
	objs := []Object{{Key: "a", Value: []byte("1"), Seq: 1}, {Key: "b", Value: []byte("2"), Seq: 2}, {Key: "c", Value: []byte("3"), Seq: 3}}
	recLen := len(record(objs[0]))
	for _, tc := range []struct {
		name    string
		damage  func(data []byte) []byte
		wantErr error
		keys    int // objects left when it opens
	}{
		{"torn header", func(d []byte) []byte { return d[:len(d)-recLen+3] }, nil, 2},
		{"torn payload", func(d []byte) []byte { return d[:len(d)-2] }, nil, 2},
		{"bad crc of the last record", func(d []byte) []byte { d[len(d)-1] ^= 0xff; return d }, nil, 2},
		{"bad crc in the middle", func(d []byte) []byte { d[recLen+9] ^= 0xff; return d }, ErrCorrupt, 0},
		{"intact", func(d []byte) []byte { return d }, nil, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			b, err := NewFileBackend("e", dir)
			if err != nil {
				t.Fatal(err)
			}
			putAll(t, b, objs...)
			_ = b.Close()
			path := filepath.Join(dir, fileBackendName)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.damage(data), 0o644); err != nil {
				t.Fatal(err)
			}
			b, err = NewFileBackend("e", dir)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("open: %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			defer b.Close()
			n := 0
			for _, o := range objs {
				if _, ok := b.Get(o.Key); ok {
					n++
				}
			}
			if n != tc.keys {
				t.Fatalf("%d objects after open, want %d", n, tc.keys)
			}
			// The file takes writes again after the cut.
			putAll(t, b, Object{Key: "d", Value: []byte("4"), Seq: 4})
			_ = b.Close()
			b, err = NewFileBackend("e", dir)
			if err != nil {
				t.Fatal(err)
			}
			if o, ok := b.Get("d"); !ok || string(o.Value) != "4" {
				t.Fatalf("d after reopen: %+v %v", o, ok)
			}
		})
	}
}

func TestFileBackendRestore(t *testing.T) {
	src, _ := NewMemoryBackend("", "")
	putAll(t, src, Object{Key: "x", Value: []byte("9"), Seq: 9})
	snap, _ := src.Snapshot()
	dir := t.TempDir()
	b, err := NewFileBackend("e", dir)
	if err != nil {
		t.Fatal(err)
	}
	putAll(t, b, Object{Key: "old", Value: []byte("1"), Seq: 1})
	if err := b.Restore(snap); err != nil {
		t.Fatal(err)
	}
	putAll(t, b, Object{Key: "y", Value: []byte("10"), Seq: 10})
	_ = b.Close()
	b, err = NewFileBackend("e", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, ok := b.Get("old"); ok {
		t.Fatal("object from before the restore survived it")
	}
	for _, k := range []string{"x", "y"} {
		if _, ok := b.Get(k); !ok {
			t.Fatalf("%s missing after restore and reopen", k)
		}
	}
}
