package ensemble

import (
	"encoding/binary"
	"errors"
	"slices"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/internal/raftchunk"
	"github.com/gotp-dev/gotp/remote/wire"
	"go.etcd.io/raft/v3/raftpb"
)

// envKind says what a peerEnv carries.
type envKind byte

const (
	envRaft    envKind = 1 // a Raft message
	envQuiesce envKind = 2 // the leader quiesced: From, To and Term of Raft only
	envPiece   envKind = 3 // a piece of a snapshot message: From, To and Term of Raft, and Piece
)

// peerEnv is one message between the peers of an ensemble on two nodes.
type peerEnv struct {
	Ens   string
	Kind  envKind
	Raft  raftpb.Message
	Piece *raftchunk.Piece // envPiece (a pointer: the envelopes are copied about in batches)
}

// size is about how many bytes the envelope takes in a batch.
func (e peerEnv) size() int {
	n := len(e.Ens) + e.Raft.Size() + 40
	if e.Piece != nil {
		n += len(e.Piece.Data)
	}
	return n
}

// hostBatch is what one node's host sends another's at a flush: every
// peer message for that node since the last flush, and leader notices.
// An empty batch is the host's heartbeat.
type hostBatch struct {
	From    string
	Cluster string // the sender's cluster id ("" before Enable)
	Envs    []peerEnv
	Notices []View
}

// PeerStatus is what one peer knows of its ensemble.
type PeerStatus struct {
	Ensemble   string
	Node       string
	State      string // "leader", "candidate" or "follower"
	Leader     string // the leader's node ("" when unknown)
	Term       uint64
	Members    []string // voters (the new configuration while joint)
	OldMembers []string // the old configuration while joint, else empty
	Quiescent  bool
	Applied    uint64
	Commit     uint64 // the last log index this peer knows committed
	// Followers, on the leader: each other voter's replication progress,
	// sorted by node (empty on the other peers).
	Followers []FollowerProgress
}

// FollowerProgress is a follower's replication progress as its leader sees
// it (the shape of rafted.FollowerProgress, with the peer's node for its
// identity).
type FollowerProgress struct {
	Node  string
	Match uint64 // the highest log index known replicated on it
	Lag   uint64 // the leader's last index minus Match
}

// Requests and messages of the peers, routers and hosts.
type (
	// kvReq is a K/V operation called on a peer directly.
	kvReq struct{ Op kvOp }
	// routeReq is a K/V operation called on a router.
	routeReq struct {
		Ens string
		Op  kvOp
	}
	// routed is a request on its way to a leader: the caller to answer,
	// and how many times it crossed nodes.
	routed struct {
		From actor.From
		Ens  string
		Op   kvOp
		Hops int
	}
	statusReq        struct{ Ens string }
	updateMembersReq struct {
		Ens      string
		Add, Del []string
	}
	okReply struct{ OK bool }
)

func init() {
	must(wire.RegisterCodec("gotp.ensemble.batch", encodeBatch, decodeBatch))
	must(wire.RegisterCodec("gotp.ensemble.kv",
		func(r kvReq) ([]byte, error) { return appendOp(nil, r.Op), nil },
		func(b []byte) (kvReq, error) {
			op, _, err := readOp(b)
			return kvReq{Op: op}, err
		}))
	must(wire.RegisterCodec("gotp.ensemble.route",
		func(r routeReq) ([]byte, error) { return appendOp(appendString(nil, r.Ens), r.Op), nil },
		func(b []byte) (routeReq, error) {
			ens, b, ok := readString(b)
			if !ok {
				return routeReq{}, errBadMessage
			}
			op, _, err := readOp(b)
			return routeReq{Ens: ens, Op: op}, err
		}))
	must(wire.RegisterCodec("gotp.ensemble.routed", encodeRouted, decodeRouted))
	must(wire.RegisterCodec("gotp.ensemble.object",
		func(o Object) ([]byte, error) { return appendObject(nil, o), nil },
		func(b []byte) (Object, error) {
			o, _, ok := readObject(b)
			if !ok {
				return o, errBadMessage
			}
			return o, nil
		}))
	wire.MustRegister[statusReq]("gotp.ensemble.status_req")
	wire.MustRegister[PeerStatus]("gotp.ensemble.PeerStatus")
	wire.MustRegister[updateMembersReq]("gotp.ensemble.update_members")
	wire.MustRegister[okReply]("gotp.ensemble.ok")
	wire.MustRegister[View]("gotp.ensemble.View")
	wire.MustRegister[viewsReq]("gotp.ensemble.views_req")
	wire.MustRegister[viewsReply]("gotp.ensemble.views_reply")
	wire.MustRegister[startPeerReq]("gotp.ensemble.start_peer")
	wire.MustRegister[addedReq]("gotp.ensemble.added")
	wire.MustRegister[joinReq]("gotp.ensemble.join")
	wire.MustRegister[clusterState]("gotp.ensemble.cluster_state")
}

func mustRegister[T any](name string) { must(wire.Register[T](name)) }

func must(err error) {
	if err != nil {
		panic(err)
	}
}

var errBadMessage = errors.New("ensemble: malformed message")

func appendUvarints(b []byte, vs ...uint64) []byte {
	for _, v := range vs {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

func encodeBatch(h hostBatch) ([]byte, error) {
	b := appendString(nil, h.From)
	b = appendString(b, h.Cluster)
	b = binary.AppendUvarint(b, uint64(len(h.Envs)))
	for _, e := range h.Envs {
		b = appendString(b, e.Ens)
		b = append(b, byte(e.Kind))
		b = binary.AppendUvarint(b, uint64(e.Raft.Size()))
		n := len(b)
		b = append(b, make([]byte, e.Raft.Size())...)
		if _, err := e.Raft.MarshalTo(b[n:]); err != nil {
			return nil, err
		}
		if e.Kind == envPiece {
			if e.Piece == nil {
				return nil, errors.New("ensemble: a piece envelope without its piece")
			}
			b = appendUvarints(b, e.Piece.Term, e.Piece.Index, uint64(e.Piece.Seq), uint64(e.Piece.Total))
			b = appendBytes(b, e.Piece.Data)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(h.Notices)))
	for _, v := range h.Notices {
		b = appendView(b, v)
	}
	return b, nil
}

func decodeBatch(b []byte) (hostBatch, error) {
	var h hostBatch
	var ok bool
	var n uint64
	if h.From, b, ok = readString(b); !ok {
		return h, errBadMessage
	}
	if h.Cluster, b, ok = readString(b); !ok {
		return h, errBadMessage
	}
	// Each envelope takes at least 3 bytes (its name's length, its kind,
	// its size), each view 5: a count is checked against what the bytes
	// can hold before anything is allocated for it.
	if n, b, ok = readUvarint(b); !ok || n > uint64(len(b))/3 {
		return h, errBadMessage
	}
	h.Envs = make([]peerEnv, n)
	for i := range h.Envs {
		e := &h.Envs[i]
		if e.Ens, b, ok = readString(b); !ok || len(b) < 1 {
			return h, errBadMessage
		}
		e.Kind, b = envKind(b[0]), b[1:]
		var size uint64
		if size, b, ok = readUvarint(b); !ok || size > uint64(len(b)) {
			return h, errBadMessage
		}
		if err := e.Raft.Unmarshal(b[:size]); err != nil {
			return h, errBadMessage
		}
		b = b[size:]
		if e.Kind == envPiece {
			var seq, total uint64
			e.Piece = new(raftchunk.Piece)
			if e.Piece.Term, b, ok = readUvarint(b); !ok {
				return h, errBadMessage
			}
			if e.Piece.Index, b, ok = readUvarint(b); !ok {
				return h, errBadMessage
			}
			if seq, b, ok = readUvarint(b); !ok || seq >= 1<<32 {
				return h, errBadMessage
			}
			if total, b, ok = readUvarint(b); !ok || total >= 1<<32 {
				return h, errBadMessage
			}
			e.Piece.Seq, e.Piece.Total = uint32(seq), uint32(total)
			if e.Piece.Data, b, ok = readBytes(b); !ok {
				return h, errBadMessage
			}
		}
	}
	if n, b, ok = readUvarint(b); !ok || n > uint64(len(b))/5 {
		return h, errBadMessage
	}
	h.Notices = make([]View, n)
	for i := range h.Notices {
		if h.Notices[i], b, ok = readView(b); !ok {
			return h, errBadMessage
		}
	}
	return h, nil
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

func readStrings(b []byte) ([]string, []byte, bool) {
	n, b, ok := readUvarint(b)
	if !ok || n > uint64(len(b)) {
		return nil, b, false
	}
	var ss []string
	for range n {
		var s string
		if s, b, ok = readString(b); !ok {
			return nil, b, false
		}
		ss = append(ss, s)
	}
	return ss, b, true
}

func appendView(b []byte, v View) []byte {
	b = appendString(b, v.Ensemble)
	b = appendString(b, v.Leader)
	b = binary.AppendUvarint(b, v.Term)
	b = appendStrings(b, v.Members)
	return appendStrings(b, v.OldMembers)
}

func readView(b []byte) (View, []byte, bool) {
	var v View
	var ok bool
	if v.Ensemble, b, ok = readString(b); !ok {
		return v, b, false
	}
	if v.Leader, b, ok = readString(b); !ok {
		return v, b, false
	}
	if v.Term, b, ok = readUvarint(b); !ok {
		return v, b, false
	}
	if v.Members, b, ok = readStrings(b); !ok {
		return v, b, false
	}
	v.OldMembers, b, ok = readStrings(b)
	return v, b, ok
}

func appendRef(b []byte, r actor.Ref) []byte {
	b = appendString(b, r.Node)
	return appendUvarints(b, uint64(r.Creation), r.ID)
}

func readRef(b []byte) (actor.Ref, []byte, bool) {
	var r actor.Ref
	var ok bool
	var cr uint64
	if r.Node, b, ok = readString(b); !ok {
		return r, b, false
	}
	if cr, b, ok = readUvarint(b); !ok || cr > 1<<32-1 {
		return r, b, false
	}
	r.Creation = uint32(cr)
	r.ID, b, ok = readUvarint(b)
	return r, b, ok
}

func encodeRouted(r routed) ([]byte, error) {
	b := appendRef(nil, actor.Ref{Node: r.From.PID.Node, Creation: r.From.PID.Creation, ID: r.From.PID.ID})
	b = appendRef(b, r.From.Ref)
	b = appendString(b, r.Ens)
	b = binary.AppendUvarint(b, uint64(r.Hops))
	return appendOp(b, r.Op), nil
}

func decodeRouted(b []byte) (routed, error) {
	var r routed
	var ok bool
	var pid actor.Ref
	var hops uint64
	if pid, b, ok = readRef(b); !ok {
		return r, errBadMessage
	}
	r.From.PID = actor.PID{Node: pid.Node, Creation: pid.Creation, ID: pid.ID}
	if r.From.Ref, b, ok = readRef(b); !ok {
		return r, errBadMessage
	}
	if r.Ens, b, ok = readString(b); !ok {
		return r, errBadMessage
	}
	if hops, b, ok = readUvarint(b); !ok || hops > 1<<16 {
		return r, errBadMessage
	}
	r.Hops = int(hops)
	op, _, err := readOp(b)
	r.Op = op
	return r, err
}

// size is about how many bytes the view takes in a batch.
func (v View) size() int {
	n := len(v.Ensemble) + len(v.Leader) + 16
	for _, m := range slices.Concat(v.Members, v.OldMembers) {
		n += len(m) + 2
	}
	return n
}
