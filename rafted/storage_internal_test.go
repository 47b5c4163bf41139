package rafted

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"go.etcd.io/raft/v3/raftpb"
)

// failingSnapshots is a logStore whose Snapshot fails.
type failingSnapshots struct{ logStore }

var errSnapshotRead = errors.New("snapshot read failed")

func (failingSnapshots) Snapshot() (raftpb.Snapshot, error) {
	return raftpb.Snapshot{}, errSnapshotRead
}

// newDiskCore creates a one-member group whose member keeps its state in dir.
func newDiskCore(t testing.TB, dir string, cfg Config) *core {
	t.Helper()
	d, st, err := openDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	addr := memberAddr{PID: actor.PID{Node: "n", Creation: 1, ID: 1}}
	id := raftID(addr)
	if st.Found {
		id = st.ID
	} else if err := d.Create(id); err != nil {
		t.Fatal(err)
	}
	in := coreInit{self: addr, id: id, disk: d, stored: st, newData: func() Data { return &counterData{} },
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Unix(1000, 0)}
	if !st.Found {
		in.create = &cfg
	}
	c, err := newCore(in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// commit proposes and applies n commands on a one-member group.
func commitN(t testing.TB, c *core, n int) {
	t.Helper()
	for range n {
		if r := c.command(actor.From{}, commandReq{Arg: mustEncode(t, int64(1))}); r != actor.NoReply {
			t.Fatalf("command: %v", r)
		}
		if err := c.process(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSnapshotReadErrorIsReturned(t *testing.T) {
	dir := t.TempDir()
	c := newDiskCore(t, dir, Config{})
	commitN(t, c, 3)
	if err := c.snapshot(); err != nil {
		t.Fatal(err)
	}
	// Nothing applied since: the store's snapshot is as new as the applied
	// index, so snapshot reads it back, and that read fails.
	c.store = failingSnapshots{c.store}
	if err := c.snapshot(); !errors.Is(err, errSnapshotRead) {
		t.Fatalf("snapshot with a failing read: %v", err)
	}
	_, st, err := openDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Snap.Metadata.Index != c.applied {
		t.Fatalf("snapshot on disk at %d, applied %d", st.Snap.Metadata.Index, c.applied)
	}
}

// tenEntryDir makes a Dir holding a one-member group with ten commands in
// its log after the snapshot of its creation, and returns its commit index.
func tenEntryDir(t testing.TB) (string, uint64) {
	t.Helper()
	dir := t.TempDir()
	c := newDiskCore(t, dir, Config{MaxRetainedCommittedLogs: 1000})
	commitN(t, c, 10)
	commit := c.rn.BasicStatus().Commit
	c.disk.Close()
	return dir, commit
}

func TestDamagedLogIsRefused(t *testing.T) {
	dir, commit := tenEntryDir(t)
	path := filepath.Join(dir, "log")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/3] ^= 0x40
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, st, err := openDisk(dir)
	if !errors.Is(err, ErrDamagedDir) {
		t.Fatalf("damaged log opened: commit %d → %d, %d entries, %v", commit, st.Hard.Commit, len(st.Ents), err)
	}
}

func TestMemberIDWithoutLogIsRefused(t *testing.T) {
	dir, _ := tenEntryDir(t)
	for _, f := range []string{"log", "snap"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if _, st, err := openDisk(dir); !errors.Is(err, ErrDamagedDir) {
		t.Fatalf("member %d opened without its log: %d entries, %v", st.ID, len(st.Ents), err)
	}
}

// TestTornTailIsCut: a log cut anywhere in its last write opens with what
// came before.
func TestTornTailIsCut(t *testing.T) {
	dir, commit := tenEntryDir(t)
	path := filepath.Join(dir, "log")
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The last write is the last command's entry and hard state.
	last := len(full) - lastRecordsLen(t, full, 2)
	for cut := last; cut < len(full); cut++ {
		for _, tail := range [][]byte{nil, make([]byte, 64)} { // cut, or cut and zero-filled
			b := append(append([]byte(nil), full[:cut]...), tail...)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			d, st, err := openDisk(dir)
			if err != nil {
				t.Fatalf("cut at %d of %d: %v", cut, len(full), err)
			}
			d.Close()
			if st.Hard.Commit != commit-1 {
				t.Fatalf("cut at %d of %d: commit %d, want %d", cut, len(full), st.Hard.Commit, commit-1)
			}
		}
	}
}

// lastRecordsLen is the length of the last n records of a log.
func lastRecordsLen(t *testing.T, b []byte, n int) int {
	t.Helper()
	var offs []int
	for off := 0; off < len(b); {
		offs = append(offs, off)
		off += 8 + int(binary.BigEndian.Uint32(b[off:]))
	}
	if len(offs) < n {
		t.Fatalf("log of %d records", len(offs))
	}
	return len(b) - offs[len(offs)-n]
}

// recordEnds lists where each record of a log ends.
func recordEnds(b []byte) []int {
	var ends []int
	for off := 0; off+8 <= len(b); {
		off += 8 + int(binary.BigEndian.Uint32(b[off:]))
		ends = append(ends, off)
	}
	return ends
}

// FuzzReplay damages a good log (one byte changed, then cut) and opens it.
// Opening never panics; it fails if a whole record follows the damaged
// one; else it yields a prefix of the good log, which a member starts from.
func FuzzReplay(f *testing.F) {
	good, _ := tenEntryDir(f)
	base, err := os.ReadFile(filepath.Join(good, "log"))
	if err != nil {
		f.Fatal(err)
	}
	snap, err := os.ReadFile(filepath.Join(good, "snap"))
	if err != nil {
		f.Fatal(err)
	}
	id, err := os.ReadFile(filepath.Join(good, "id"))
	if err != nil {
		f.Fatal(err)
	}
	_, want, err := openDisk(good)
	if err != nil {
		f.Fatal(err)
	}
	ends := recordEnds(base)
	f.Add(uint16(len(base)/3), byte(0x40), uint16(len(base)))
	f.Add(uint16(2), byte(0xff), uint16(len(base)))
	f.Add(uint16(len(base)-3), byte(1), uint16(len(base)-1))
	f.Add(uint16(0), byte(0), uint16(len(base)/2))
	f.Fuzz(func(t *testing.T, at uint16, flip byte, cut uint16) {
		b := append([]byte(nil), base...)
		pos := int(at) % len(b)
		b[pos] ^= flip
		b = b[:int(cut)%(len(b)+1)]
		dir := t.TempDir()
		for name, data := range map[string][]byte{"log": b, "snap": snap, "id": id} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		d, st, err := openDisk(dir)
		wholeAfter := false
		for _, end := range ends {
			if flip != 0 && end > pos && end <= len(b) {
				// the record holding pos ends at the first such end; any
				// later one is a whole record after it
				if wholeAfter = end != firstEndAfter(ends, pos); wholeAfter {
					break
				}
			}
		}
		if err != nil {
			if !errors.Is(err, ErrDamagedDir) {
				t.Fatalf("error %v does not match ErrDamagedDir", err)
			}
			return
		}
		defer d.Close()
		if wholeAfter {
			t.Fatalf("byte %d changed, a whole record follows, yet the log opened with %d entries", pos, len(st.Ents))
		}
		if len(st.Ents) > len(want.Ents) {
			t.Fatalf("%d entries from a log of %d", len(st.Ents), len(want.Ents))
		}
		for i, e := range st.Ents {
			if w := want.Ents[i]; e.Index != w.Index || e.Term != w.Term || string(e.Data) != string(w.Data) {
				t.Fatalf("entry %d: %+v, want %+v", i, e, w)
			}
		}
		in := coreInit{self: memberAddr{PID: actor.PID{Node: "n", Creation: 1, ID: 1}}, id: st.ID, disk: d, stored: st,
			newData: func() Data { return &counterData{} }, log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Unix(1000, 0)}
		if _, err := newCore(in); err != nil {
			t.Fatalf("start from an opened log: %v", err)
		}
	})
}

func firstEndAfter(ends []int, pos int) int {
	for _, e := range ends {
		if e > pos {
			return e
		}
	}
	return -1
}
