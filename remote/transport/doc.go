// Package transport carries frames between nodes: whole, already-encoded
// messages, in order, over connections. It knows nothing of what the frames
// hold; the wire codec and the node handshake live above it, in package remote.
//
// Two implementations share the Transport interface:
//
//   - TCP, the real one: TCP, optionally with mutual TLS 1.3.
//   - Network, an in-memory network for tests, with partitions, disconnects,
//     drops, delays and a frame hook, seeded so a failing run replays. It is
//     ordinary (non-test) code so that every package's tests can use it.
//
// # What it ports
//
// The role of Erlang's distribution carrier (inet_tcp_dist, inet_tls_dist):
// a stream between two nodes on which the distribution protocol sends
// length-prefixed packets ({packet, 4}). Unlike Erlang, the handshake is not
// part of the carrier, and the transport hands over frames, not a socket.
//
// # Connections
//
// A Conn carries frames both ways. One goroutine writes with WriteFrames while
// another reads with ReadFrame; neither may be called from two goroutines at
// once. WriteFrames takes a batch: a TCP Conn writes a batch with one write
// call (length prefixes and payloads under 16 KiB copied into one buffer,
// larger payloads passed to writev by reference), so the layer above should
// queue frames and write whatever is queued in one call, in the nats-server
// manner. ReadFrame returns a fresh slice per frame, which the caller owns.
//
// Endings, on both implementations:
//
//   - The peer's Close shows up as io.EOF from ReadFrame, after every frame the
//     peer wrote before closing (io.ErrUnexpectedEOF if a TCP stream ends
//     mid-frame).
//   - The local Close makes a ReadFrame or WriteFrames in progress, and every
//     later call, return an error matching ErrClosed (and net.ErrClosed).
//     Close may be called from any goroutine, as often as you like.
//   - A frame over the maximum size: WriteFrames refuses the whole batch,
//     writing nothing, and the Conn stays usable; ReadFrame returns
//     ErrFrameTooLarge having read only the length prefix, and the Conn
//     must be closed.
//   - Any other write error (including TCP.WriteTimeout) leaves a TCP Conn
//     broken: every later WriteFrames returns the same error. Close it.
//
// WriteFrames on TCP blocks while the kernel's send buffer is full; a peer that
// stops reading blocks the writer until TCP.WriteTimeout, or until Close.
//
// # Frame format
//
// On a stream each frame is a 4-byte big-endian payload length followed by the
// payload. Lengths above the MaxFrameSize in force (DefaultMaxFrameSize,
// 16 MiB, unless set) are refused before anything is allocated. Empty frames
// are allowed.
//
// # TLS
//
// Set TCP.TLS to make every connection TLS 1.3 (a lower MinVersion in the
// config is raised; a MaxVersion below 1.3 is an error). One tls.Config serves
// both sides; for mutual authentication give it the node's Certificates,
// RootCAs to verify servers, and ClientCAs with
// ClientAuth: tls.RequireAndVerifyClientCert to verify clients. Dial sets
// ServerName to the host of the dialed address when the config leaves it
// empty, so certificates must name the addresses (IP or DNS) nodes dial.
// Package tlstest makes such certificates for tests.
//
// Handshakes on the listening side run on their own goroutines (at most 64
// pending), bounded by TCP.HandshakeTimeout, so a client that stalls delays no
// one. A client that fails its handshake is closed and logged to TCP.Logger,
// and never reaches Accept: Accept returns only connections that completed
// their handshake, and fails only when its ctx ends or the listener is closed.
//
// Dial returns a *HandshakeError (matching ErrHandshake, reading
// "tls handshake with <addr>: ...") when the server's certificate is refused.
// In TLS 1.3 the server checks the client's certificate after the client has
// finished its part of the handshake, so a client the server refuses sees Dial
// succeed and its first ReadFrame fail with a *HandshakeError carrying the
// server's alert ("remote error: tls: certificate required", "unknown
// certificate authority"). The layer above should treat an error from the
// first ReadFrame as a failed connection, not as a peer that went away.
//
// # The in-memory network
//
// NewNetwork(seed) makes a network; Transport(addr) is the view of one node,
// which listens at addr and sends frames from addr. Dial connects at once or
// fails at once: ErrUnreachable when nothing listens at the address or it is
// partitioned away. Dial does not wait for Accept (the listener queues
// connections, like a TCP backlog). WriteFrames never blocks: each direction
// of a connection has an unbounded queue. Frames are copied on write. ReadFrame
// and Accept block on channels only, so a goroutine waiting in them is durably
// blocked for testing/synctest.
//
// Faults, applied to each frame as it is written, in this order:
//
//  1. Partition and Isolate: frames between addresses that cannot reach each
//     other are dropped; open connections stay open (heal, and frames flow
//     again), and new dials fail.
//  2. SetDrop: each frame is dropped with the probability of the most
//     specific matching rule.
//  3. SetHook: the hook sees the surviving frame and may rewrite or drop it.
//  4. SetDelay: the frame is delivered after the rule's delay plus a random
//     jitter, but never before a frame written earlier on the same connection
//     (head-of-line blocking, as on TCP).
//
// Disconnect is a link going down: every connection between two addresses
// ends on both sides (frames already delivered are read, then io.EOF; frames
// in flight are lost; writes fail with ErrClosed). Closing one end delivers the
// frames it wrote, after their delays, and then io.EOF to the other end; frames
// on their way to the closed end are discarded and the other end's writes fail.
// Stats counts frames sent, delivered, dropped and lost.
//
// Determinism: every random draw (drop decisions, jitter) comes from one
// source seeded by NewNetwork, drawn under a lock in the order frames are
// written. The same seed and the same sequence of writes and fault settings
// give the same drops and the same delays. Delays use time.AfterFunc, so
// inside a testing/synctest bubble they run on the fake clock and a test
// replays exactly; create the Network inside the bubble.
//
//	synctest.Test(t, func(t *testing.T) {
//		network := transport.NewNetwork(42)
//		network.SetDelay("a", "b", 10*time.Millisecond, 5*time.Millisecond)
//		network.SetDrop("", "b", 0.1)
//		listener, _ := network.Transport("b").Listen("b")
//		conn, _ := network.Transport("a").Dial(t.Context(), "b")
//		...
//	})
package transport
