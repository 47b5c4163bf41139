// Package dist is the Erlang distribution protocol for gotp nodes: a gotp
// node named name@host joins a cluster of Erlang (and Elixir) nodes as one
// of them. Erlang code sends to gotp processes, calls and casts their
// gen_servers, links to and monitors them, and rpc:calls Go functions; gotp
// processes do the same to Erlang processes with gotp's own API. Its tests
// run against a real erl.
//
// # Use
//
//	node, _ := actor.NewNode(actor.Config{Name: "gonode@myhost"})
//	d, _ := dist.Start(node, dist.Config{Cookie: "secret"})
//	node.Spawn(actor.Server(&counter{}), actor.WithName("counter"))
//
//	% in erl -sname e -setcookie secret
//	gen_server:call({counter, 'gonode@myhost'}, {add, 2}).
//
// Messages are etf terms (package etf): Erlang pids arrive as gotp PIDs and
// gotp PIDs leave as Erlang pids, so a process answers an Erlang sender with
// p.Send as it would any other. See examples/erlang.
//
// # What it speaks
//
//   - EPMD: the node registers its port with the host's epmd (ALIVE2) and
//     finds other nodes' ports through theirs (PORT_PLEASE2). EPMDServer is
//     an epmd of gotp's own for a machine with no Erlang installed; a node
//     that finds no port mapper on its host runs one until it stops.
//   - The handshake, version 6 (OTP 23 and later), or version 5 with a node
//     whose port mapper says it speaks no later one (or that sends it), with
//     the cookie's MD5 challenge both ways, and the capabilities OTP 25 and 26
//     require.
//   - The distribution header with its atom cache (DFLAG_DIST_HDR_ATOM_CACHE)
//     on the way in, and fragmented messages (DFLAG_FRAGMENTS) both ways: a
//     message of more than 64 KiB goes to a peer that takes fragments in
//     parts of 64 KiB.
//   - Control messages: SEND, SEND_SENDER, REG_SEND, ALIAS_SEND, LINK,
//     UNLINK_ID and its ack, EXIT and EXIT2 (and their payload forms),
//     MONITOR_P, DEMONITOR_P, MONITOR_P_EXIT, and SPAWN_REQUEST for erpc (see
//     below); the trace-token forms are accepted, their tokens ignored.
//   - gen_server: '$gen_call' with OTP 24's aliases, '$gen_cast'; gotp calls
//     to Erlang servers monitor the callee as gen:call does.
//   - TLS (Config.TLS), as erl -proto_dist inet_tls runs it, with mutual
//     authentication where the config asks for it.
//   - net_kernel: net_adm:ping is answered; the tick (Config.TickTime, 60 s
//     by default as net_ticktime) keeps idle connections and declares silent
//     ones lost.
//   - rpc:call and erpc:call into Go functions registered with HandleRPC.
//     Since OTP 23 they ask the node to spawn erpc:execute_call; the node
//     carries out that spawn, and no other.
//   - Exit reasons: normal, shutdown, {shutdown, X}, killed, kill, noproc and
//     noconnection are gotp's sentinels (errors.Is); any other term is a
//     *Reason holding it. A Go error with no Erlang counterpart travels as
//     the binary of its text.
//
// A lost connection (closed, refused, silent past the tick) fires
// noconnection for every link, monitor and call across it, and node
// monitors get their node-down, on both sides.
//
// # Hostile input
//
// Before the cookie is proved a peer's messages are at most 1 KiB, a
// handshake has 10 s, and at most 1024 run at once (one more closes the
// oldest). After it, packets are bounded (64 MiB), terms are decoded within
// etf's limits, and a malformed control message closes only its connection.
// FuzzHandle and FuzzParseName hold the node to this.
//
// # Where it differs
//
//   - Messages must be etf terms: a Go value etf cannot encode fails at its
//     sender. Funs from Erlang are refused (logged and dropped).
//   - A link by name, StopProcess and Resolve of an Erlang process, and
//     spawns other than erpc's are not supported (ErrUnsupported, notsup).
//   - With Config.Nodes a node speaks Erlang's distribution to the nodes it
//     picks and gotp's own (package remote) to the rest; without it, only
//     Erlang's.
//   - The distribution header: what the peer sends behind it is read, its
//     atom cache kept per connection, and its fragmented messages put
//     together (at most 64 at once, 64 MiB in all). What this node sends
//     carries a header that names no atoms (it keeps no atom cache of its
//     own); its fragments of one message go one after another, not
//     interleaved with other messages.
//   - Short and long names are used as given: the host part is what the
//     port mapper and the dial are asked.
package dist
