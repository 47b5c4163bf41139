// Package hyparview is the HyParView membership protocol (Leitão, Pereira,
// Rodrigues, "HyParView: a membership protocol for reliable gossip-based
// broadcast", 2007): a partial view of the cluster per node, small enough
// for clusters of many thousands of nodes, that keeps the overlay connected
// through the failure of most of its nodes. It is the overlay Plumtree was
// designed for.
//
// # What it ports
//
// Partisan's partisan_hyparview_peer_service_manager, the protocol part:
//
//	join, forward_join              Join, ForwardJoin (and JoinAccept, see below)
//	neighbor (high/low priority)    Neighbor{Priority}, NeighborReply
//	disconnect                      Disconnect
//	shuffle, shuffle_reply          Shuffle, ShuffleReply
//	random promotion                Core.Tick
//
// # The views
//
// Each node keeps an active view of ActiveSize peers (log(n)+c; 5 for about
// 10,000 nodes) to which it keeps open connections and over which broadcast
// layers send, and a passive view of PassiveSize peers (k(log(n)+c); 30)
// that it only knows about. The active view is symmetric: a node that adds a
// peer makes the peer add it (JoinAccept, NeighborReply), and one that drops
// a peer tells it (Disconnect).
//
//   - A joining node sends Join to a contact. The contact takes it into its
//     active view (dropping a random peer if full, with Disconnect) and sends
//     ForwardJoin with ActiveRandomWalkLength (ARWL, 6) hops to each of its
//     other active peers. Each hop forwards to a random active peer; at
//     PassiveRandomWalkLength (PRWL, 3) hops left the node on the way adds the
//     joiner to its passive view, and where the walk ends (no hops left, or no
//     one else to forward to) the node takes the joiner into its active view.
//   - A failed active peer (its connection broke, or a send to it failed:
//     PeerDown) is replaced by a passive one, asked with Neighbor: with High
//     priority when the active view is empty, which is never refused, else
//     Low, which is accepted only if the receiver's active view has room. A
//     refusal makes the node ask another passive peer; an unreachable one
//     leaves the passive view.
//   - Periodically (Shuffle) a node sends itself, ShuffleActive (ka, 3) active
//     and ShufflePassive (kp, 4) passive peers on a random walk; the node where
//     the walk ends answers with as many of its passive peers, and both merge
//     what they got into their passive views, dropping first the entries they
//     sent.
//
// # How to use it
//
// Core is a pure state machine: no goroutines, clocks or I/O, and random
// choices from the seeded rand.Rand it is given, so its effects are the same
// for the same inputs. Its owner hands it messages (Handle), failures
// (PeerDown) and periodic ticks (Shuffle, Tick), sends the messages of the
// returned Effects and follows the active view's changes. The simulator of
// package plumtree/sim drives thousands of cores this way in one process.
//
//	c, _ := hyparview.NewCore("n1", hyparview.Config{}, rand.New(rand.NewPCG(seed, 0)))
//	eff := c.Join("n0")
//	for _, s := range eff.Sends { transport.Send(s.To, s.Msg) }
//	// on a message m from peer:     eff = c.Handle(peer, m)
//	// on a lost connection to peer: eff = c.PeerDown(peer)
//	// every shuffle period:         eff = c.Shuffle()
//	// every tick:                   eff = c.Tick()
//
// # The manager
//
// Service is the production manager: a gen_server registered as
// ManagerName, under a supervisor of its own (Start, StartNode) or as a
// worker of the caller's tree (ChildSpec), that owns a Core[string] and
// implements peerservice.Manager, so it stands where the other managers do:
//
//	node, _ := actor.NewNode(actor.Config{Name: "n1"})
//	svc, _ := hyparview.StartNode(node, remote.Config{Cookie: "secret"}, hyparview.ManagerConfig{})
//	_ = svc.SyncJoin(ctx, remote.NodeSpec{Name: "n0", Addrs: []string{"10.0.0.1:7000"}})
//	peers, _ := svc.Active(ctx)
//
// Managers talk over package remote, manager to manager, in one compact
// message type that carries the addresses of every node it names, so that
// a node learns how to reach the nodes that shuffles bring it. The remote
// layer's connection losses (remote.Event PeerDown) are the failure detector
// of the active view, as TCP is in the paper. Shuffles run every
// ShuffleInterval and Core.Tick every TickInterval, which also sends JOIN
// again while the active view is empty. A restarted manager joins again
// through its predecessor's contacts.
//
// In the Manager interface, Members are this node and its active view (as in
// Partisan's HyParView manager), OnUp and OnDown fire as peers enter and leave
// the active view, Subscribe gets the members after each change, and
// GetLocalState returns them as a peerservice.State. InjectPartition spreads
// over the active views for ttl hops; the nodes it reaches and the origin cut
// application traffic to each other (the Policy is the remote layer's filter),
// while the managers' own traffic flows. ForwardMessage, CastMessage and
// SendMessage go straight to the destination node: HyParView keeps no relays.
// Acknowledged forwarding and reservations return ErrUnsupported.
//
// # Where it differs from the paper and from Partisan
//
//   - The end of a join's walk is answered with JoinAccept, which the joiner
//     takes unconditionally; the paper gets the same symmetry from the TCP
//     connection the accepting node opens.
//   - A NEIGHBOR refusal leads to another passive peer, but not to one that
//     refused since the last Tick, so that a node whose passive peers are all
//     full does not ask them in a loop; Tick asks again.
//   - Tick also fills an active view that lost peers to Disconnect, as
//     Partisan's random promotion does; the paper fills it only on failures.
//   - A NEIGHBOR request unanswered for PendingTicks ticks counts as a failed
//     peer, since a send over a network without TCP's connection state may
//     fail silently.
//   - DISCONNECT refills the active view at once (not from the peer that sent
//     it); left for later, the places that a stream of joins takes from older
//     nodes add up and cut a 10,000-node overlay into pieces.
//   - A FORWARDJOIN or SHUFFLE step from a node that is not in the active view
//     is answered with DISCONNECT: messages that crossed left the sender with a
//     link this node does not have, and the answer makes the views symmetric
//     again. The paper has TCP connections to keep them so.
//   - Core is generic in the node identity (Core[N comparable]): the manager
//     uses node names, the simulator small integers.
package hyparview
