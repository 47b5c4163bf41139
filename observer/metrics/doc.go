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
//	gotp_mailbox_depth                             histogram: one observation per live process, its mailbox length
//	gotp_goroutines                                gauge: goroutines of the OS process
//	gotp_supervisor_children{supervisor}           gauge: child specs
//	gotp_supervisor_children_active{supervisor}    gauge: children whose process is alive
//	gotp_supervisor_restarts_observed_total{supervisor}  counter: restarts the observer noticed
//	gotp_supervisor_up{supervisor}                 gauge: 1 if the supervisor answered
//	gotp_remote_peers                              gauge: connected peers
//	gotp_remote_connections{peer,channel}          gauge: connections up
//	gotp_membership_members                        gauge: members this node knows
//	gotp_detector_verdicts{verdict}                gauge: members by verdict, "self", "up", "down"
//	gotp_partitions                                gauge: injected partitions held
//	gotp_gossip_rounds_total                       counter: gossip rounds
//	gotp_rafted_term{group}                        gauge: the group's Raft term
//	gotp_rafted_is_leader{group}                   gauge: 1 if the member asked leads
//	gotp_rafted_members{group}                     gauge: the group's members
//	gotp_rafted_unresponsive_followers{group}      gauge: followers silent for an election timeout
//
// # What is missing, and why
//
// The runtime does not count messages handled or sent per process, call
// latency, restarts per supervisor (the restart metric counts the PID
// changes the observer notices, so two restarts between scrapes count as
// one), bytes written and queued per connection, or raft commit indexes;
// these metrics appear when actor, supervisor, remote and rafted expose
// them.
package metrics
