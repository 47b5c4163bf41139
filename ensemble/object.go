package ensemble

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Version orders the writes of one key: Epoch is the Raft term of the
// leader that wrote it, Seq increases within an epoch (it is the index of
// the log entry that wrote it). A key never written has the zero Version.
type Version struct {
	Epoch uint64
	Seq   uint64
}

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool {
	return v.Epoch < w.Epoch || (v.Epoch == w.Epoch && v.Seq < w.Seq)
}

func (v Version) String() string { return fmt.Sprintf("{%d,%d}", v.Epoch, v.Seq) }

// Object is one key's value as an ensemble stores it, riak_ensemble's
// obj record. A key that was never written, or was deleted, is an Object
// whose NotFound is true (riak's notfound value); a deleted key keeps the
// version of its delete, so a conditional update can still name it.
type Object struct {
	Key      string
	Value    []byte
	NotFound bool
	Epoch    uint64
	Seq      uint64
}

// Version returns the object's {Epoch, Seq}.
func (o Object) Version() Version { return Version{Epoch: o.Epoch, Seq: o.Seq} }

// notFound is the object of a key that holds nothing.
func notFound(key string) Object { return Object{Key: key, NotFound: true} }

// kvKind is the kind of a K/V operation.
type kvKind byte

const (
	opGet        kvKind = iota + 1 // a read; through the log only with read repair
	opUpdate                       // write if unchanged since Expect
	opPutOnce                      // write if the key holds nothing
	opOver                         // write unconditionally
	opDelete                       // tombstone unconditionally
	opSafeDelete                   // tombstone if unchanged since Expect
)

func (k kvKind) String() string {
	switch k {
	case opGet:
		return "kget"
	case opUpdate:
		return "kupdate"
	case opPutOnce:
		return "kput_once"
	case opOver:
		return "kover"
	case opDelete:
		return "kdelete"
	case opSafeDelete:
		return "ksafe_delete"
	}
	return fmt.Sprintf("op(%d)", byte(k))
}

// kvOp is one request to an ensemble's leader.
type kvOp struct {
	Kind       kvKind
	Key        string
	Value      []byte
	Expect     Version // opUpdate, opSafeDelete
	ReadRepair bool    // opGet: read through the log
}

// applyOp applies a committed operation to the backend: the object it
// wrote (or read), or ErrFailed when its condition does not hold. The new
// object's version is {term, index} of the entry, so every peer computes
// the same one. A backend that fails the write, or acknowledges one it did
// not keep (its Get does not return the object), is reported apart, as
// stored: this peer's copy is then behind the log it acknowledged.
func applyOp(b Backend, op kvOp, term, index uint64) (obj Object, outcome, stored error) {
	cur, ok := b.Get(op.Key)
	if !ok {
		cur = notFound(op.Key)
	}
	next := Object{Key: op.Key, Value: op.Value, Epoch: term, Seq: index}
	switch op.Kind {
	case opGet:
		return cur, nil, nil
	case opUpdate, opSafeDelete:
		// The fixed rule: the key must not have changed since the version
		// the client holds. Its epoch may be older than the leader's.
		if cur.Version() != op.Expect {
			return cur, ErrFailed, nil
		}
	case opPutOnce:
		if !cur.NotFound {
			return cur, ErrFailed, nil
		}
	case opOver, opDelete:
	default:
		return cur, fmt.Errorf("ensemble: unknown operation %v", op.Kind), nil
	}
	if op.Kind == opDelete || op.Kind == opSafeDelete {
		next.Value, next.NotFound = nil, true
	}
	if err := b.Put(next); err != nil {
		return cur, nil, fmt.Errorf("ensemble: backend: put %q: %w", next.Key, err)
	}
	if got, ok := b.Get(next.Key); !ok || !got.same(next) {
		return cur, nil, fmt.Errorf("%w: put %q at %v", errNotKept, next.Key, next.Version())
	}
	return next, nil, nil
}

// errNotKept: a backend's Put said it stored an object its Get does not
// return.
var errNotKept = errors.New("ensemble: backend: acknowledged a write it did not keep")

// same reports whether o and p are the same version of one key with the
// same value.
func (o Object) same(p Object) bool {
	return o.Key == p.Key && o.Version() == p.Version() && o.NotFound == p.NotFound && bytes.Equal(o.Value, p.Value)
}

var errBadEntry = errors.New("ensemble: malformed log entry")

// Log entries: proposer ID and sequence (so the proposer can answer its
// caller when the entry is applied), then the operation.
func encodeEntry(proposer, seq uint64, op kvOp) []byte {
	b := make([]byte, 0, 32+len(op.Key)+len(op.Value))
	b = binary.AppendUvarint(b, proposer)
	b = binary.AppendUvarint(b, seq)
	return appendOp(b, op)
}

func decodeEntry(b []byte) (proposer, seq uint64, op kvOp, err error) {
	var ok bool
	if proposer, b, ok = readUvarint(b); !ok {
		return 0, 0, op, errBadEntry
	}
	if seq, b, ok = readUvarint(b); !ok {
		return 0, 0, op, errBadEntry
	}
	op, _, err = readOp(b)
	return proposer, seq, op, err
}

func appendOp(b []byte, op kvOp) []byte {
	b = append(b, byte(op.Kind))
	b = appendString(b, op.Key)
	b = appendBytes(b, op.Value)
	b = binary.AppendUvarint(b, op.Expect.Epoch)
	b = binary.AppendUvarint(b, op.Expect.Seq)
	if op.ReadRepair {
		return append(b, 1)
	}
	return append(b, 0)
}

func readOp(b []byte) (kvOp, []byte, error) {
	var op kvOp
	var ok bool
	if len(b) < 1 {
		return op, b, errBadEntry
	}
	op.Kind, b = kvKind(b[0]), b[1:]
	if op.Key, b, ok = readString(b); !ok {
		return op, b, errBadEntry
	}
	if op.Value, b, ok = readBytes(b); !ok {
		return op, b, errBadEntry
	}
	if op.Expect.Epoch, b, ok = readUvarint(b); !ok {
		return op, b, errBadEntry
	}
	if op.Expect.Seq, b, ok = readUvarint(b); !ok {
		return op, b, errBadEntry
	}
	if len(b) < 1 {
		return op, b, errBadEntry
	}
	op.ReadRepair, b = b[0] == 1, b[1:]
	return op, b, nil
}

func appendObject(b []byte, o Object) []byte {
	b = appendString(b, o.Key)
	b = appendBytes(b, o.Value)
	nf := byte(0)
	if o.NotFound {
		nf = 1
	}
	b = append(b, nf)
	b = binary.AppendUvarint(b, o.Epoch)
	return binary.AppendUvarint(b, o.Seq)
}

func readObject(b []byte) (Object, []byte, bool) {
	var o Object
	var ok bool
	if o.Key, b, ok = readString(b); !ok {
		return o, b, false
	}
	if o.Value, b, ok = readBytes(b); !ok {
		return o, b, false
	}
	if len(b) < 1 {
		return o, b, false
	}
	o.NotFound, b = b[0] == 1, b[1:]
	if o.Epoch, b, ok = readUvarint(b); !ok {
		return o, b, false
	}
	o.Seq, b, ok = readUvarint(b)
	return o, b, ok
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func readUvarint(b []byte) (uint64, []byte, bool) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, b, false
	}
	return v, b[n:], true
}

func readString(b []byte) (string, []byte, bool) {
	n, b, ok := readUvarint(b)
	if !ok || n > uint64(len(b)) {
		return "", b, false
	}
	return string(b[:n]), b[n:], true
}

func readBytes(b []byte) ([]byte, []byte, bool) {
	n, b, ok := readUvarint(b)
	if !ok || n > uint64(len(b)) {
		return nil, b, false
	}
	if n == 0 {
		return nil, b, true
	}
	return append([]byte(nil), b[:n]...), b[n:], true
}
