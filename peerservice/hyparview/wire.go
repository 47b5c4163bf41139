package hyparview

import (
	"encoding/binary"
	"errors"
	"slices"

	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/wire"
)

// Kinds of wireMsg.
const (
	kindJoin uint8 = iota + 1
	kindJoinAccept
	kindForwardJoin
	kindNeighbor
	kindNeighborReply
	kindDisconnect
	kindShuffle
	kindShuffleReply
	kindPartition // Ref, Origin, TTL; Resolve to heal
	kindHolds     // to a partition's origin: the sender holds Ref
	kindLeave     // LeaveNode: the receiver leaves
)

// tagUser heads the wire list that carries a SendMessage payload:
// [tagUser, from, msg]. Lists take any encodable value.
const tagUser = "gotp.hyparview.user"

// wireMsg is every message between managers, flat so that one gob type
// carries them all. Specs holds the spec of each node the message names
// (the sender's first), so that the receiver can reach nodes it learns of.
type wireMsg struct {
	Kind     uint8
	From     string
	Specs    []remote.NodeSpec
	New      string
	Origin   string
	TTL      int
	Priority int
	Accepted bool
	Nodes    []string
	Ref      string
	Resolve  bool
}

func init() {
	if err := wire.RegisterCodec("gotp.hyparview.msg", marshalWire, unmarshalWire); err != nil {
		panic(err)
	}
}

// marshalWire is wireMsg's compact encoding: uvarints and length-prefixed
// strings, map keys sorted.
func marshalWire(w wireMsg) ([]byte, error) {
	b := []byte{w.Kind}
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	strs := func(ss []string) {
		b = binary.AppendUvarint(b, uint64(len(ss)))
		for _, s := range ss {
			str(s)
		}
	}
	str(w.From)
	b = binary.AppendUvarint(b, uint64(len(w.Specs)))
	for _, sp := range w.Specs {
		str(sp.Name)
		strs(sp.Addrs)
		keys := make([]string, 0, len(sp.Tags))
		for k := range sp.Tags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = binary.AppendUvarint(b, uint64(len(keys)))
		for _, k := range keys {
			str(k)
			str(sp.Tags[k])
		}
	}
	str(w.New)
	str(w.Origin)
	b = binary.AppendVarint(b, int64(w.TTL))
	b = binary.AppendVarint(b, int64(w.Priority))
	flags := byte(0)
	if w.Accepted {
		flags |= 1
	}
	if w.Resolve {
		flags |= 2
	}
	b = append(b, flags)
	strs(w.Nodes)
	str(w.Ref)
	return b, nil
}

var errShort = errors.New("hyparview: truncated message")

type reader struct {
	b   []byte
	err error
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errShort
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errShort
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// count reads a length and checks that so many items of at least one byte
// each can follow.
func (r *reader) count() int {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errShort
		return 0
	}
	return int(n)
}

func (r *reader) strs() []string {
	n := r.count()
	var out []string
	for range n {
		out = append(out, r.str())
	}
	return out
}

func unmarshalWire(b []byte) (wireMsg, error) {
	r := &reader{b: b}
	var w wireMsg
	w.Kind = r.byte()
	w.From = r.str()
	for range r.count() {
		sp := remote.NodeSpec{Name: r.str(), Addrs: r.strs()}
		if n := r.count(); n > 0 {
			sp.Tags = map[string]string{}
			for range n {
				k := r.str()
				sp.Tags[k] = r.str()
			}
		}
		w.Specs = append(w.Specs, sp)
	}
	w.New = r.str()
	w.Origin = r.str()
	w.TTL = int(r.varint())
	w.Priority = int(r.varint())
	flags := r.byte()
	w.Accepted, w.Resolve = flags&1 != 0, flags&2 != 0
	w.Nodes = r.strs()
	w.Ref = r.str()
	if r.err != nil {
		return wireMsg{}, r.err
	}
	if len(r.b) != 0 {
		return wireMsg{}, errors.New("hyparview: trailing bytes")
	}
	return w, nil
}

// encode puts a protocol message into a wireMsg.
func encode(from string, m Message) (wireMsg, []string) {
	w := wireMsg{From: from}
	var names []string
	switch m := m.(type) {
	case Join:
		w.Kind = kindJoin
	case JoinAccept:
		w.Kind = kindJoinAccept
	case ForwardJoin[string]:
		w.Kind, w.New, w.TTL = kindForwardJoin, m.New, m.TTL
		names = []string{m.New}
	case Neighbor:
		w.Kind, w.Priority = kindNeighbor, int(m.Priority)
	case NeighborReply:
		w.Kind, w.Accepted = kindNeighborReply, m.Accepted
	case Disconnect:
		w.Kind = kindDisconnect
	case Shuffle[string]:
		w.Kind, w.Origin, w.TTL, w.Nodes = kindShuffle, m.Origin, m.TTL, m.Nodes
		names = append([]string{m.Origin}, m.Nodes...)
	case ShuffleReply[string]:
		w.Kind, w.Nodes = kindShuffleReply, m.Nodes
		names = m.Nodes
	}
	return w, names
}

// decode returns the protocol message a wireMsg carries, if it carries one.
func decode(w wireMsg) (Message, bool) {
	switch w.Kind {
	case kindJoin:
		return Join{}, true
	case kindJoinAccept:
		return JoinAccept{}, true
	case kindForwardJoin:
		return ForwardJoin[string]{New: w.New, TTL: w.TTL}, true
	case kindNeighbor:
		p := Low
		if w.Priority == int(High) {
			p = High
		}
		return Neighbor{Priority: p}, true
	case kindNeighborReply:
		return NeighborReply{Accepted: w.Accepted}, true
	case kindDisconnect:
		return Disconnect{}, true
	case kindShuffle:
		return Shuffle[string]{Origin: w.Origin, TTL: w.TTL, Nodes: w.Nodes}, true
	case kindShuffleReply:
		return ShuffleReply[string]{Nodes: w.Nodes}, true
	}
	return nil, false
}
