// Package remote is gotp's distribution layer: it makes a send, call, cast,
// link or monitor work the same whether the other process is on this node or
// on another.
//
// It ports the mechanism of Erlang distribution (dist_util's handshake with a
// cookie, net_kernel's connect-on-demand, node monitors) and the channel model
// of Partisan (named channels, several connections per peer, monotonic
// channels). It is mechanism only: which nodes should be connected, and
// through whom a message reaches a node with no direct connection, is decided
// by a Policy that the peer service installs.
//
// # Use
//
//	node, _ := actor.NewNode(actor.Config{Name: "a"})
//	r, _ := remote.Start(node, remote.Config{Cookie: "secret", Listen: []string{"127.0.0.1:7001"}})
//	_ = r.Connect(ctx, remote.NodeSpec{Name: "b", Addrs: []string{"127.0.0.1:7002"}})
//	reply, err := node.Call(ctx, actor.Name{Node: "b", Name: "kv"}, "get")
//
// After Start, PIDs of other nodes work with every actor API. A node dials a
// peer the first time something is addressed to it, if it knows the peer's
// addresses (from Connect, Learn, an earlier handshake or Config.Resolve).
//
// # Connections and the handshake
//
// Every connection starts with a handshake: names (a dialer that expected
// another name is refused), creations (a restarted peer is a new peer: the old
// one goes down, and PIDs of its old life answer noproc), the protocol
// version, and a challenge-response over a shared cookie in both directions,
// so the cookie never crosses the wire. With transport.TCP{TLS: ...} the same
// connections run over TLS 1.3 with mutual authentication. A refusal is logged
// on both sides with its reason and no process message crosses a refused
// connection.
//
// A cookie proves membership of the cluster, not identity. Each side of a
// session keeps a random token, exchanged (masked) in the handshake of the
// session's first connection. A further connection from a node that has a
// live session here, by the same name and creation, joins the session only
// with its token; a node that saw the session end and began another proves
// it knew the last one (a proven reconnect), which then ends here too. Any
// other claimant is refused with ErrSessionProof, and the live session is
// untouched: a cookie holder cannot slip messages into another node's session
// or, by hanging up, end it. (A claimant with another creation is taken for
// a restart of the node, as in Erlang; Config.RequireCertName binds names to
// certificates where that matters.) The protocol version is 5 (3 brought tokens, 4 the
// round-trip probes, 5 registered Go types encoded by their fields).
//
// Until a peer has proved the cookie it is a stranger: its frames may be at
// most 4 KiB (a length prefix claiming more closes the connection before
// anything is allocated), its connection holds a small read buffer, and it
// has HandshakeTimeout to finish. At most Config.MaxHandshakes inbound
// connections are in their handshake at once; one more closes the oldest,
// so sockets that connect and say nothing (plain or TLS) cost about 10 KiB
// and a goroutine each, and never delay a peer that does finish.
//
// # Messages on the wire
//
// Frames carry protobuf envelopes (see package wire for the value mapping:
// scalars, PIDs, refs, errors, any proto.Message, and Go types registered with
// wire.Register). A message that cannot be encoded is an error at the sender;
// one that cannot be decoded at the receiver is logged and dropped, except a
// call, whose caller gets the decoding error as the call's error. A message
// larger than MaxFrameSize is an error at the sender; a malformed frame, or an
// envelope that names no valid destination here (a reply or call without a
// reference, a destination of no node, a sender claiming to be this node),
// closes its connection (and so takes the peer down) with a logged reason and
// is never delivered. Calls pending when a peer goes down fail with an error
// that matches actor.ErrNoConnection and the cause (a refused handshake
// matches ErrBadCookie, for one).
//
// # Delivery and ordering
//
// Each peer has one connection per channel and index. When both nodes dial
// a slot at once, the acceptor gives the peer's connection the slot (and
// what was queued on its own dial) if its own dial is not through yet; else
// the extra connection only carries the peer's traffic in. A connection that
// fails before it was ever up while the peer is up over another hands its
// queue and slot to that one (a node that cannot dial a client back still
// reaches it); only with nothing up is the peer taken down, so what was queued
// is never dropped unseen.
//
// Everything one process sends over a channel takes the same connection, so
// messages and signals between two processes stay in order across the wire.
// A send can name a channel and a partition key (SendOptions). On a
// Monotonic channel only the newest message of each sender-receiver stream
// waits in a queue.
//
// Each connection has a send queue bounded in bytes (Config.SendQueueBytes). A
// full queue fails the send with ErrSendQueueFull (FullQueueError, the
// default); with SendOptions.Block the sender waits for room until its context
// ends. Queues never grow past their bound and never drop silently. A writer
// takes the whole queue at once and writes it with one call, so small messages
// share syscalls under load.
//
// A relay (a node a Policy routes others' traffic through) hands on what it
// cannot pass at once from a per-source, per-destination queue, so one slow
// destination delays nothing else on the source's connection. Past
// SendQueueBytes queued for one destination it tells the source to hold back:
// the source's messages and calls for that destination fail with
// ErrSendQueueFull (or wait, with Block) until the relay has room. Signals
// still go, and the relay drops nothing it took.
//
// A node remembers departed peers (their addresses and last session tokens) up to
// a bound of 4096, forgetting the oldest first; a peer forgotten and back
// later is a new peer, reached again through Connect, Learn or Resolve.
//
// A signal (a DOWN, an exit, a link, a reply) is never dropped for a full
// queue: signals may use a reserve beyond the bound, and a signal that finds
// even that full gives the connection up, so that noconnection fires for
// everything across it instead.
//
// Every connection ticks as Erlang's net_kernel does (Config.NetTickTime,
// default 60 s): every quarter of it a connection sends a probe its peer
// answers at once (an empty frame while the last probe is out), and one
// that hears nothing for the whole of it is declared lost, so a frozen peer
// (SIGSTOP, a hung host) is detected. The time to a probe's answer is the
// live path's round trip, queueing included: ConnStat.RTT. A peer of another
// protocol version is refused.
//
// Losing any connection to a peer takes the peer down: every connection to it
// closes, every link and monitor across it fires with noconnection, node
// monitors get NodeDownMessage, pending calls fail with noconnection, and
// subscribers get a PeerDown event. Nothing the lost session's connections
// still held is delivered after that (each peer session delivers through an
// actor.Session). The node-down is delivered without the lock that sends to
// other nodes take, and the next send to the lost node dials again, as a new
// session, once it has been.
package remote
