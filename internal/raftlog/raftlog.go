// Package raftlog keeps a Raft member's persistent state in a directory of
// its own: its ID, the latest snapshot, and a checksummed log of entries and
// hard states appended since, written with fsync, replayed on open, told
// torn (cut off) from damaged (refused). Both rafted and ensemble keep their
// members' state with it.
package raftlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// Log is a member's persistent state in its directory:
//
//	id    the member's Raft ID, written once
//	snap  the latest snapshot (raftpb.Snapshot), replaced atomically
//	log   a header record, then records appended since that snapshot, each
//	      [u32 length][u32 crc32c of kind+body][kind byte][body]
//	      kind 1: a raftpb.Entry; kind 2: a raftpb.HardState;
//	      kind 3 (the header): the member's Raft ID as a uvarint
//
// A member's Dir is made by writing the log's header, then the id file, so
// an id file without a log that starts with its header means the log was
// lost: the member refuses to start (damaged) rather than come back
// as a voter that has forgotten what it acknowledged.
//
// Replaying the log applies records in order: an entry at index i drops any
// entries from i on before it is appended (Raft overwrote a conflicting
// tail), and the last hard state wins. A damaged record that nothing valid
// follows is a torn write (a crash mid-write, perhaps leaving zeros) and is
// cut off; a damaged record with a valid one after it is corruption, and so
// are entries that do not follow the snapshot and each other and a commit
// index beyond the last entry: damaged. After every snapshot the log
// is rewritten with the header and only the entries the snapshot does not
// cover, through a temporary file and a rename.
type Log struct {
	dir string
	id  uint64
	log *os.File
	buf []byte
}

// State is what a directory held when it was opened: the member's ID, its
// hard state, its latest snapshot and the entries after it (Found: the
// directory held a member).
type State struct {
	ID    uint64
	Hard  raftpb.HardState
	Snap  raftpb.Snapshot
	Ents  []raftpb.Entry
	Found bool
}

const (
	recEntry  = 1
	recHard   = 2
	recHeader = 3
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Open opens dir, creating it if needed, and reads what it holds. A damaged
// directory (a corrupt record that a valid one follows, a member's ID
// without its log, entries that do not follow each other or the snapshot)
// is an error wrapping damaged.
func Open(dir string, damaged error) (*Log, State, error) {
	var st State
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, st, err
	}
	idb, err := os.ReadFile(filepath.Join(dir, "id"))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, st, err
	default:
		st.ID, err = strconv.ParseUint(string(idb), 10, 64)
		if err != nil {
			return nil, st, fmt.Errorf("raftlog: %s/id: %w", dir, err)
		}
		st.Found = true
	}
	if b, err := os.ReadFile(filepath.Join(dir, "snap")); err == nil {
		if err := st.Snap.Unmarshal(b); err != nil {
			return nil, st, fmt.Errorf("raftlog: %s/snap: %w", dir, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, st, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "log"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, st, err
	}
	good, header, err := replay(f, &st)
	if err != nil {
		f.Close()
		return nil, st, fmt.Errorf("%w: %s/log: %w", damaged, dir, err)
	}
	if st.Found && header != st.ID {
		f.Close()
		if header == 0 {
			return nil, st, fmt.Errorf("%w: %s holds member %d without its log", damaged, dir, st.ID)
		}
		return nil, st, fmt.Errorf("%w: %s/log belongs to member %d, not %d", damaged, dir, header, st.ID)
	}
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, st, err
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, st, err
	}
	// Entries the snapshot covers are dropped.
	si := st.Snap.Metadata.Index
	for len(st.Ents) > 0 && st.Ents[0].Index <= si {
		st.Ents = st.Ents[1:]
	}
	if err := st.check(); err != nil {
		f.Close()
		return nil, st, fmt.Errorf("%w: %s: %w", damaged, dir, err)
	}
	return &Log{dir: dir, id: st.ID, log: f}, st, nil
}

// check reports entries that do not follow the snapshot and each other,
// and a commit index beyond what the Dir holds.
func (st *State) check() error {
	next := st.Snap.Metadata.Index + 1
	for _, e := range st.Ents {
		if e.Index != next {
			return fmt.Errorf("log entry %d where %d belongs", e.Index, next)
		}
		next++
	}
	if last := next - 1; st.Hard.Commit > last {
		return fmt.Errorf("commit index %d beyond the last entry %d", st.Hard.Commit, last)
	}
	return nil
}

// replay reads the log's records into st and returns the length of the good
// prefix and the member ID in its header (0 if it has none).
func replay(f *os.File, st *State) (good int64, header uint64, err error) {
	data, err := io.ReadAll(f)
	if err != nil {
		return 0, 0, err
	}
	var off int64
	for len(data) > 0 {
		rec, ok := nextRecord(data)
		if !ok {
			if validRecordIn(data[1:]) {
				return 0, 0, fmt.Errorf("damaged record at offset %d", off)
			}
			break // a torn write
		}
		if (rec[0] == recHeader) != (off == 0) {
			return 0, 0, fmt.Errorf("record of kind %d at offset %d", rec[0], off)
		}
		switch rec[0] {
		case recHeader:
			id, n := binary.Uvarint(rec[1:])
			if n <= 0 || id == 0 {
				return 0, 0, fmt.Errorf("malformed header")
			}
			header = id
		case recEntry:
			var e raftpb.Entry
			if err := e.Unmarshal(rec[1:]); err != nil {
				return 0, 0, fmt.Errorf("log entry at offset %d: %w", off, err)
			}
			for len(st.Ents) > 0 && st.Ents[len(st.Ents)-1].Index >= e.Index {
				st.Ents = st.Ents[:len(st.Ents)-1]
			}
			st.Ents = append(st.Ents, e)
		case recHard:
			if err := st.Hard.Unmarshal(rec[1:]); err != nil {
				return 0, 0, fmt.Errorf("hard state at offset %d: %w", off, err)
			}
		default:
			return 0, 0, fmt.Errorf("log record kind %d at offset %d", rec[0], off)
		}
		off += int64(8 + len(rec))
		data = data[8+len(rec):]
	}
	return off, header, nil
}

// nextRecord returns the kind and body of the record data starts with, if
// it is whole and its checksum matches.
func nextRecord(data []byte) ([]byte, bool) {
	if len(data) < 9 {
		return nil, false
	}
	n := binary.BigEndian.Uint32(data)
	if n == 0 || uint64(len(data)-8) < uint64(n) {
		return nil, false
	}
	rec := data[8 : 8+n]
	if crc32.Checksum(rec, crcTable) != binary.BigEndian.Uint32(data[4:]) {
		return nil, false
	}
	return rec, true
}

// validRecordIn reports whether a whole record with a matching checksum
// starts anywhere in data. After a damaged record, one means that the
// damage is not a torn final write.
func validRecordIn(data []byte) bool {
	for i := range data {
		if rec, ok := nextRecord(data[i:]); ok && rec[0] >= recEntry && rec[0] <= recHeader {
			return true
		}
	}
	return false
}

func (d *Log) appendRecord(kind byte, size int, marshal func([]byte) (int, error)) error {
	start := len(d.buf)
	d.buf = append(d.buf, make([]byte, 9+size)...)
	rec := d.buf[start+8:]
	rec[0] = kind
	if _, err := marshal(rec[1:]); err != nil {
		d.buf = d.buf[:start]
		return err
	}
	binary.BigEndian.PutUint32(d.buf[start:], uint32(1+size))
	binary.BigEndian.PutUint32(d.buf[start+4:], crc32.Checksum(rec, crcTable))
	return nil
}

// Save persists one Ready's worth of state: a snapshot (atomically), then
// entries and the hard state appended to the log, then one fsync.
func (d *Log) Save(hard raftpb.HardState, ents []raftpb.Entry, snap *raftpb.Snapshot) error {
	if snap != nil {
		if err := d.SaveSnapshot(*snap); err != nil {
			return err
		}
	}
	d.buf = d.buf[:0]
	for i := range ents {
		e := &ents[i]
		if err := d.appendRecord(recEntry, e.Size(), e.MarshalTo); err != nil {
			return err
		}
	}
	if hard.Term != 0 || hard.Vote != 0 || hard.Commit != 0 {
		if err := d.appendRecord(recHard, hard.Size(), hard.MarshalTo); err != nil {
			return err
		}
	}
	if len(d.buf) == 0 {
		return nil
	}
	if _, err := d.log.Write(d.buf); err != nil {
		return err
	}
	return d.log.Sync()
}

// Create makes the directory a member's: a log that holds only the header
// with its Raft ID, then the id file. It is done once, when the member is
// created.
func (d *Log) Create(id uint64) error {
	d.id = id
	if err := d.log.Truncate(0); err != nil {
		return err
	}
	if _, err := d.log.Seek(0, io.SeekStart); err != nil {
		return err
	}
	d.buf = d.appendHeader(d.buf[:0])
	if _, err := d.log.Write(d.buf); err != nil {
		return err
	}
	if err := d.log.Sync(); err != nil {
		return err
	}
	return writeAtomic(d.dir, "id", []byte(strconv.FormatUint(id, 10)))
}

func (d *Log) appendHeader(b []byte) []byte {
	body := binary.AppendUvarint([]byte{recHeader}, d.id)
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(body, crcTable))
	return append(b, body...)
}

// SaveSnapshot replaces the snapshot, atomically.
func (d *Log) SaveSnapshot(snap raftpb.Snapshot) error {
	b, err := snap.Marshal()
	if err != nil {
		return err
	}
	return writeAtomic(d.dir, "snap", b)
}

// Compact replaces the log with the hard state and ents (the entries after
// the latest snapshot), through a temporary file and a rename.
func (d *Log) Compact(hard raftpb.HardState, ents []raftpb.Entry) error {
	tmp := filepath.Join(d.dir, "log.tmp")
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	old := d.log
	d.log = f
	if _, err := f.Write(d.appendHeader(nil)); err != nil {
		f.Close()
		d.log = old
		return err
	}
	if err := d.Save(hard, ents, nil); err != nil {
		f.Close()
		d.log = old
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		d.log = old
		return err
	}
	if err := os.Rename(tmp, filepath.Join(d.dir, "log")); err != nil {
		f.Close()
		d.log = old
		return err
	}
	old.Close()
	return syncDir(d.dir)
}

// Snapshotted persists snap, just taken from store, and rewrites the log
// with store's hard state and the entries store keeps after snap: what a
// member does once it has snapshotted and compacted its in-memory log.
func (d *Log) Snapshotted(store raft.Storage, snap raftpb.Snapshot) error {
	if err := d.SaveSnapshot(snap); err != nil {
		return fmt.Errorf("raftlog: persist snapshot: %w", err)
	}
	first, err := store.FirstIndex()
	if err != nil {
		return err
	}
	last, err := store.LastIndex()
	if err != nil {
		return err
	}
	var ents []raftpb.Entry
	if last >= first && last > snap.Metadata.Index {
		if ents, err = store.Entries(max(first, snap.Metadata.Index+1), last+1, 1<<62); err != nil {
			return err
		}
	}
	hs, _, err := store.InitialState()
	if err != nil {
		return err
	}
	if err := d.Compact(hs, ents); err != nil {
		return fmt.Errorf("raftlog: compact log: %w", err)
	}
	return nil
}

// Close closes the log file.
func (d *Log) Close() error { return d.log.Close() }

func writeAtomic(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
