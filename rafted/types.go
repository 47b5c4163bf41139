package rafted

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/internal/raftchunk"
	"github.com/gotp-dev/gotp/remote/wire"
	"go.etcd.io/raft/v3/raftpb"
)

// Data is the replicated value (RaftedValue.Data). A member holds one and
// changes it only by applying committed commands, in log order, so every
// member's copy goes through the same states. Arguments and results cross
// nodes as wire values (see package wire): builtin types, proto messages or
// types registered with wire.Register.
type Data interface {
	// Command applies a command and returns its result. It must be
	// deterministic: the same value and argument give the same result and
	// the same new value on every member.
	Command(arg any) (ret any)
	// Query answers a read-only query; it must not change the value.
	Query(arg any) (ret any)
	// Snapshot encodes the value, for snapshots and catching up members.
	Snapshot() ([]byte, error)
	// Restore replaces the value with a decoded snapshot.
	Restore(snapshot []byte) error
}

// LeaderHook receives events on the leader (RaftedValue.LeaderHook). Its
// methods run inside the member process and must not block or call the
// member. OnRestoredFromFiles runs on any member that resumed from its Dir.
type LeaderHook interface {
	OnCommandCommitted(data Data, arg, ret any)
	OnQueryAnswered(data Data, arg, ret any)
	OnFollowerAdded(data Data, follower actor.PID)
	OnFollowerRemoved(data Data, follower actor.PID)
	OnElected(data Data)
	OnRestoredFromFiles(data Data)
}

// Server names a member for the client functions: an actor.Dest, that is
// its PID or a registered name (on a node, or on the caller's node when the
// Name's Node is empty).
type Server = actor.Dest

// ByPID names a member by PID.
func ByPID(pid actor.PID) Server { return pid }

// ByName names a member by its registered name on node.
func ByName(node, name string) Server { return actor.Name{Node: node, Name: name} }

// Caller makes calls: an *actor.Node from outside any process, or the
// calling *actor.Process.
type Caller = actor.Caller

func call(ctx context.Context, c Caller, s Server, req any) (any, error) {
	if s == nil {
		return nil, errors.New("rafted: no Server")
	}
	return c.Call(ctx, s, req)
}

// Status is what a member knows of its group (RaftedValue.status).
type Status struct {
	// From is the member that answered.
	From actor.PID
	// Members are the group's members as this member knows them.
	Members []actor.PID
	// Leader is the leader it knows of (zero if none).
	Leader actor.PID
	// UnresponsiveFollowers: on the leader, members not heard from within
	// the last election timeout.
	UnresponsiveFollowers []actor.PID
	// CurrentTerm is the member's Raft term.
	CurrentTerm uint64
	// StateName is "leader", "candidate" (including pre-candidate) or "follower".
	StateName string
	// Config is the group's configuration.
	Config Config
	// CommitIndex is the last log index this member knows committed;
	// AppliedIndex the last it applied to its value.
	CommitIndex, AppliedIndex uint64
	// Followers, on the leader: each other member's progress (how far its
	// log matches the leader's, and how far behind the leader's last index
	// it is), sorted by PID.
	Followers []FollowerProgress
}

// FollowerProgress is a follower's replication progress as its leader sees it.
type FollowerProgress struct {
	PID   actor.PID
	Match uint64 // the highest log index known replicated on it
	Lag   uint64 // the leader's last index minus Match
}

// Requests to a member. Values (command and query arguments) travel as
// wire-encoded bytes, which the leader puts into its log as they are.
type (
	commandReq struct {
		Arg []byte
		ID  string
	}
	queryReq          struct{ Arg []byte }
	changeConfigReq   struct{ Config Config }
	removeFollowerReq struct{ Member memberRef }
	replaceLeaderReq  struct{ Member memberRef }
	forceRemoveReq    struct{ Member memberRef }
	statusReq         struct{ Detail bool }
	// joinReq asks the leader to add a member as a learner, then (with
	// Promote, once the learner has caught up) as a voter.
	joinReq struct {
		ID      uint64
		Addr    memberAddr
		Promote bool
	}
	// awaitJoinedReq asks a joining member to answer once it has applied
	// its own addition (so it holds the group's log up to that point).
	awaitJoinedReq struct{ Wait bool }
	// okReply answers requests that return nothing but an error.
	okReply struct{ OK bool }
)

// memberRef names a member in a membership operation: by PID or by
// registered name (the zero memberRef names none).
type memberRef struct {
	PID  actor.PID
	Name actor.Name
}

func refOf(d actor.Dest) memberRef {
	switch d := d.(type) {
	case actor.PID:
		return memberRef{PID: d}
	case actor.Name:
		return memberRef{Name: d}
	}
	return memberRef{}
}

func (r memberRef) isZero() bool { return r == memberRef{} }

// memberAddr is how members reach each other: a registered name when the
// member has one (it survives restarts), else its PID. PID is always the
// latest known.
type memberAddr struct {
	PID  actor.PID
	Name actor.Name
}

// peerMsg carries one Raft message between members, with the sender's
// address so that a member restarted under a new PID is found again.
type peerMsg struct {
	From memberAddr
	Msg  raftpb.Message
}

// snapChunk carries a piece of a raft snapshot message too large for one
// frame; the receiver steps the message once it holds every piece, which
// arrive in order (messages between two processes keep their order).
type snapChunk struct {
	From   memberAddr
	FromID uint64
	Piece  raftchunk.Piece
}

// tick is the member's timer message.
type tick struct{}

func init() {
	// Commands and queries are the hot path: plain bytes, no gob.
	must(wire.RegisterCodec("gotp.rafted.command",
		func(r commandReq) ([]byte, error) { return append(appendString(nil, r.ID), r.Arg...), nil },
		func(b []byte) (commandReq, error) {
			id, rest, ok := readString(b)
			if !ok {
				return commandReq{}, errors.New("rafted: malformed command request")
			}
			return commandReq{ID: id, Arg: rest}, nil
		}))
	must(wire.RegisterCodec("gotp.rafted.query",
		func(r queryReq) ([]byte, error) { return r.Arg, nil },
		func(b []byte) (queryReq, error) { return queryReq{Arg: b}, nil }))
	wire.MustRegister[changeConfigReq]("gotp.rafted.change_config")
	wire.MustRegister[removeFollowerReq]("gotp.rafted.remove_follower")
	wire.MustRegister[replaceLeaderReq]("gotp.rafted.replace_leader")
	wire.MustRegister[forceRemoveReq]("gotp.rafted.force_remove")
	wire.MustRegister[statusReq]("gotp.rafted.status_req")
	wire.MustRegister[joinReq]("gotp.rafted.join")
	wire.MustRegister[okReply]("gotp.rafted.ok")
	wire.MustRegister[awaitJoinedReq]("gotp.rafted.await_joined")
	wire.MustRegister[snapChunk]("gotp.rafted.snap_chunk")
	wire.MustRegister[Status]("gotp.rafted.Status")
	wire.MustRegister[NotLeaderError]("gotp.rafted.NotLeaderError")
	must(wire.RegisterCodec("etcd.raftpb.Message",
		func(m raftpb.Message) ([]byte, error) { return m.Marshal() },
		func(b []byte) (raftpb.Message, error) {
			var m raftpb.Message
			err := m.Unmarshal(b)
			return m, err
		}))
	must(wire.RegisterCodec("gotp.rafted.peer", encodePeerMsg, decodePeerMsg))
}

// must panics on a registration error: registration happens once, at
// package initialization, and can only fail on a programming error.
func must(err error) {
	if err != nil {
		panic(err)
	}
}

// encodePeerMsg writes the sender's address then the gogoproto encoding of
// the message: it is on the hot path, so no gob.
func encodePeerMsg(p peerMsg) ([]byte, error) {
	b := make([]byte, 0, 64+p.Msg.Size())
	b = appendString(b, p.From.PID.Node)
	b = binary.AppendUvarint(b, uint64(p.From.PID.Creation))
	b = binary.AppendUvarint(b, p.From.PID.ID)
	b = appendString(b, p.From.Name.Node)
	b = appendString(b, p.From.Name.Name)
	n := len(b)
	b = b[:n+p.Msg.Size()]
	if _, err := p.Msg.MarshalTo(b[n:]); err != nil {
		return nil, err
	}
	return b, nil
}

func decodePeerMsg(b []byte) (peerMsg, error) {
	var p peerMsg
	var ok bool
	var v uint64
	if p.From.PID.Node, b, ok = readString(b); !ok {
		return p, errBadPeerMsg
	}
	if v, b, ok = readUvarint(b); !ok || v > 1<<32-1 {
		return p, errBadPeerMsg
	}
	p.From.PID.Creation = uint32(v)
	if p.From.PID.ID, b, ok = readUvarint(b); !ok {
		return p, errBadPeerMsg
	}
	if p.From.Name.Node, b, ok = readString(b); !ok {
		return p, errBadPeerMsg
	}
	if p.From.Name.Name, b, ok = readString(b); !ok {
		return p, errBadPeerMsg
	}
	if err := p.Msg.Unmarshal(b); err != nil {
		return p, fmt.Errorf("rafted: peer message: %w", err)
	}
	return p, nil
}

var errBadPeerMsg = errors.New("rafted: malformed peer message")

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
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

// encodeValue and decodeValue turn a wire value into bytes and back, for
// command arguments in the log and results in snapshots.
func encodeValue(v any) ([]byte, error) {
	return wire.EncodeEnvelope(actor.Envelope{Kind: actor.EnvMessage, Message: v})
}

func decodeValue(b []byte) (any, error) {
	env, err := wire.DecodeEnvelope(b)
	if err != nil {
		return nil, err
	}
	return env.Message, nil
}
