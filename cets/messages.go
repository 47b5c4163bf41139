package cets

import (
	"errors"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
)

// Messages between table servers, and calls any node may make to a server.
// Records and keys travel encoded by the table's Codec (Payload), so that
// these types are not generic and are registered once with the wire codec.

// opsMsg is a batch of writes from the server From, tagged with its join
// ref; the receiver answers with ackMsg{Batch} whether or not it applied it.
type opsMsg struct {
	From    actor.PID
	JoinRef uint64
	Batch   uint64
	Payload []byte // []op
	// Stream and Seq place Payload in the sender's gob stream to this
	// receiver (default codec only; zero Stream: encoded on its own).
	Stream uint64
	Seq    uint64
}

type ackMsg struct {
	From  actor.PID
	Batch uint64
}

// On the wire, batches and acks are lists of scalars, which the wire codec
// writes directly (registered struct types would go through gob, a
// measurable cost on every write).
const (
	tagOps = "gotp.cets.ops" // [tag, from, joinRef, batch, payload, stream, seq]
	tagAck = "gotp.cets.ack" // [tag, from, batch]
)

func (m opsMsg) list() []any {
	return []any{tagOps, m.From, m.JoinRef, m.Batch, m.Payload, m.Stream, m.Seq}
}
func (m ackMsg) list() []any { return []any{tagAck, m.From, m.Batch} }

// decodeList turns a list message into an opsMsg or ackMsg (ok false for
// anything else).
func decodeList(l []any) (any, bool) {
	if len(l) == 0 {
		return nil, false
	}
	switch tag, _ := l[0].(string); tag {
	case tagOps:
		if len(l) != 7 {
			return nil, false
		}
		from, ok1 := l[1].(actor.PID)
		ref, ok2 := l[2].(uint64)
		batch, ok3 := l[3].(uint64)
		payload, ok4 := l[4].([]byte)
		stream, ok5 := l[5].(uint64)
		seq, ok6 := l[6].(uint64)
		if !ok1 || !ok2 || !ok3 || (!ok4 && l[4] != nil) || !ok5 || !ok6 {
			return nil, false
		}
		return opsMsg{From: from, JoinRef: ref, Batch: batch, Payload: payload, Stream: stream, Seq: seq}, true
	case tagAck:
		if len(l) != 3 {
			return nil, false
		}
		from, ok1 := l[1].(actor.PID)
		batch, ok2 := l[2].(uint64)
		if !ok1 || !ok2 {
			return nil, false
		}
		return ackMsg{From: from, Batch: batch}, true
	}
	return nil, false
}

// Calls.
type (
	leaderReq struct {
		Kind    leaderKind
		Payload []byte // []V
	}
	pauseReq   struct{ Owner actor.PID }
	unpauseReq struct{ Ref actor.Ref }
	infoReq    struct{}
	pingReq    struct{}
	// dumpChunkReq asks for the records after the key encoded in After
	// (from the first when HasAfter is false), at most MaxBytes of them
	// encoded (at least one record).
	dumpChunkReq struct {
		After    []byte
		HasAfter bool
		MaxBytes int
	}
	dumpChunkReply struct {
		Chunk []byte // []V
		Last  []byte // the last key in Chunk, encoded
		Done  bool   // no records after Chunk
	}
	// mergeReq is one chunk of the other side's dump during a join. Left
	// says whether the receiver is on the joining (local) side, so that
	// HandleConflict gets its arguments in the same order on both sides.
	mergeReq struct {
		Chunk []byte
		Left  bool
	}
	// sendDumpReq is the join's last step on each server: insert Dump (if
	// any; a join sends its dumps before, with mergeReq), add Peers, take
	// JoinRef.
	sendDumpReq struct {
		Peers   []actor.PID
		JoinRef uint64
		Dump    []byte
	}
	// checkReachReq asks a server whether it can reach each of Servers.
	checkReachReq struct{ Servers []actor.PID }
)

type leaderKind uint8

const (
	leaderInsertNew leaderKind = iota + 1
	leaderInsertNewOrLookup
	leaderInsertSerial
)

// wrongLeaderReply is a leader operation's answer from a server that is not
// the leader.
type wrongLeaderReply struct{ Leader actor.PID }

// leaderReply is a leader operation's answer: Inserted, and for
// InsertNewOrLookup the records already there (encoded).
type leaderReply struct {
	Inserted bool
	Existing []byte
}

// Errors, checked with errors.Is.
var (
	// ErrTimeout: a call did not finish before its context's deadline. It
	// matches context.DeadlineExceeded and actor.ErrTimeout too.
	ErrTimeout error = actor.ErrTimeout
	// ErrWrongLeader: a leader operation was refused by a server that is not
	// the leader as often as Options.LeaderRetry allows.
	ErrWrongLeader = errors.New("cets: wrong_leader")
	// ErrUnknownPauseMonitor: Unpause of a ref that is not a pause of the
	// server (never was, or already unpaused).
	ErrUnknownPauseMonitor = errors.New("cets: unknown_pause_monitor")
	// ErrNoTable: no table of that name on the node.
	ErrNoTable = errors.New("cets: no such table")
	// ErrDecode: records from another node did not decode.
	ErrDecode = errors.New("cets: cannot decode records")
)

func init() {
	wire.MustRegister[leaderReq]("gotp.cets.leader")
	wire.MustRegister[pauseReq]("gotp.cets.pause")
	wire.MustRegister[unpauseReq]("gotp.cets.unpause")
	wire.MustRegister[infoReq]("gotp.cets.info")
	wire.MustRegister[pingReq]("gotp.cets.ping")
	wire.MustRegister[dumpChunkReq]("gotp.cets.dumpchunk")
	wire.MustRegister[dumpChunkReply]("gotp.cets.dumpchunk_reply")
	wire.MustRegister[mergeReq]("gotp.cets.merge")
	wire.MustRegister[sendDumpReq]("gotp.cets.senddump")
	wire.MustRegister[checkReachReq]("gotp.cets.checkreach")
	wire.MustRegister[wrongLeaderReply]("gotp.cets.wrongleader")
	wire.MustRegister[leaderReply]("gotp.cets.leaderreply")
	wire.MustRegister[Info]("gotp.cets.info_reply")
	for _, err := range []error{ErrWrongLeader, ErrUnknownPauseMonitor, ErrDecode,
		ErrJoinWithSamePID, ErrAlreadyJoined, ErrOverlap, ErrNotFullyConnected,
		ErrNotSameJoinRef, ErrCannotReach} {
		if err := wire.RegisterError(err); err != nil {
			panic(err)
		}
	}
}
