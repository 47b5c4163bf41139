// Package peerservice is gotp's peer service: cluster membership, failure
// detection, the shape of the cluster (which nodes keep connections to which),
// relaying, and injected partitions. It is policy on top of package remote,
// which is mechanism.
//
// # What it ports
//
// Partisan's peer service managers: partisan_peer_service_manager (the
// behaviour, here the Manager interface in Go case),
// partisan_pluggable_peer_service_manager (full mesh, the default) and
// partisan_client_server_peer_service_manager (ClientServer):
//
//	myself, members, members_for_orchestration   Myself, Members, MembersForOrchestration
//	join, sync_join, leave/0, leave/1             Join, SyncJoin, Leave, LeaveNode
//	update_members                                UpdateMembers
//	forward_message, cast_message, send_message   ForwardMessage, CastMessage, SendMessage
//	on_up, on_down                                OnUp, OnDown (one node, or "" for any)
//	inject_partition, resolve_partition, partitions   InjectPartition, ResolvePartition, Partitions
//	reserve, supports_capability                  Reserve, SupportsCapability
//	get_local_state, decode                       GetLocalState, Decode
//
// # Use
//
//	node, _ := actor.NewNode(actor.Config{Name: "c1"})
//	svc, _ := peerservice.StartNode(node, remote.Config{Cookie: "secret"},
//		peerservice.Config{Topology: peerservice.ClientServer, Role: peerservice.Client})
//	_ = svc.SyncJoin(ctx, remote.NodeSpec{Name: "s1", Addrs: []string{"10.0.0.1:7000"}})
//	_ = svc.ForwardMessage(ctx, peerservice.ToName("c2", "worker"), "hello", peerservice.ForwardOptions{})
//
// StartNode starts the remote layer with the service's Policy (remote reads
// its Policy at Start, so the policy is made first: NewPolicy, then
// Policy.RemoteConfig, then remote.Start, then Start — StartNode does all
// four). The manager is a gen_server registered as ManagerName under a
// supervisor; managers of other nodes send to that name. To run the service
// in a supervision tree of one's own, ChildSpec gives the child spec of that
// supervisor and the handle on it.
//
// # How it works
//
// A pure core (no goroutines, clocks or I/O) holds membership, the failure
// detector, partitions and pending acknowledged forwards; it takes a message
// or a tick and returns effects (messages to peers' managers, peers to
// disconnect, up/down notifications, membership changes). The manager
// process owns it and carries out the effects.
//
// Membership is an observed-remove set without tombstones (ORSWOT) of
// remote.NodeSpec: a dot per add, made by an actor unique to each
// incarnation of the manager, and a version vector of the dots seen, so a
// remove leaves nothing behind and the state is one entry per member and one
// counter per manager incarnation, however often nodes leave and join again.
// A node that leaves and joins again is a new add that no earlier remove
// covers. Every GossipInterval a node offers its state to GossipFanout random
// peers (the state itself after a change, else only its digest), and every
// heartbeat carries the digest: a peer whose digest differs is sent the
// state, and answers with its own if it still differs after merging
// (push-pull anti-entropy). The digest is hashed again only after a change. A node is the
// authority on its own spec: the adds of its name made by its earlier
// incarnations (an old address, old tags) are removed when it merges them,
// so its current spec is the one every node ends up with.
//
// Acknowledged forwards (ForwardOptions.Ack) are numbered per sender
// incarnation and destination, sent again every RetransmitInterval until
// acknowledged, at most MaxRetransmits times, and then given up. The
// receiving manager delivers them once and in order: it holds back what
// overtook a message still missing (a retransmission through another
// server) and drops what it already delivered. It keeps one record per
// sender incarnation, and forgets it only when nothing is held and the sender
// was silent for MaxRetransmits + 2 intervals, longer than any sender keeps
// sending again, so a duplicate always finds its record.
//
// Every node sends a heartbeat to each peer it keeps a connection to every
// HeartbeatInterval. A peer not heard from for MissedHeartbeats intervals is
// failed: OnDown callbacks run, the node is disconnected (remote.Disconnect,
// so links and monitors across it fire noconnection), and it is probed with
// backoff (ReconnectBackoff doubling to MaxReconnectBackoff) until it answers;
// then OnUp callbacks run. A failed node stays a member until it leaves or is
// removed.
//
// # Client-server
//
// Servers keep connections to every other member; clients keep connections to
// servers only (all servers they know, not just one). A client's Policy
// refuses a connection from another client with a *remote.Refusal that refers
// it to a server; SyncJoin and Join follow the referral. A client's traffic
// for another client is routed through the first server, by name, that its
// failure detector does not hold failed and whose connection the remote
// layer has not reported lost (remote.PeerDown, until remote.PeerUp); with
// all of them lost, the first not held failed, which is dialed again. The
// server's remote layer forwards it. One path per destination keeps each
// sender's messages in order. With no server left, sends fail with
// ErrNoServer.
//
// Clients have no connection to each other to lose, so the peer service
// tells the remote layer when one is gone (remote.DeclareDown), and every
// link, monitor and pending call toward it fires noconnection (matching
// ErrRelayedDown too): a server whose failure detector fails a client tells
// its other clients, and a client whose failure detector fails a server
// declares every other client down, since it cannot tell which of them
// relayed through that server (a false alarm costs a new session, a missed
// one a link that never fires).
//
// Of two peers only one dials the other (a client dials servers; otherwise
// the smaller name dials), except when probing a failed peer, so that two
// nodes never dial each other at the same instant: the remote layer would
// take the second connection for a reconnect and tear the peer down.
//
// # Where it differs from Partisan
//
//   - Partitions cut messages and calls, whoever sends them (the policy is a
//     remote.Filter that the remote layer asks before each send), but not
//     links, monitors or exit signals, and never the managers' own traffic.
//   - Acknowledged forwards go manager to manager; they are delivered once
//     and in order among themselves, but not ordered with unacknowledged
//     messages. A forward unacknowledged after MaxRetransmits retransmissions
//     is given up (and the receiver told to stop waiting for it).
//   - A client knows every member, since it routes to the other clients
//     through a server and must tell their roles; its Members and
//     MembersForOrchestration list the servers and itself, as a Partisan
//     client's membership does, AllMembers and MembershipEvent everyone.
//   - Links, monitors and calls between two clients fire noconnection when
//     the servers' or the client's failure detector finds the path lost
//     (see Client-server), as they would across a lost connection; Partisan
//     keeps no such promise for relayed traffic.
//   - Membership is an ORSWOT (no tombstones) rather than Partisan's
//     state_orset, and quiet gossip rounds carry only a digest.
//   - OnUp and OnDown fire from the failure detector (first heartbeat heard,
//     heartbeats missed), not on connection open and close.
//   - Callbacks and subscriptions run in order on one goroutine of the
//     service's, never on the manager's.
//   - Membership is saved to Config.DataDir as JSON on every change, and
//     restored (and its peers reconnected) at start. Leaving, or being
//     removed, deletes it (as Partisan deletes cluster_state), so a node that
//     left restarts alone.
package peerservice
