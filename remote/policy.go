package remote

import (
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/gotp-dev/gotp/actor"
)

// Policy lets the layer above (the peer service) decide the shape of the
// cluster: which inbound connections to accept and which node a message for a
// destination should be handed to. The remote layer calls it from connection
// goroutines; implementations must be safe for concurrent use and fast.
type Policy interface {
	// Accept is asked about each inbound connection once the peer is
	// authenticated. Returning an error refuses it; a *Refusal error also
	// refers the peer to another node.
	Accept(peer NodeSpec) error
	// Route returns the node to hand traffic for dest to: dest itself for a
	// direct connection, or a relay that forwards it. An error refuses the
	// send (it is returned to the sender).
	Route(dest string) (via string, err error)
}

// TLSPolicy is an optional extension of a Policy: AcceptTLS is asked about
// each inbound connection over TLS, after Accept, with the connection's
// verified TLS state (the peer's certificate chain), to refuse a peer by
// what its certificate says.
type TLSPolicy interface {
	AcceptTLS(peer NodeSpec, state *tls.ConnectionState) error
}

// Filter is an optional extension of a Policy: Admit is asked about every
// message and call this node hands to another node (dest is the node it is
// for), before it is encoded. An error refuses the send and is returned to the
// sender. The peer service uses it to cut application traffic across an
// injected partition while its own membership traffic flows.
type Filter interface {
	Admit(env actor.Envelope, dest string) error
}

// Refusal is an error a Policy returns from Accept to refuse a connection and
// name a node the refused peer should use instead.
type Refusal struct {
	Reason   string
	Referral NodeSpec
}

func (r *Refusal) Error() string {
	if r.Referral.Name != "" {
		return fmt.Sprintf("refused: %s (referred to %s)", r.Reason, r.Referral.Name)
	}
	return "refused: " + r.Reason
}

// Is makes every *Refusal match ErrRefused.
func (r *Refusal) Is(target error) bool { return target == ErrRefused }

// Errors of the distribution layer.
var (
	// ErrRefused: the peer refused the connection (see *Refusal for a
	// referral).
	ErrRefused = errors.New("connection refused by peer")
	// ErrBadCookie: the peer does not know this node's cookie.
	ErrBadCookie = errors.New("cookie mismatch")
	// ErrWrongName: the node reached answers to another name.
	ErrWrongName = errors.New("peer has another name")
	// ErrVersion: the peer speaks another protocol version.
	ErrVersion = errors.New("unsupported protocol version")
	// ErrSendQueueFull: the connection's send queue is at its bound.
	ErrSendQueueFull = errors.New("send queue full")
	// ErrUnknownNode: no address is known for the node.
	ErrUnknownNode = errors.New("no address known for node")
	// ErrUnknownChannel: a send named a channel the node was not configured with.
	ErrUnknownChannel = errors.New("unknown channel")
	// ErrStopped: the distribution layer is stopped.
	ErrStopped = errors.New("remote stopped")
	// ErrHandshake: the handshake failed (timeout, garbage, closed early).
	ErrHandshake = errors.New("handshake failed")
	// ErrSessionProof: a connection claimed a peer that has a live session
	// with this node (same name, same creation) without proving it belongs
	// to that session.
	ErrSessionProof = errors.New("no proof of the live session")
)

// directPolicy connects to anyone on demand, like Erlang distribution.
type directPolicy struct{}

func (directPolicy) Accept(NodeSpec) error             { return nil }
func (directPolicy) Route(dest string) (string, error) { return dest, nil }
