// Package observer is a web observer of a running gotp node and its
// cluster: pages that follow the node's processes, supervision trees,
// connections, membership and raft groups live, and the JSON API behind
// them, for scripts and tests.
//
// # What it ports
//
// Erlang's observer application (and observer_cli, its terminal cousin):
// the System tab is the node page, Processes the process table and a
// process's page, Applications the supervision trees, and the Nodes menu
// the cluster page. Where Erlang's observer is a wx GUI that connects to a
// node over distribution, this one is an http.Handler the node serves
// itself, with plain HTML, CSS and JavaScript pages (embedded with embed; no
// build step and no library, the trees and the membership graph are drawn
// as SVG by a few hundred lines of script) that follow the API through
// server-sent events.
//
// # Use
//
//	srv, err := observer.Start(node, "127.0.0.1:4000", observer.Options{
//		Remote:      r,                          // connections per peer
//		Peers:       svc,                        // membership, detector verdicts, partitions
//		Supervisors: []actor.Dest{actor.Name{Name: "app"}},
//		Rafted:      []rafted.Server{member.Server()},
//	})
//	fmt.Println("observer at", srv.URL())
//
// Start runs the HTTP server as a process (a gen_server that owns an
// http.Server; the server stops when the process ends, also when it is
// killed); ChildSpec puts that process in a supervision tree instead.
// Handler (or New and Observer.Handler) gives the bare http.Handler, to
// mount in a server of your own; the streams it serves end when their
// requests' contexts do, so give that server a BaseContext you cancel
// before Shutdown.
//
// # Security
//
// Start listens on loopback unless told otherwise, and refuses any other
// address with ErrInsecureBind unless Options has a Token or a TLS config
// with ClientAuth tls.RequireAndVerifyClientCert. With a Token every request
// must carry it, as "Authorization: Bearer <token>", as the query parameter
// token (which sets an HttpOnly, SameSite=Strict cookie, so a browser opened
// at http://host:port/?token=... stays signed in), or as that cookie; a
// request over TLS with a verified client certificate needs none. Without a
// Token the handler answers only requests whose Host is localhost or a
// loopback address, so a web page whose DNS name is rebound to 127.0.0.1
// cannot reach it.
//
// The observer is read-only unless AllowActions is set. Then two POST
// endpoints act, each requiring the header X-Gotp-Observer (which no
// cross-site form can send): killing a process (exit with actor.Kill), and
// restarting a supervisor's child (supervisor.TerminateChild followed by
// RestartChild).
//
// # The JSON API
//
// Every page is drawn from these endpoints; the pages fetch nothing else.
// PIDs are written as <node.creation.id>; in a URL path they may be
// percent-encoded, written without the brackets, or given as the bare id of
// a process of this node. Errors are {"error": "..."} with status 400 for a
// malformed parameter (never a panic), 401 for a missing token, 403 for a
// refused action, 404 for a process, child or panel that does not exist,
// 504 when a process the observer asked did not answer within CallTimeout.
//
//	GET  /api/node                 NodeInfo: name, creation, uptime (since the observer started), process and
//	                               running counts, queued messages, goroutines, memory, peers with connections per channel
//	GET  /api/processes            ProcessTable; parameters sort=id|name|status|mailbox|links|monitors,
//	                               order=asc|desc, filter=<substring of PID or name>, status=waiting|running,
//	                               offset=N, limit=N
//	GET  /api/process/{pid}        ProcessDetail: the row plus links, monitors, monitored-by (with names),
//	                               parent and the known supervisor it belongs to
//	GET  /api/process/{pid}/state  ProcessState: the state of a process started by Inspectable (404 for others,
//	                               which are never sent the request)
//	GET  /api/supervisors          []SupervisorTree: the trees under Options.Supervisors (and the peer service's),
//	                               plus root=<pid|name> parameters (repeatable)
//	GET  /api/cluster              ClusterInfo: members with roles and the failure detector's verdicts,
//	                               this node's connections (edges), partitions, gossip digest
//	GET  /api/rafted               []RaftGroup: state, term, leader, members, unresponsive followers
//	GET  /api/panels               the panels' names; kind=K: the names of the panels of kind K
//	GET  /api/panels/{name}        a panel's data
//	GET  /api/events?view=V&...    server-sent events: "update" with view V's JSON at once and every
//	                               RefreshInterval, "failed" with {"error"} when it fails; V is node,
//	                               processes, process (pid=), supervisors (root=), cluster, rafted,
//	                               panel (name=), each with its endpoint's parameters
//	POST /api/process/{pid}/kill                 with AllowActions
//	POST /api/supervisor/{pid}/restart/{id}      with AllowActions
//
// The pages live at / (one page that routes on its fragment: #/node,
// #/processes, #/process/<pid>, #/apps, #/cluster, #/panels).
//
// # Showing a process's state
//
// A process whose behaviour (or GenServer) implements actor.Inspector shows
// its state on its process page ("Show state"): the observer asks with
// actor.Node.Inspect, which the runtime answers on the process's own
// goroutine, in order with its mailbox, like sys:get_state; a process whose
// behaviour has no Inspect is never disturbed. Supervisors implement it.
// Inspectable(behaviour, server) wraps a gen_server to give it a behaviour
// name of its choosing, and its Inspector a place in the table:
//
//	supervisor.BehaviorWorker("cache", func() actor.Behavior { return observer.Inspectable("cache", &cache{}) })
//
// # Panels
//
// Components that gotp adds later (broadcast trees, ensembles, replicated
// tables) show themselves through Options.Panels: a Panel is a name, a kind
// and a function returning JSON-encodable data, listed on the panels page
// and served at /api/panels/{name}. A panel that panics is reported as an
// error. TablesPanel, PlumtreePanel and EnsemblePanel are built in; the
// cluster page draws the panels of kind KindPlumtree (the eager/lazy tree of
// a root as a graph, with a choice of root when there are several) and
// KindEnsembles (leader, term, members, commit and applied indexes and
// follower lag), the panels page shows every panel as JSON.
//
// # Metrics
//
// Package observer/metrics exports the same data to Prometheus. It is the
// only package that imports github.com/prometheus/client_golang: a program
// that imports observer alone does not compile it. Options.Routes serves
// its handler beside the pages, behind the same authentication:
//
//	obs, _ := observer.New(node, opts)
//	h, _ := metrics.Handler(obs, metrics.Options{})
//	opts.Routes = map[string]http.Handler{"GET /metrics": h}
//	srv, _ := observer.Start(node, addr, opts)
//
// # Where it differs from Erlang's observer, and what is missing
//
// It shows what the runtime exposes, and no more: a process's behaviour
// (actor.ProcessInfo.Behavior: the GenServer's type, "supervisor" for
// supervisors), start time and count of messages handled come from the
// runtime, and each peer's frames and bytes in and out and its queued bytes
// from remote.ConnStats (the node page turns the frame counts into rates
// between two looks). A process's state is what its behaviour's
// actor.Inspector returns (actor.Node.Inspect, as sys:get_state), or what
// Inspectable's wrapper shows; a supervisor shows its strategy, intensity and
// restart counts that way. Each peer's round trips are its handshake's
// (remote.ConnStat.HandshakeRTT) and its live connections' latest
// (remote.ConnStat.RTT, measured every quarter of the net tick time); the
// node's message rate comes from actor.Node.MessagesHandled; call counts and
// latency are metrics, from actor.Node.ObserveCalls; raft groups show their
// commit and applied indexes and, on the leader, each follower's lag, from
// rafted.Status, and ensembles the same from their leaders'
// ensemble.PeerStatus. Supervisors are the roots given plus every
// supervisor whose parent is not one (found by the behaviour the runtime
// reports). The cluster page draws this
// node's view: its own connections, and the verdicts of its own failure
// detector.
package observer
