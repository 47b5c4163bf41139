package plumtree

import (
	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
)

// Protocol messages travel between servers as lists of wire values, so that
// ids and payloads can be any value the wire carries (including types users
// registered) without gob's interface registration:
//
//	[wireTag, kind, from, handler, id, payload, round, root, optimize]
const wireTag = "gotp.plumtree.v1"

const (
	kindBroadcast = iota + 1
	kindPrune
	kindIHave
	kindIgnoredIHave
	kindGraft
)

func encodeMessage(from string, m Message) []any {
	var (
		kind     int
		id, pl   any
		round    int
		root     string
		optimize bool
	)
	switch m := m.(type) {
	case *Broadcast:
		kind, id, pl, round, root = kindBroadcast, m.ID, m.Payload, m.Round, m.Root
	case *Prune:
		kind, root = kindPrune, m.Root
	case *IHave:
		kind, id, round, root = kindIHave, m.ID, m.Round, m.Root
	case *IgnoredIHave:
		kind, id, round, root = kindIgnoredIHave, m.ID, m.Round, m.Root
	case *Graft:
		kind, id, round, root, optimize = kindGraft, m.ID, m.Round, m.Root, m.Optimize
	}
	return []any{wireTag, kind, from, m.handlerName(), id, pl, round, root, optimize}
}

// A batch is several protocol messages for one peer in one wire message:
//
//	[wireBatchTag, [message, message, ...]]
const wireBatchTag = "gotp.plumtree.v1.batch"

func encodeBatch(msgs []any) []any {
	return []any{wireBatchTag, msgs}
}

func decodeBatch(v []any) ([]any, bool) {
	if len(v) != 2 {
		return nil, false
	}
	if tag, _ := v[0].(string); tag != wireBatchTag {
		return nil, false
	}
	items, ok := v[1].([]any)
	return items, ok
}

// decodeMessage reads a protocol message; ok is false for anything else.
func decodeMessage(v []any) (from string, m Message, ok bool) {
	if len(v) != 9 {
		return "", nil, false
	}
	tag, _ := v[0].(string)
	kind, ok1 := v[1].(int)
	from, ok2 := v[2].(string)
	handler, ok3 := v[3].(string)
	id, payload := v[4], v[5]
	round, ok4 := v[6].(int)
	root, ok5 := v[7].(string)
	optimize, ok6 := v[8].(bool)
	if tag != wireTag || !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || from == "" {
		return "", nil, false
	}
	if kind != kindPrune && !ValidID(id) {
		return "", nil, false
	}
	switch kind {
	case kindBroadcast:
		m = &Broadcast{ID: id, Payload: payload, Handler: handler, Round: round, Root: root}
	case kindPrune:
		m = &Prune{Root: root, Handler: handler}
	case kindIHave:
		m = &IHave{ID: id, Handler: handler, Round: round, Root: root}
	case kindIgnoredIHave:
		m = &IgnoredIHave{ID: id, Handler: handler, Round: round, Root: root}
	case kindGraft:
		m = &Graft{ID: id, Handler: handler, Round: round, Root: root, Optimize: optimize}
	default:
		return "", nil, false
	}
	return from, m, true
}

// Peers is a node's view of one tree: its eager and lazy peers.
type Peers struct {
	Eagers []string
	Lazys  []string
}

// ExchangeInfo is a running anti-entropy exchange.
type ExchangeInfo struct {
	Handler string
	Peer    string
	PID     actor.PID
}

// Calls to the server (some from other nodes: get peers and exchanges).
type (
	getPeersReq    struct{ Root string }
	exchangesReq   struct{ All bool }
	exchangesReply struct{ List []ExchangeInfo }
	membersReq     struct{}
	cancelReq      struct{ Filter ExchangeFilter }
	broadcastReq   struct {
		handler     string
		id, payload any
	}
	updateReq    struct{ members []string }
	lazyTick     struct{}
	exchangeTick struct{}
	graftTimer   struct {
		handler string
		id      any
		timer   uint64
	}
	membershipChanged struct{ members []string }
)

func init() {
	wire.MustRegister[getPeersReq]("gotp.plumtree.get_peers")
	wire.MustRegister[Peers]("gotp.plumtree.peers")
	wire.MustRegister[exchangesReq]("gotp.plumtree.exchanges")
	wire.MustRegister[exchangesReply]("gotp.plumtree.exchanges_reply")
}
