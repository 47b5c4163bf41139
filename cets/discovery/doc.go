// Package discovery finds the nodes of a cluster and joins replicated tables
// (package cets) across them: a port of CETS's cets_discovery, with its file
// backend (cets_discovery_file), the status report of cets_status, and
// MongooseIM's SQL backend (mongoose_cets_discovery_rdbms). DESIGN.md's
// cets.Discovery is discovery.Discovery: discovery has a package of its own
// so that tables do not depend on backends, DNS or SQL.
//
// # Use
//
//	node, _ := actor.NewNode(actor.Config{Name: "gotp@10.0.0.1"})
//	r, _ := remote.Start(node, remote.Config{Cookie: "secret", Listen: []string{"10.0.0.1:7000"}})
//	d, _ := discovery.Start(node, discovery.Config{
//		Backend: &discovery.DNSBackend{Name: "gotp.default.svc.cluster.local", Port: 7000},
//		Tables:  []string{"sessions"},
//		Joiner:  joiner, // joins tables of package cets
//		Network: discovery.RemoteNetwork(r),
//	})
//	_ = d.WaitForReady(ctx) // the tables hold the other nodes' data
//
// Start runs the process under a supervisor of its own; ChildSpec puts it in
// the caller's tree instead. The process registers Config.Name (default
// DefaultName); every node of a cluster uses the same name, since discovery
// processes talk to each other through it.
//
// # How it works
//
// The discovery process asks its Backend for the cluster's nodes: at once,
// then again after a wait that depends on how things stand (the retry
// type), exactly as in CETS:
//
//	after_error     1 s     the last backend call failed (a node list file not there yet)
//	initial         5 s     the first 5 minutes, until another node's discovery makes contact
//	after_nodedown  30 s    a node went down less than 30 s ago (heal a netsplit soon)
//	regular         5 min   otherwise
//
// All of them are Config fields. A node connecting, or a table added, asks at
// once. Never two backend calls run at once: one asked for during a call
// sets a retry flag, and runs as soon as the call returns.
//
// The process connects (through its Network) to every node found that is
// not connected; one that cannot be reached is unavailable until it
// connects. With every node connected it joins each tracked table with the
// same table on that node (both registered under the table's name), one
// table and one node at a time so that two large tables are never copied at
// once, and records a JoinResult per pair. When a node comes back after a
// netsplit, its node-up makes discovery join again, and the tables converge
// (the join merges both sides, as a first join does). Without discovery
// tables stay split: they do not rejoin by themselves.
//
// Discovery processes send each other their start times when their nodes
// connect; contact with another one ends the initial phase, and a start time
// seen before tells a reconnect after a netsplit from a restart.
//
// WaitForReady returns once the initial discovery is done: the last backend
// call succeeded, every node found is connected or known unavailable, and
// every table has a join result with every connected node. WaitForGetNodes
// waits only for the backend call running (and one asked for meanwhile).
// SystemInfo returns every field of the process's state; Info describes the
// tracked tables (cets.GetInfo of each); Status analyses the
// cluster as cets_status does (available, unavailable, joined and discovered
// nodes, nodes without discovery, unknown, missing and conflicting tables).
//
// The protocol logic is a pure core (messages and ticks with the time
// passed in, effects out, in a fixed order); the gen_server shell runs
// backend calls, connects and joins on goroutines of their own and carries
// out the core's effects.
//
// # Backends
//
//   - StaticBackend (Static): a fixed list.
//   - FileBackend: names in a file, re-read on every call and split on spaces,
//     CR and LF; a missing file is an error, so discovery retries every second
//     until it appears.
//   - DNSBackend: the A/AAAA records of a name (each address a node, at
//     Port) or the SRV records of a service (each target a node, at its
//     port); a Kubernetes headless service works as it is. A name that does
//     not exist is an empty cluster. The Resolver is injectable.
//   - PeerServiceBackend: the peer service's membership.
//   - SQLBackend: a table in PostgreSQL, as MongooseIM runs CETS in
//     production: each node registers with the first free node number,
//     refreshes its row on every call by the database's clock, deletes rows
//     not refreshed for an hour, and keeps to its cluster name suffixed with
//     ProtocolVersion.
//   - BackendFunc: a function, for tests and small programs.
//
// A backend returns remote.NodeSpec values: a name, and the addresses to
// dial when the backend knows them (DNS, SQL, the peer service). Names
// without addresses are dialled as the remote layer knows them
// (remote.Config.Resolve, earlier handshakes).
//
// # Where it differs from CETS
//
//   - Nodes are reached through a Network: RemoteNetwork dials with the
//     remote layer (net_kernel:connect_node) and watches its peer events
//     (net_kernel:monitor_nodes); PeerServiceNetwork joins through the peer
//     service and follows its failure detector. CETS's pre-connect check
//     from every connected node (against global's overlapping-partition
//     kicks) has no counterpart: gotp has no global.
//   - Tables are joined through a Joiner (package cets provides one), so
//     discovery does not depend on the tables' types.
//   - Of two nodes that look for each other at once (both discovery
//     processes check at the same moment when a netsplit heals) the one
//     with the smaller name dials first and the other waits
//     Config.ConnectDelay (1 s) before dialing, and does not if a connection
//     came up meanwhile, so that the two do not dial each other at the same
//     instant (which the remote layer survives, with one spare connection
//     more). The peer service follows the same rule.
//   - A start time not seen before is answered with this process's own, so
//     a discovery process started after its node connected to others (whose
//     node-up found no discovery process to tell) learns their start times
//     too; in CETS it would not.
//   - A timer replaced by a newer one is ignored when its message arrives,
//     instead of being flushed from the mailbox.
//   - Time stamps are time.Time values; SystemInfo is a struct whose fields
//     are the state map's keys in Go case (timer_ref becomes TimerSet and
//     TimerDue, the pending waiter lists their counts).
//   - A name that DNS does not know is an empty cluster, not an error.
//   - The SQL backend takes any database/sql handle on PostgreSQL; its
//     queries are MongooseIM's.
package discovery
