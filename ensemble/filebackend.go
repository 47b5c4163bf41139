package ensemble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// FileBackend is the name of the built-in durable backend.
const FileBackend = "file"

// ErrCorrupt: a backend's file is damaged somewhere other than at its end
// (a record whose checksum fails with valid records after it). The backend
// does not open: serving from it could forget acknowledged writes.
var ErrCorrupt = errors.New("ensemble: corrupt backend file")

// fileBackend keeps objects in memory and every change in an append-only
// file, one record per Put, fsync'd before Put returns. A record is a
// 4-byte length, a 4-byte CRC-32C of the payload, then the payload (an
// encoded Object). On open a record cut short at the end of the file, or a
// last record whose checksum fails, is a torn write and is cut off; a
// failing record followed by others is corruption (ErrCorrupt). Restore
// rewrites the file through a temporary file and a rename.
type fileBackend struct {
	mem  *memoryBackend
	path string
	f    *os.File
}

var _ Backend = (*fileBackend)(nil)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const fileBackendName = "objects.log"

// NewFileBackend opens (or creates) the durable backend in dir.
func NewFileBackend(_ string, dir string) (Backend, error) {
	if dir == "" {
		return nil, errors.New("ensemble: the file backend needs Config.DataDir")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, fileBackendName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	b := &fileBackend{mem: &memoryBackend{objs: map[string]Object{}}, path: path, f: f}
	if err := b.load(); err != nil {
		f.Close()
		return nil, err
	}
	return b, nil
}

// load replays the file and cuts off a torn tail.
func (b *fileBackend) load() error {
	data, err := io.ReadAll(b.f)
	if err != nil {
		return err
	}
	good := 0
	for off := 0; off < len(data); {
		if len(data)-off < 8 {
			break // torn header
		}
		n := int(binary.BigEndian.Uint32(data[off:]))
		sum := binary.BigEndian.Uint32(data[off+4:])
		end := off + 8 + n
		if n < 0 || end > len(data) || end < off {
			break // torn payload
		}
		payload := data[off+8 : end]
		if crc32.Checksum(payload, castagnoli) != sum {
			if end == len(data) {
				break // the last record, half written
			}
			return fmt.Errorf("%w: %s: bad record at offset %d", ErrCorrupt, b.path, off)
		}
		o, _, ok := readObject(payload)
		if !ok {
			return fmt.Errorf("%w: %s: undecodable record at offset %d", ErrCorrupt, b.path, off)
		}
		b.mem.objs[o.Key] = o
		off, good = end, end
	}
	if good < len(data) {
		if err := b.f.Truncate(int64(good)); err != nil {
			return err
		}
		if err := b.f.Sync(); err != nil {
			return err
		}
	}
	_, err = b.f.Seek(int64(good), io.SeekStart)
	return err
}

func record(o Object) []byte {
	payload := appendObject(nil, o)
	rec := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint32(rec, uint32(len(payload)))
	binary.BigEndian.PutUint32(rec[4:], crc32.Checksum(payload, castagnoli))
	return append(rec, payload...)
}

func (b *fileBackend) Get(key string) (Object, bool) { return b.mem.Get(key) }

func (b *fileBackend) Put(o Object) error {
	if _, err := b.f.Write(record(o)); err != nil {
		return err
	}
	if err := b.f.Sync(); err != nil {
		return err
	}
	return b.mem.Put(o)
}

func (b *fileBackend) Snapshot() ([]byte, error) { return b.mem.Snapshot() }

// Restore replaces the file with one record per object of the snapshot.
func (b *fileBackend) Restore(snap []byte) error {
	fresh := &memoryBackend{}
	if err := fresh.Restore(snap); err != nil {
		return err
	}
	tmp := b.path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	for _, k := range sortedObjectKeys(fresh.objs) {
		if _, err := f.Write(record(fresh.objs[k])); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := os.Rename(tmp, b.path); err != nil {
		f.Close()
		return err
	}
	if d, err := os.Open(filepath.Dir(b.path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	b.f.Close()
	b.f = f
	b.mem = fresh
	return nil
}

func (b *fileBackend) Close() error { return b.f.Close() }
