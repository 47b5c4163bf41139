package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gotp-dev/gotp/remote/transport"
)

// DefaultChannel is the channel every node has: one connection per peer
// unless Config.Channels says otherwise.
const DefaultChannel = "default"

// NodeSpec describes a node as others see it: its name, the addresses it can
// be reached at, and free-form tags (the peer service uses "role": "client" or
// "server").
type NodeSpec struct {
	Name  string
	Addrs []string
	Tags  map[string]string
}

// Channel is a named set of connections to each peer. Parallelism is how many
// connections it keeps per peer; traffic from one sender always takes the same
// one (so it stays in order) unless a send names a partition key. On a
// Monotonic channel only the newest message of each sender-receiver stream
// waits in a send queue: under load, older unsent ones are replaced.
type Channel struct {
	Name        string
	Parallelism int
	Monotonic   bool
}

// FullQueue says what a send does when a connection's send queue is full.
type FullQueue int

const (
	// FullQueueError makes the send fail with ErrSendQueueFull (the default).
	// Send, Cast and Call from the actor API never block.
	FullQueueError FullQueue = iota
	// FullQueueBlock makes Remote.SendContext wait for room until its context
	// ends; sends through the actor API still fail with ErrSendQueueFull
	// after BlockTimeout.
	FullQueueBlock
)

// Config configures the distribution layer of one node. The zero value works:
// plain TCP on a loopback port chosen by the system, the default cookie (with
// a warning), one channel.
type Config struct {
	// Cookie is the shared secret that nodes prove to each other in the
	// handshake; it never crosses the wire. Default "gotp" (logged as insecure).
	Cookie string
	// Listen lists addresses to accept connections on. Default 127.0.0.1:0.
	// Set NoListen for a node that only dials.
	Listen   []string
	NoListen bool
	// Advertise lists the addresses peers should dial; default: the
	// listeners' actual addresses.
	Advertise []string
	// Tags are sent to peers in the handshake.
	Tags map[string]string
	// Transport carries frames. Default: plain TCP (&transport.TCP{}). Set a
	// transport.TCP with TLS for encrypted, mutually authenticated links.
	Transport transport.Transport
	// MaxFrameSize bounds one encoded message, sent or received. It is
	// announced in the handshake, and a message larger than this node's or
	// the peer's limit is an error at the sender; the connection carries on.
	// A transport.TCP gets this limit (or keeps its own MaxFrameSize if that
	// is smaller, which then becomes this node's); another transport must
	// take frames of this size. Default transport.DefaultMaxFrameSize.
	MaxFrameSize int
	// SendQueueBytes bounds each connection's queue of encoded frames not yet
	// written. An empty queue takes one frame of any allowed size. Default 8 MiB.
	SendQueueBytes int
	// SignalReserveBytes is how far signals (DOWNs, exits, links, replies)
	// may go past a full send queue: a signal is never refused for the
	// bound, and one that finds even the reserve full gives the connection
	// up (noconnection for everything across it). Default SendQueueBytes,
	// and at least 4 MiB: a burst of thousands of DOWNs fits.
	SignalReserveBytes int
	// WhenFull chooses the behaviour of a full send queue.
	WhenFull FullQueue
	// BlockTimeout bounds the wait of an actor-API send under FullQueueBlock.
	// Default 5 s.
	BlockTimeout time.Duration
	// Channels adds channels, or changes the default one's parallelism.
	Channels []Channel
	// Policy decides which connections to accept and where to send; nil means
	// accept every node with the right cookie and connect directly on demand.
	Policy Policy
	// Resolve finds the addresses of a node this node has not heard of. The
	// default understands nothing and fails; nodes learn each other's addresses
	// from Connect and from handshakes.
	Resolve func(ctx context.Context, node string) ([]string, error)
	// HandshakeTimeout bounds dialing plus the handshake. Default 5 s.
	HandshakeTimeout time.Duration
	// RequireCertName, with a TLS transport, makes a peer's certificate name
	// the node it claims to be: a DNS name of the certificate must be the
	// node's name or its host part (after "@"). Otherwise any certificate
	// the CA signed may claim any name. Both sides check.
	RequireCertName bool
	// MaxHandshakes bounds the inbound connections in their handshake at
	// once. Past it, the oldest such connection is closed to make room, so a
	// flood of sockets that never finish costs at most this many and never
	// delays a peer that does. Default 1024.
	MaxHandshakes int
	// NetTickTime is Erlang's net_ticktime: a connection that hears nothing
	// from its peer for this long (the peer writes a tick every quarter of
	// it when it has nothing else to send) is declared lost, and
	// noconnection fires across it. Default 60 s, as in Erlang; negative
	// turns ticking off (a frozen peer is then never detected here; the peer
	// service's heartbeats still would).
	NetTickTime time.Duration
	// Logger receives connection events. Default: the node's logger.
	Logger *slog.Logger
}

const (
	defaultCookie         = "gotp"
	defaultSendQueueBytes = 8 << 20
)

func (c Config) withDefaults(nodeLog *slog.Logger) Config {
	if c.Cookie == "" {
		c.Cookie = defaultCookie
	}
	if len(c.Listen) == 0 && !c.NoListen {
		c.Listen = []string{"127.0.0.1:0"}
	}
	if c.Transport == nil {
		c.Transport = &transport.TCP{MaxFrameSize: c.MaxFrameSize}
	}
	if c.MaxFrameSize <= 0 {
		c.MaxFrameSize = transport.DefaultMaxFrameSize
	}
	if c.SendQueueBytes <= 0 {
		c.SendQueueBytes = defaultSendQueueBytes
	}
	if c.SignalReserveBytes <= 0 {
		c.SignalReserveBytes = max(c.SendQueueBytes, minSignalReserve)
	}
	if c.BlockTimeout <= 0 {
		c.BlockTimeout = 5 * time.Second
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 5 * time.Second
	}
	if c.MaxHandshakes <= 0 {
		c.MaxHandshakes = 1024
	}
	if c.NetTickTime == 0 {
		c.NetTickTime = 60 * time.Second
	}
	if c.Logger == nil {
		c.Logger = nodeLog
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	chans := []Channel{{Name: DefaultChannel, Parallelism: 1}}
	for _, ch := range c.Channels {
		if ch.Parallelism <= 0 {
			ch.Parallelism = 1
		}
		if ch.Name == DefaultChannel {
			chans[0] = ch
			continue
		}
		chans = append(chans, ch)
	}
	c.Channels = chans
	return c
}

func (c Config) validate() error {
	seen := map[string]bool{}
	for _, ch := range c.Channels {
		if ch.Name == "" {
			return errors.New("remote: channel with empty name")
		}
		if seen[ch.Name] {
			return fmt.Errorf("remote: channel %q twice", ch.Name)
		}
		seen[ch.Name] = true
		if ch.Parallelism > 64 {
			return fmt.Errorf("remote: channel %q parallelism %d over 64", ch.Name, ch.Parallelism)
		}
	}
	if c.MaxFrameSize < 1024 {
		return fmt.Errorf("remote: MaxFrameSize %d below 1024", c.MaxFrameSize)
	}
	return nil
}

func (c Config) channel(name string) (Channel, bool) {
	for _, ch := range c.Channels {
		if ch.Name == name {
			return ch, true
		}
	}
	return Channel{}, false
}
