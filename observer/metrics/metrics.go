package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/observer"
)

// ErrInvalidOptions: Options failed validation.
var ErrInvalidOptions = errors.New("metrics: invalid options")

// DefaultMailboxBuckets are the upper bounds of the mailbox depth
// histogram.
var DefaultMailboxBuckets = []float64{0, 1, 2, 5, 10, 50, 100, 500, 1000, 10000}

// Options configures a Collector. The zero value works.
type Options struct {
	// Namespace prefixes every metric name. Default "gotp".
	Namespace string
	// MailboxBuckets are the histogram's upper bounds, ascending. Default
	// DefaultMailboxBuckets.
	MailboxBuckets []float64
	// ScrapeTimeout bounds the calls one scrape makes (supervisors, the
	// peer service, raft members). Default 2 s.
	ScrapeTimeout time.Duration
	// GoCollector adds the Go runtime and process collectors to the
	// registry Handler builds.
	GoCollector bool
}

func (o Options) withDefaults() Options {
	if o.Namespace == "" {
		o.Namespace = "gotp"
	}
	if len(o.MailboxBuckets) == 0 {
		o.MailboxBuckets = DefaultMailboxBuckets
	}
	if o.ScrapeTimeout == 0 {
		o.ScrapeTimeout = 2 * time.Second
	}
	return o
}

func (o Options) validate() error {
	if !slices.IsSorted(o.MailboxBuckets) {
		return fmt.Errorf("%w: mailbox buckets not ascending", ErrInvalidOptions)
	}
	if o.ScrapeTimeout < 0 {
		return fmt.Errorf("%w: negative ScrapeTimeout", ErrInvalidOptions)
	}
	return nil
}

// Collector is a prometheus.Collector that reads an observer at every
// scrape.
type Collector struct {
	obs  *observer.Observer
	opts Options

	processes, mailboxTotal, mailbox                    *prometheus.Desc
	handled                                             *prometheus.Desc
	supActive, supSpecs, supRestarts, supUp             *prometheus.Desc
	supOwnRestarts                                      *prometheus.Desc
	peers, connections                                  *prometheus.Desc
	remoteBytes, remoteFrames, remoteQueue, remoteRTT   *prometheus.Desc
	remoteLiveRTT                                       *prometheus.Desc
	members, verdicts, partitions, gossipRounds         *prometheus.Desc
	raftTerm, raftLeader, raftMembers, raftUnresponsive *prometheus.Desc
	raftCommit, raftApplied, raftLag                    *prometheus.Desc
	goroutines                                          *prometheus.Desc

	// Calls, fed by the node's call observer (actor.Node.ObserveCalls).
	callDuration prometheus.Histogram
	callsFailed  prometheus.Counter
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a collector of obs.
func NewCollector(obs *observer.Observer, opts Options) (*Collector, error) {
	if obs == nil {
		return nil, fmt.Errorf("%w: nil observer", ErrInvalidOptions)
	}
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	node := prometheus.Labels{"node": obs.Node().Name()}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(opts.Namespace, "", name), help, labels, node)
	}
	fq := func(name string) string { return prometheus.BuildFQName(opts.Namespace, "", name) }
	callDuration := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: fq("call_duration_seconds"), Help: "Calls made on the node (by its processes or from outside one), by how long they took.",
		ConstLabels: node, Buckets: prometheus.ExponentialBuckets(10e-6, 4, 10), // 10 µs to ~2.6 s
	})
	callsFailed := prometheus.NewCounter(prometheus.CounterOpts{
		Name: fq("calls_failed_total"), Help: "Calls made on the node that ended with an error (a timeout, noproc, an exit, an error reply).", ConstLabels: node,
	})
	// One call observer per node: a second collector of the same node takes
	// it over.
	obs.Node().ObserveCalls(func(d time.Duration, err error) {
		callDuration.Observe(d.Seconds())
		if err != nil {
			callsFailed.Inc()
		}
	})
	return &Collector{
		obs:              obs,
		opts:             opts,
		callDuration:     callDuration,
		callsFailed:      callsFailed,
		processes:        d("processes", "Live processes by status.", "status"),
		mailboxTotal:     d("mailbox_messages", "Messages waiting in all mailboxes."),
		handled:          d("messages_handled_total", "Mailbox entries (messages, calls, signals that became messages) the node's processes have handled."),
		mailbox:          d("mailbox_depth", "Mailbox length of each live process."),
		goroutines:       d("goroutines", "Goroutines of the OS process."),
		supActive:        d("supervisor_children_active", "Children of a supervisor whose process is alive.", "supervisor"),
		supSpecs:         d("supervisor_children", "Child specs of a supervisor.", "supervisor"),
		supRestarts:      d("supervisor_restarts_observed_total", "Child restarts the observer has seen (a child's PID changed between two scrapes or page views).", "supervisor"),
		supOwnRestarts:   d("supervisor_restarts_total", "Restarts the supervisor made after its children exited, as it counts them against its intensity (supervisor.State.Restarts).", "supervisor"),
		supUp:            d("supervisor_up", "1 if the supervisor answered the scrape.", "supervisor"),
		peers:            d("remote_peers", "Nodes this node has a working connection to."),
		connections:      d("remote_connections", "Connections up, per peer and channel.", "peer", "channel"),
		remoteBytes:      d("remote_bytes_total", "Bytes carried over the connections to a peer, by direction (in, out).", "peer", "direction"),
		remoteFrames:     d("remote_frames_total", "Frames (messages, signals, ticks) carried over the connections to a peer, by direction.", "peer", "direction"),
		remoteQueue:      d("remote_queue_bytes", "Bytes waiting in the send queues to a peer.", "peer"),
		remoteRTT:        d("remote_handshake_rtt_seconds", "The shortest handshake round trip of the connections to a peer (the path's latency at connect time).", "peer"),
		remoteLiveRTT:    d("remote_rtt_seconds", "The shortest round trip the live connections to a peer last measured (a probe every quarter of the net tick time, queueing included).", "peer"),
		members:          d("membership_members", "Cluster members this node knows."),
		verdicts:         d("detector_verdicts", "Members by the failure detector's verdict.", "verdict"),
		partitions:       d("partitions", "Injected partitions this node holds."),
		gossipRounds:     d("gossip_rounds_total", "Membership gossip rounds."),
		raftTerm:         d("rafted_term", "Raft term of a group, as the member asked knows it.", "group"),
		raftLeader:       d("rafted_is_leader", "1 if the member asked is its group's leader.", "group"),
		raftMembers:      d("rafted_members", "Members of a raft group.", "group"),
		raftUnresponsive: d("rafted_unresponsive_followers", "Followers the leader has not heard from within an election timeout.", "group"),
		raftCommit:       d("rafted_commit_index", "The last log index the member asked knows committed.", "group"),
		raftApplied:      d("rafted_applied_index", "The last log index the member asked applied.", "group"),
		raftLag:          d("rafted_follower_lag", "On the leader: log entries a follower is behind.", "group", "follower"),
	}, nil
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.processes, c.mailboxTotal, c.handled, c.mailbox, c.goroutines, c.supActive, c.supSpecs, c.supRestarts, c.supOwnRestarts, c.supUp,
		c.peers, c.connections, c.remoteBytes, c.remoteFrames, c.remoteQueue, c.remoteRTT, c.remoteLiveRTT, c.members, c.verdicts, c.partitions, c.gossipRounds, c.raftTerm, c.raftLeader, c.raftMembers, c.raftUnresponsive, c.raftCommit, c.raftApplied, c.raftLag} {
		ch <- d
	}
	c.callDuration.Describe(ch)
	c.callsFailed.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.ScrapeTimeout)
	defer cancel()
	// One look at the node per scrape: it walks every process.
	info := c.obs.NodeInfo()
	c.collectProcesses(ch, info)
	c.callDuration.Collect(ch)
	c.callsFailed.Collect(ch)
	c.collectSupervisors(ctx, ch)
	c.collectCluster(ctx, ch, info)
	c.collectRafted(ctx, ch)
}

func (c *Collector) collectProcesses(ch chan<- prometheus.Metric, info observer.NodeInfo) {
	table, _ := c.obs.Processes(observer.ProcessQuery{})
	counts := map[string]int{string(actor.StatusWaiting): 0, string(actor.StatusRunning): 0}
	buckets := make(map[float64]uint64, len(c.opts.MailboxBuckets))
	total := 0
	for _, r := range table.Processes {
		counts[r.Status]++
		total += r.MailboxLen
		for _, b := range c.opts.MailboxBuckets {
			if float64(r.MailboxLen) <= b {
				buckets[b]++
			}
		}
	}
	for _, s := range []string{string(actor.StatusWaiting), string(actor.StatusRunning)} {
		ch <- prometheus.MustNewConstMetric(c.processes, prometheus.GaugeValue, float64(counts[s]), s)
	}
	ch <- prometheus.MustNewConstMetric(c.mailboxTotal, prometheus.GaugeValue, float64(total))
	ch <- prometheus.MustNewConstMetric(c.handled, prometheus.CounterValue, float64(info.MessagesHandled))
	ch <- prometheus.MustNewConstHistogram(c.mailbox, uint64(len(table.Processes)), float64(total), buckets)
	ch <- prometheus.MustNewConstMetric(c.goroutines, prometheus.GaugeValue, float64(info.Goroutines))
}

func (c *Collector) collectSupervisors(ctx context.Context, ch chan<- prometheus.Metric) {
	var walk func(t observer.SupervisorTree)
	walk = func(t observer.SupervisorTree) {
		label := t.PID
		if t.Name != "" {
			label = t.Name
		}
		if t.Error != "" {
			ch <- prometheus.MustNewConstMetric(c.supUp, prometheus.GaugeValue, 0, label)
			return
		}
		ch <- prometheus.MustNewConstMetric(c.supUp, prometheus.GaugeValue, 1, label)
		ch <- prometheus.MustNewConstMetric(c.supActive, prometheus.GaugeValue, float64(t.Counts.Active), label)
		ch <- prometheus.MustNewConstMetric(c.supSpecs, prometheus.GaugeValue, float64(t.Counts.Specs), label)
		ch <- prometheus.MustNewConstMetric(c.supRestarts, prometheus.CounterValue, float64(t.RestartsSeen), label)
		if t.Strategy != "" { // the supervisor reported its state
			ch <- prometheus.MustNewConstMetric(c.supOwnRestarts, prometheus.CounterValue, float64(t.Restarts), label)
		}
		for _, child := range t.Children {
			if child.Supervisor != nil {
				walk(*child.Supervisor)
			}
		}
	}
	seen := map[string]bool{}
	for _, t := range c.obs.Supervisors(ctx) {
		if seen[t.PID] { // two roots naming one supervisor
			continue
		}
		seen[t.PID] = true
		walk(t)
	}
}

func (c *Collector) collectCluster(ctx context.Context, ch chan<- prometheus.Metric, info observer.NodeInfo) {
	opts := c.obs.Options()
	if opts.Remote == nil && opts.Peers == nil {
		return
	}
	cl := c.obs.Cluster(ctx)
	connected := 0
	verdicts := map[string]int{"self": 0, "up": 0, "down": 0}
	for _, m := range cl.Members {
		verdicts[m.Verdict]++
		if m.Connected {
			connected++
		}
		for _, chName := range opts.Channels {
			if m.Connections != nil {
				ch <- prometheus.MustNewConstMetric(c.connections, prometheus.GaugeValue, float64(m.Connections[chName]), m.Name, chName)
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(c.peers, prometheus.GaugeValue, float64(connected))
	if opts.Remote != nil {
		for _, p := range info.Peers {
			ch <- prometheus.MustNewConstMetric(c.remoteBytes, prometheus.CounterValue, float64(p.BytesIn), p.Name, "in")
			ch <- prometheus.MustNewConstMetric(c.remoteBytes, prometheus.CounterValue, float64(p.BytesOut), p.Name, "out")
			ch <- prometheus.MustNewConstMetric(c.remoteFrames, prometheus.CounterValue, float64(p.FramesIn), p.Name, "in")
			ch <- prometheus.MustNewConstMetric(c.remoteFrames, prometheus.CounterValue, float64(p.FramesOut), p.Name, "out")
			ch <- prometheus.MustNewConstMetric(c.remoteQueue, prometheus.GaugeValue, float64(p.QueueBytes), p.Name)
			ch <- prometheus.MustNewConstMetric(c.remoteRTT, prometheus.GaugeValue, p.RTTSeconds, p.Name)
			if p.LiveRTTSeconds > 0 {
				ch <- prometheus.MustNewConstMetric(c.remoteLiveRTT, prometheus.GaugeValue, p.LiveRTTSeconds, p.Name)
			}
		}
	}
	if !cl.Membership {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.members, prometheus.GaugeValue, float64(len(cl.Members)))
	for _, v := range []string{"self", "up", "down"} {
		ch <- prometheus.MustNewConstMetric(c.verdicts, prometheus.GaugeValue, float64(verdicts[v]), v)
	}
	ch <- prometheus.MustNewConstMetric(c.partitions, prometheus.GaugeValue, float64(len(cl.Partitions)))
	ch <- prometheus.MustNewConstMetric(c.gossipRounds, prometheus.CounterValue, float64(cl.GossipRounds))
}

func (c *Collector) collectRafted(ctx context.Context, ch chan<- prometheus.Metric) {
	for _, g := range c.obs.Rafted(ctx) {
		if g.Error != "" {
			continue
		}
		leader := 0.0
		if g.State == "leader" {
			leader = 1
		}
		ch <- prometheus.MustNewConstMetric(c.raftTerm, prometheus.GaugeValue, float64(g.Term), g.Server)
		ch <- prometheus.MustNewConstMetric(c.raftLeader, prometheus.GaugeValue, leader, g.Server)
		ch <- prometheus.MustNewConstMetric(c.raftMembers, prometheus.GaugeValue, float64(len(g.Members)), g.Server)
		ch <- prometheus.MustNewConstMetric(c.raftUnresponsive, prometheus.GaugeValue, float64(len(g.Unresponsive)), g.Server)
		ch <- prometheus.MustNewConstMetric(c.raftCommit, prometheus.GaugeValue, float64(g.Commit), g.Server)
		ch <- prometheus.MustNewConstMetric(c.raftApplied, prometheus.GaugeValue, float64(g.Applied), g.Server)
		for follower, lag := range g.Lag {
			ch <- prometheus.MustNewConstMetric(c.raftLag, prometheus.GaugeValue, float64(lag), g.Server, follower)
		}
	}
}

// Handler returns an http.Handler serving obs's metrics (and, with
// GoCollector, the Go runtime's) in Prometheus's exposition formats, from a
// registry of its own.
func Handler(obs *observer.Observer, opts Options) (http.Handler, error) {
	c, err := NewCollector(obs, opts)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	if c.opts.GoCollector {
		if err := reg.Register(collectors.NewGoCollector()); err != nil {
			return nil, err
		}
		if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
			return nil, err
		}
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}), nil
}
