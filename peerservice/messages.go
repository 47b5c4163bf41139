package peerservice

import (
	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
)

// Messages between managers. They travel as types registered with the wire
// codec; those that carry an application message of any type travel as
// lists (wire lists take any encodable value).

// heartbeatMsg says "I am alive" and which membership state the sender holds.
type heartbeatMsg struct {
	From   string
	Digest uint64
}

// gossipMsg carries a whole membership state. A receiver whose merged state
// differs from the sender's answers with a Reply; replies are not answered.
type gossipMsg struct {
	From   string
	Digest uint64
	Reply  bool
	State  State
}

// partitionMsg spreads an injected partition (TTL hops left) or its
// resolution. An injection made on another node reaches the origin first
// with the full TTL, and spreads from there.
type partitionMsg struct {
	Ref     string
	Origin  string
	TTL     int
	Resolve bool
}

// ackMsg acknowledges the forwarded message Seq that Actor sent to From.
type ackMsg struct {
	From  string
	Actor string
	Seq   uint64
}

// floorMsg is a sender's word that it gave up its forwards to the receiver
// below Floor: the receiver stops waiting for them.
type floorMsg struct {
	From  string
	Actor string
	Floor uint64
}

// nodeDownMsg is a server's word to its clients that its failure detector
// found the client Node down: the clients reach it only through servers, so
// they have no connection of their own to lose.
type nodeDownMsg struct {
	From string
	Node string
}

func init() {
	wire.MustRegister[heartbeatMsg]("gotp.peerservice.heartbeat")
	wire.MustRegister[gossipMsg]("gotp.peerservice.gossip")
	wire.MustRegister[partitionMsg]("gotp.peerservice.partition")
	wire.MustRegister[ackMsg]("gotp.peerservice.ack")
	wire.MustRegister[floorMsg]("gotp.peerservice.floor")
	wire.MustRegister[nodeDownMsg]("gotp.peerservice.nodedown")
}

// List tags of the messages that carry an application payload.
const (
	tagForward = "gotp.peerservice.forward" // [tag, fromNode, actor, seq, floor, toPID, toName, msg]
	tagUser    = "gotp.peerservice.user"    // [tag, fromNode, msg]
)

// forwardMsg is an acknowledged ForwardMessage on its way to the
// destination's manager. Seq numbers the sender actor's forwards to this
// destination from 1; Floor is the lowest of them not yet acknowledged or
// given up, below which the receiver waits for nothing.
type forwardMsg struct {
	From   string
	Actor  string
	Seq    uint64
	Floor  uint64
	To     actor.PID
	ToName actor.Name
	Msg    any
}

func (f forwardMsg) list() []any {
	return []any{tagForward, f.From, f.Actor, f.Seq, f.Floor, f.To, f.ToName, f.Msg}
}

// userMsg is what SendMessage carries to another manager.
type userMsg struct {
	From string
	Msg  any
}

func (u userMsg) list() []any { return []any{tagUser, u.From, u.Msg} }

// parseList decodes a list message; ok is false for lists that are not ours.
func parseList(l []any) (msg any, ok bool) {
	if len(l) == 0 {
		return nil, false
	}
	switch l[0] {
	case tagForward:
		if len(l) != 8 {
			return nil, false
		}
		f := forwardMsg{Msg: l[7]}
		var ok1, ok2, ok3, ok4, ok5, ok6 bool
		f.From, ok1 = l[1].(string)
		f.Actor, ok2 = l[2].(string)
		f.Seq, ok3 = l[3].(uint64)
		f.Floor, ok4 = l[4].(uint64)
		f.To, ok5 = l[5].(actor.PID)
		f.ToName, ok6 = l[6].(actor.Name)
		return f, ok1 && ok2 && ok3 && ok4 && ok5 && ok6
	case tagUser:
		if len(l) != 3 {
			return nil, false
		}
		from, ok := l[1].(string)
		return userMsg{From: from, Msg: l[2]}, ok
	}
	return nil, false
}
