package raftlog_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gotp-dev/gotp/internal/raftlog"
	"go.etcd.io/raft/v3/raftpb"
)

var errDamaged = errors.New("damaged")

func ents(from, to uint64) []raftpb.Entry {
	var out []raftpb.Entry
	for i := from; i <= to; i++ {
		out = append(out, raftpb.Entry{Term: 1, Index: i, Data: []byte{byte(i)}})
	}
	return out
}

// What is saved is what a later Open finds: the ID, the entries (a
// conflicting tail replaced), the last hard state, and after a snapshot and a
// compaction only the entries the snapshot does not cover.
func TestSaveAndReopen(t *testing.T) {
	dir := t.TempDir()
	l, st, err := raftlog.Open(dir, errDamaged)
	if err != nil || st.Found {
		t.Fatalf("a new directory: %+v, %v", st, err)
	}
	if err := l.Create(42); err != nil {
		t.Fatal(err)
	}
	if err := l.Save(raftpb.HardState{Term: 1, Vote: 7, Commit: 2}, ents(1, 4), nil); err != nil {
		t.Fatal(err)
	}
	// Raft overwrote entries 3 and 4 with another term's.
	tail := []raftpb.Entry{{Term: 2, Index: 3}, {Term: 2, Index: 4}}
	if err := l.Save(raftpb.HardState{Term: 2, Vote: 7, Commit: 3}, tail, nil); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l, st, err = raftlog.Open(dir, errDamaged)
	if err != nil {
		t.Fatal(err)
	}
	want := append(ents(1, 2), tail...)
	if !st.Found || st.ID != 42 || st.Hard.Term != 2 || st.Hard.Commit != 3 || !reflect.DeepEqual(st.Ents, want) {
		t.Fatalf("reopened: %+v", st)
	}
	snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 3, Term: 2}, Data: []byte("state")}
	if err := l.SaveSnapshot(snap); err != nil {
		t.Fatal(err)
	}
	if err := l.Compact(st.Hard, tail[1:]); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l, st, err = raftlog.Open(dir, errDamaged)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if st.Snap.Metadata.Index != 3 || string(st.Snap.Data) != "state" || !reflect.DeepEqual(st.Ents, tail[1:]) {
		t.Fatalf("after a snapshot and a compaction: %+v", st)
	}
}

// A torn final write is cut off; a damaged record with a valid one after it,
// and an ID without its log, are the caller's damaged error.
func TestTornAndDamaged(t *testing.T) {
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		l, _, err := raftlog.Open(dir, errDamaged)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Create(9); err != nil {
			t.Fatal(err)
		}
		for i := uint64(1); i <= 3; i++ {
			if err := l.Save(raftpb.HardState{Term: 1, Commit: i}, ents(i, i), nil); err != nil {
				t.Fatal(err)
			}
		}
		l.Close()
		return dir
	}
	t.Run("torn", func(t *testing.T) {
		dir := setup(t)
		log := filepath.Join(dir, "log")
		b, _ := os.ReadFile(log)
		if err := os.WriteFile(log, b[:len(b)-3], 0o644); err != nil {
			t.Fatal(err)
		}
		l, st, err := raftlog.Open(dir, errDamaged)
		if err != nil {
			t.Fatalf("a torn tail refused: %v", err)
		}
		l.Close()
		if st.Hard.Commit != 2 || len(st.Ents) != 3 {
			t.Fatalf("after the torn hard state: commit %d, %d entries", st.Hard.Commit, len(st.Ents))
		}
	})
	t.Run("damaged", func(t *testing.T) {
		dir := setup(t)
		log := filepath.Join(dir, "log")
		b, _ := os.ReadFile(log)
		b[20] ^= 0xff // inside the first entry, with whole records after it
		if err := os.WriteFile(log, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := raftlog.Open(dir, errDamaged); !errors.Is(err, errDamaged) {
			t.Fatalf("a damaged record: %v", err)
		}
	})
	t.Run("log gone", func(t *testing.T) {
		dir := setup(t)
		if err := os.Remove(filepath.Join(dir, "log")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := raftlog.Open(dir, errDamaged); !errors.Is(err, errDamaged) {
			t.Fatalf("an ID without its log: %v", err)
		}
	})
}
