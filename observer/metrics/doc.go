// Package metrics exports what the observer sees of a gotp node as
// Prometheus metrics, with github.com/prometheus/client_golang.
//
// It is a package of its own so that only programs that import it compile
// client_golang: package observer does not import it, and neither does
// anything else in gotp. (The dependency is still listed in gotp's go.mod;
// Go's module graph pruning keeps it out of the builds of users who do not
// import this package.)
//
// # Use
//
//	obs, _ := observer.New(node, observer.Options{Remote: r, Peers: svc, Supervisors: []actor.Dest{app}})
//	h, _ := metrics.Handler(obs, metrics.Options{GoCollector: true})
//	http.Handle("/metrics", h)
//
// or register NewCollector's Collector in a registry of your own. Every
// scrape reads the node afresh (the process table, WhichChildren of each
// supervisor, the peer service's stats, each raft group's status), bounded
// by Options.ScrapeTimeout; a supervisor that does not answer is reported
// by gotp_supervisor_up 0.
//
// # Metrics
//
// Every metric carries the constant label node. With the default namespace:
//
//	gotp_processes{status}                         gauge: live processes, status "waiting" or "running"
//	gotp_mailbox_messages                          gauge: messages waiting in all mailboxes
//	gotp_messages_handled_total                    counter: mailbox entries the node's processes handled
//	gotp_mailbox_depth                             histogram: one observation per live process, its mailbox length
//	gotp_goroutines                                gauge: goroutines of the OS process
//	gotp_call_duration_seconds                     histogram: calls made on the node, by duration
//	gotp_calls_failed_total                        counter: calls that ended with an error
//	gotp_supervisor_children{supervisor}           gauge: child specs
//	gotp_supervisor_children_active{supervisor}    gauge: children whose process is alive
//	gotp_supervisor_restarts_total{supervisor}     counter: restarts the supervisor made after children exited (its own count)
//	gotp_supervisor_restarts_observed_total{supervisor}  counter: child PID changes the observer noticed
//	gotp_supervisor_up{supervisor}                 gauge: 1 if the supervisor answered
//	gotp_remote_peers                              gauge: connected peers
//	gotp_remote_connections{peer,channel}          gauge: connections up
//	gotp_remote_bytes_total{peer,direction}        counter: bytes in and out
//	gotp_remote_frames_total{peer,direction}       counter: frames in and out
//	gotp_remote_queue_bytes{peer}                  gauge: bytes waiting in the send queues
//	gotp_remote_handshake_rtt_seconds{peer}        gauge: the shortest handshake round trip
//	gotp_remote_rtt_seconds{peer}                  gauge: the shortest round trip live connections last measured
//	gotp_membership_members                        gauge: members this node knows
//	gotp_detector_verdicts{verdict}                gauge: members by verdict, "self", "up", "down"
//	gotp_partitions                                gauge: injected partitions held
//	gotp_gossip_rounds_total                       counter: gossip rounds
//	gotp_rafted_term{group}                        gauge: the group's Raft term
//	gotp_rafted_is_leader{group}                   gauge: 1 if the member asked leads
//	gotp_rafted_members{group}                     gauge: the group's members
//	gotp_rafted_unresponsive_followers{group}      gauge: followers silent for an election timeout
//	gotp_rafted_commit_index{group}                gauge: the last index the member knows committed
//	gotp_rafted_applied_index{group}               gauge: the last index the member applied
//	gotp_rafted_follower_lag{group,follower}       gauge: on the leader, entries a follower is behind
//
// # Two restart counters
//
// There are two restart counters, because they count different things.
// gotp_supervisor_restarts_total is the supervisor's own count
// (supervisor.State.Restarts, read with actor.Node.Inspect): every restart
// it made because a child exited, the ones it weighs against its
// intensity, also when several happen between two scrapes; it starts from
// 0 when the supervisor does, so a supervisor restarted by its parent
// resets it, as a Prometheus counter may. It is absent for a supervisor
// that did not report its state. gotp_supervisor_restarts_observed_total
// counts the child PID changes the observer noticed between two looks:
// two crashes between scrapes count as one, but a restart asked for with
// supervisor.RestartChild, which the supervisor does not count, does.
// Alert on the first; the second is kept for dashboards built on it.
package metrics
