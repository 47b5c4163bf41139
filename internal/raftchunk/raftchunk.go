// Package raftchunk carries a raft message too large for one frame (a
// snapshot) in pieces: Split cuts its encoding, and a Gatherer puts the
// pieces from each sender back together. Pieces travel in order (messages
// between two processes keep their order); a piece out of order drops what
// was gathered, and raft sends the snapshot again.
package raftchunk

import (
	"errors"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
)

// Piece is one piece of a message: Seq of Total, with the message's term
// and snapshot index, so that pieces of another sending are told apart.
type Piece struct {
	Term  uint64
	Index uint64
	Seq   uint32
	Total uint32
	Data  []byte
}

// Split cuts m's encoding in pieces of at most max bytes.
func Split(m raftpb.Message, max int) ([]Piece, error) {
	if max <= 0 {
		return nil, errors.New("raftchunk: a piece must hold at least a byte")
	}
	b, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	total := (len(b) + max - 1) / max
	pieces := make([]Piece, total)
	for i := range pieces {
		pieces[i] = Piece{Term: m.Term, Index: m.Snapshot.Metadata.Index, Seq: uint32(i), Total: uint32(total),
			Data: b[i*max : min((i+1)*max, len(b))]}
	}
	return pieces, nil
}

// DefaultMax is a Gatherer's cap when its Max is zero.
const DefaultMax = 1 << 30

// ErrTooLarge: a sending's pieces would take a Gatherer past its cap.
var ErrTooLarge = errors.New("raftchunk: pieces past the cap on what is gathered")

// Gatherer puts together the pieces from each sender. The zero value is
// ready to use; it is not safe for concurrent use.
type Gatherer struct {
	// Max caps the bytes held at once, over every sender (however many
	// sender IDs the pieces name). A piece that would pass it drops its
	// sending, with ErrTooLarge. Zero: DefaultMax.
	Max  int
	bufs map[uint64]*buffer
	held int
}

type buffer struct {
	term, index uint64
	next        uint32
	data        []byte
}

// Add takes a piece from sender from. It returns the message and true
// when the piece was its last; an error when the whole does not decode or
// is too large.
func (g *Gatherer) Add(from uint64, p Piece) (raftpb.Message, bool, error) {
	if g.bufs == nil {
		g.bufs = make(map[uint64]*buffer)
	}
	buf := g.bufs[from]
	if p.Seq == 0 {
		g.Forget(from)
		buf = &buffer{term: p.Term, index: p.Index}
		g.bufs[from] = buf
	}
	if buf == nil || buf.term != p.Term || buf.index != p.Index || buf.next != p.Seq || p.Seq >= p.Total {
		g.Forget(from)
		return raftpb.Message{}, false, nil
	}
	limit := g.Max
	if limit <= 0 {
		limit = DefaultMax
	}
	if len(p.Data) > limit-g.held {
		g.Forget(from)
		return raftpb.Message{}, false, fmt.Errorf("%w: %d bytes held, %d more, cap %d", ErrTooLarge, g.held, len(p.Data), limit)
	}
	buf.data = append(buf.data, p.Data...)
	g.held += len(p.Data)
	buf.next++
	if buf.next < p.Total {
		return raftpb.Message{}, false, nil
	}
	g.Forget(from)
	var m raftpb.Message
	if err := m.Unmarshal(buf.data); err != nil {
		return raftpb.Message{}, false, err
	}
	return m, true, nil
}

// Forget drops what was gathered from sender from (it left, say).
func (g *Gatherer) Forget(from uint64) {
	if buf, ok := g.bufs[from]; ok {
		g.held -= len(buf.data)
		delete(g.bufs, from)
	}
}
