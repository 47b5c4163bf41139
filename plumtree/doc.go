// Package plumtree is gotp's epidemic broadcast: Plumtree ("Epidemic
// Broadcast Trees", Leitão, Pereira and Rodrigues, 2007) as Partisan's
// partisan_plumtree_broadcast and riak_core_broadcast run it. A broadcast
// server per node takes messages and delivers each to every member at least
// once, pushing payloads eagerly along a spanning tree per root and
// announcing them lazily (message ids only) along the remaining links, which
// repair the tree when it breaks.
//
// # What it ports
//
//	partisan_plumtree_broadcast          Server, Start, ChildSpec
//	partisan_plumtree_broadcast_handler  Handler (ChannelHandler for broadcast_channel/0)
//	broadcast/2                          Server.Broadcast
//	broadcast_members/0,1                Server.BroadcastMembers
//	update/1                             Server.Update (and the peer service's membership events)
//	exchanges/0,1                        Server.Exchanges, Server.ExchangesOn
//	cancel_exchanges/1                   Server.CancelExchanges (an ExchangeFilter)
//	get_peers/1, debug_get_peers/2,3     Server.GetPeers, Server.DebugGetPeers
//	debug_get_tree/2,3                   Server.DebugGetTree (Down for a node that did not answer)
//	start_link/5 (Members, Eagers, Lazys) Config.Members, Config.Eagers, Config.Lazys
//	lazy_tick_period, exchange_tick_period  Config.LazyTickPeriod, Config.ExchangeTickPeriod
//	broadcast_start_exchange_limit       Config.StartExchangeLimit
//	exchange_selection (optimized|normal) Config.ExchangeSelection
//
// The protocol messages are the seed's: Broadcast (payload along an eager
// link, with its round, the hops from the root), Prune (a duplicate arrived:
// make this link lazy), IHave (an id along a lazy link), IgnoredIHave (I
// have it already) and Graft (I miss it: send it and make this link eager).
// Every lazy push is outstanding until acknowledged by an IgnoredIHave (or a
// stale graft) and is announced again on every lazy tick until then, so a
// lost announcement, a lost graft answer or a healed partition is repaired.
// Members removed from the membership take their outstanding pushes with
// them; new members join every tree as eager peers and the per-root trees
// start over (the paper: a new member is simply added to eagerPushPeers).
//
// # Use
//
//	svc, _ := peerservice.StartNode(node, remote.Config{Cookie: "secret"}, peerservice.Config{})
//	store, _ := metadata.Start(node, metadata.Config{}) // or a Handler of your own
//	srv, _ := plumtree.Start(node, svc, plumtree.Config{Handlers: []plumtree.Handler{store}})
//	store.Bind(srv)
//	_ = store.Put("feature/x", []byte("on")) // a metadata.Update, broadcast by srv.Broadcast
//
// The server is a gen_server registered as ServerName (Config.Name) under a
// supervisor of its own; ChildSpec puts it in a tree of the caller's instead.
// The servers of other nodes are reached by that name on their nodes, by
// plain sends (on the handler's channel when it is a ChannelHandler), so a
// partition the peer service injects cuts them as it cuts any application
// traffic. The membership comes from the peer service at start (unless
// Config.Members gives it) and follows its membership events.
//
// The server never stores payloads: the handler owns storage,
// deduplication and the lookup grafts need, exactly as in the seed. The
// handler answers Merge (was this payload new?), IsStale (do I have this
// id?), Graft (give me this payload) and Exchange (start anti-entropy with
// this peer). A handler method that panics or errors is logged and the
// message it was asked about is dropped, as if it was lost on the wire; the
// lazy announcements repair it later and the server lives on. Package
// plumtree/metadata is a handler ready to use: a replicated, eventually
// consistent key/value store.
//
// # The pure core
//
// The protocol is Core: no goroutines, clocks, I/O or user code. It takes a
// message, a tick or a handler's answer with the time, and returns Effects
// (send this message to that node, start an exchange, arm a graft timer) in
// a deterministic order: equal inputs give equal outputs, random choices
// come from a generator seeded by CoreConfig.Seed and the node name, and no
// effect is emitted by ranging over a map. The server is a thin shell that
// owns a Core and carries its effects out. The core does not call handlers:
// the shell asks the handler first and passes the answer in (Verdict), so a
// simulator answers synchronously and drives thousands of cores in one
// process with the very code production runs (see docs/plumtree-experiments.md).
//
// # Initial peers
//
// With Config.Eagers and Config.Lazys unset, the initial peers come from
// riak_core's init_peers rule (InitPeers): none for a single node, the other
// node for two, an eager tree of fanout 1 plus one lazy peer for 3–4 nodes,
// fanout 2 for 5–9, and round(ln N + 1) for ten or more. Partisan instead
// starts with every member eager. With full membership (the peer service
// gives every node every member, not a HyParView partial view) that makes
// the first broadcast of every root cost N−1 payloads at every node, N² in
// all, and every membership change starts it over; the riak_core tree costs
// about fanout·N, and pruning turns it into a spanning tree just the same.
//
// # Paper options
//
// Off by default, as Partisan lacks them:
//
//   - CoreConfig.GraftTimeout (the paper's timeout1) and GraftRetryTimeout
//     (timeout2): an IHave for a missing message arms a timer instead of
//     grafting at once; only if the message is still missing when it fires
//     is the first announcer grafted, then the next after timeout2. The
//     message's arrival by any path cancels its timers and forgets its
//     announcements, so a timer that fires late never grafts a message
//     already delivered, and a graft whose answer is lost is retried from
//     the next announcement. (This is how the package reads the correction
//     the 2019 revision of the technical report made to Algorithm 1; the
//     tests pin the behaviour down, whatever the wording of that text.)
//   - CoreConfig.OptimizationThreshold: the optimization step. An IHave
//     whose round is at least the threshold below the round the message
//     arrived with makes the announcer eager (a Graft marked Optimize, which
//     asks for no payload) and the eager sender lazy (a Prune). The paper
//     uses 3 with one sender and 7 with many.
//   - CoreConfig.LazyMode: LazyPerTick (the default) sends IHaves only at
//     the lazy tick, all of the period's at once; LazyImmediate sends each at
//     once and again every tick until acknowledged, as Algorithm 1 does.
//
// # Where it differs from Partisan
//
//   - A fresh payload from a peer this node holds lazy means a Prune crossed
//     that payload on the wire: the node takes the sender eager again and
//     tells it so (a Graft marked Optimize). Partisan re-adds the sender on
//     its own side only; under concurrent broadcasts from one root two
//     crossed prunes then leave a node with no eager link into the tree, and
//     the tree flaps between broken and grafted.
//   - Initial peers by riak_core's rule, not everyone eager (above).
//   - Message ids are any comparable value the wire carries; payloads any
//     value the wire carries (see package remote/wire). Protocol messages
//     travel as wire lists, not Erlang terms.
//   - CancelExchanges takes a filter (peer, handler, PID; zero for all)
//     instead of all | {peer, Node} | {mod, Mod} | Pid | Ref.
//   - The exchange tick picks its root among all members (as Partisan) but
//     does not restrict peers to connected ones: the core knows no
//     connections, and an exchange with an unreachable peer fails and ends.
//   - Handler.Exchange is given the server's process to spawn from, where
//     an Erlang handler spawns from the server's process implicitly.
package plumtree
