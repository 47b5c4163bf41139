package plumtree

import (
	"errors"
	"fmt"

	"github.com/gotp-dev/gotp/actor"
)

// Handler is what a broadcast carries on behalf of: the seed's
// partisan_plumtree_broadcast_handler behaviour. A handler owns its
// messages: storage, deduplication and lookup for grafts are its own; the
// server stores no payload. Every node of the cluster must run a handler of
// the same Name.
//
// The server calls a handler's methods from its own process, one at a time;
// a handler shared with other goroutines guards its own state. A method that
// panics is logged and treated as failed (the message it was asked about is
// dropped, as if lost in transit, and the protocol repairs it later); the
// server lives on.
type Handler interface {
	// Name identifies the handler across the cluster (the seed's module).
	Name() string
	// BroadcastData turns a message handed to Server.Broadcast into the
	// message's id and the payload to send. The id must be a comparable
	// value that the wire carries (a string, a number, a registered struct
	// of such); the payload any value the wire carries.
	BroadcastData(msg any) (id, payload any, err error)
	// Merge takes a payload that arrived and reports whether it was new
	// here (and is now stored): true passes it on, false prunes the link it
	// came by.
	Merge(id, payload any) bool
	// IsStale reports whether this node already has the message id, or a
	// newer one that supersedes it.
	IsStale(id any) bool
	// Graft returns the payload of message id for a node that missed it;
	// ErrStale if a newer message superseded it; any other error if it
	// cannot be found.
	Graft(id any) (payload any, err error)
	// Exchange starts an anti-entropy exchange with peer and returns the
	// process that runs it; the server monitors it and counts it against
	// Config.StartExchangeLimit until it exits. Return ErrIgnore to decline
	// (nothing to exchange). p is the broadcast server's process, to spawn
	// from.
	Exchange(p *actor.Process, peer string) (actor.PID, error)
}

// ChannelHandler is a Handler that sends its messages on a channel of its
// own (the seed's optional broadcast_channel/0) rather than the default
// one.
type ChannelHandler interface {
	Handler
	Channel() string
}

var (
	// ErrStale is what Handler.Graft returns for a message that a newer one
	// superseded.
	ErrStale = errors.New("plumtree: stale message")
	// ErrIgnore is what Handler.Exchange returns to decline an exchange.
	ErrIgnore = errors.New("plumtree: exchange ignored")
	// ErrUnknownHandler: a broadcast names a handler the server was not
	// configured with.
	ErrUnknownHandler = errors.New("plumtree: unknown handler")
	// ErrHandler wraps a handler's panic or error.
	ErrHandler = errors.New("plumtree: handler failed")
	// ErrInvalidID: a handler's message id cannot identify a message.
	ErrInvalidID = errors.New("plumtree: message id is not comparable")
	// ErrTimeout is how a call to a server that ran out of time fails; it
	// matches context.DeadlineExceeded too.
	ErrTimeout = errors.New("plumtree: timeout")
)

// guard runs fn, turning a panic into an error wrapping ErrHandler.
func guard(handler, op string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s.%s panicked: %v", ErrHandler, handler, op, r)
		}
	}()
	return fn()
}
