package plumtree

import (
	"fmt"
	"time"
)

// Message is one of the protocol messages that broadcast servers exchange:
// *Broadcast, *Prune, *IHave, *IgnoredIHave or *Graft. The sender's node
// name travels beside it (Core.Handle takes it as from).
type Message interface {
	isMessage()
	// handlerName is the handler the message belongs to.
	handlerName() string
}

// Broadcast carries a payload along an eager link (the seed's
// {broadcast, MessageId, Payload, Mod, Round, Root, From}). Round is the
// number of hops from Root before this one: Root sends round 0.
type Broadcast struct {
	ID      any
	Payload any
	Handler string
	Round   int
	Root    string
}

// Prune asks the receiver to move the sender to its lazy set for Root.
type Prune struct {
	Root    string
	Handler string
}

// IHave announces a message along a lazy link: the receiver grafts it if
// it is missing, and ignores it otherwise. Round is the round the payload
// would have had along this link.
type IHave struct {
	ID      any
	Handler string
	Round   int
	Root    string
}

// IgnoredIHave acknowledges an IHave whose message the receiver already had.
type IgnoredIHave struct {
	ID      any
	Handler string
	Round   int
	Root    string
}

// Graft asks the receiver to move the sender to its eager set for Root and
// to send the message ID along it. With Optimize set (the paper's
// optimization step) the sender already has the message: only the link
// moves, the receiver sends nothing back and asks no handler.
type Graft struct {
	ID       any
	Handler  string
	Round    int
	Root     string
	Optimize bool
}

func (*Broadcast) isMessage()    {}
func (*Prune) isMessage()        {}
func (*IHave) isMessage()        {}
func (*IgnoredIHave) isMessage() {}
func (*Graft) isMessage()        {}

func (m *Broadcast) handlerName() string    { return m.Handler }
func (m *Prune) handlerName() string        { return m.Handler }
func (m *IHave) handlerName() string        { return m.Handler }
func (m *IgnoredIHave) handlerName() string { return m.Handler }
func (m *Graft) handlerName() string        { return m.Handler }

// Verdict is the handler's answer that Core.Handle needs for some messages.
// The shell (or a simulator) asks the handler before calling Handle:
//
//	*Broadcast     Fresh = handler.Merge(m.ID, m.Payload)
//	*IHave         Stale = handler.IsStale(m.ID)
//	*Graft         Graft = handler.Graft(m.ID) (not asked when m.Optimize)
//
// The other messages take the zero Verdict.
type Verdict struct {
	// Fresh: the broadcast was new to this node and was merged.
	Fresh bool
	// Stale: this node already has the announced message (or a newer one).
	Stale bool
	// Graft is the handler's answer to a graft request.
	Graft GraftResult
}

// GraftStatus is how a handler answered a graft request.
type GraftStatus uint8

const (
	// GraftOK: the handler still has the message; Payload holds it.
	GraftOK GraftStatus = iota
	// GraftStale: a causally newer message superseded it; nothing to send.
	GraftStale
	// GraftError: the handler could not look the message up.
	GraftError
)

// GraftResult is a handler's answer to a graft request.
type GraftResult struct {
	Status  GraftStatus
	Payload any
}

// EffectKind says what an Effect asks the shell to do.
type EffectKind uint8

const (
	// EffectSend: send Msg to the broadcast server of node To.
	EffectSend EffectKind = iota + 1
	// EffectStartExchange: ask handler Handler to start an anti-entropy
	// exchange with Peer, then report the outcome with
	// Core.ExchangeEnded(Exchange) when it failed, was ignored or finished.
	EffectStartExchange
	// EffectArmGraftTimer: after After, call Core.GraftTimeout(Handler, ID,
	// Timer). Only with CoreConfig.GraftTimeout set.
	EffectArmGraftTimer
)

// Effect is one thing the core asks its shell to do. Effects come in the
// order they must be carried out.
type Effect struct {
	Kind EffectKind
	// To and Msg: EffectSend.
	To  string
	Msg Message
	// Handler: EffectStartExchange and EffectArmGraftTimer.
	Handler string
	// Peer and Exchange: EffectStartExchange.
	Peer     string
	Exchange uint64
	// ID, After and Timer: EffectArmGraftTimer.
	ID    any
	After time.Duration
	Timer uint64
}

func (e Effect) String() string {
	switch e.Kind {
	case EffectSend:
		return fmt.Sprintf("send %s %T%+v", e.To, e.Msg, e.Msg)
	case EffectStartExchange:
		return fmt.Sprintf("exchange#%d %s with %s", e.Exchange, e.Handler, e.Peer)
	case EffectArmGraftTimer:
		return fmt.Sprintf("graft-timer#%d %s/%v after %v", e.Timer, e.Handler, e.ID, e.After)
	}
	return fmt.Sprintf("effect(%d)", e.Kind)
}
