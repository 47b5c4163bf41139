package observer

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
)

// Observer reads a node (and, through Options, its distribution layer,
// peer service, supervisors and raft groups) into the JSON-ready values the
// API serves. It is safe for concurrent use; the metrics package reads the
// same values.
type Observer struct {
	node    *actor.Node
	opts    Options
	started time.Time

	mu       sync.Mutex
	children map[childKey]*childSeen // what the observer last saw of each supervisor child
	traffic  trafficSample           // the remote layer's totals at the last NodeInfo
}

// trafficSample is the remote layer's frame totals at one moment, from which
// the next NodeInfo computes rates.
type trafficSample struct {
	at               time.Time
	in, out, handled uint64
}

type childKey struct {
	sup actor.PID
	id  string
}

type childSeen struct {
	pid      actor.PID
	restarts int
}

// New returns an observer of node.
func New(node *actor.Node, opts Options) (*Observer, error) {
	if node == nil {
		return nil, fmt.Errorf("%w: nil node", ErrInvalidOptions)
	}
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	return &Observer{node: node, opts: opts, started: time.Now(), children: map[childKey]*childSeen{}}, nil
}

// Node returns the observed node.
func (o *Observer) Node() *actor.Node { return o.node }

// Options returns the options in effect, defaults filled in.
func (o *Observer) Options() Options { return o.opts }

// callContext bounds a call the observer makes by CallTimeout.
func (o *Observer) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, o.opts.CallTimeout)
}

// callError turns a call's deadline into ErrTimeout (keeping the cause).
func callError(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w (%v)", what, ErrTimeout, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// NodeInfo is the node page: who the node is, how big it is and whom it is
// connected to.
type NodeInfo struct {
	Name     string `json:"name"`
	Creation uint32 `json:"creation"`
	// Started is when the node started.
	Started       time.Time  `json:"started"`
	UptimeSeconds float64    `json:"uptime_seconds"`
	Processes     int        `json:"processes"`
	Running       int        `json:"running"`
	MailboxTotal  int        `json:"mailbox_total"`
	Goroutines    int        `json:"goroutines"`
	Memory        MemoryInfo `json:"memory"`
	GoVersion     string     `json:"go_version"`
	// AllowActions tells whether the write endpoints are enabled.
	AllowActions bool `json:"allow_actions"`
	// Panels are the names of the extra panels.
	Panels []string `json:"panels"`
	// Distributed tells whether Options.Remote was given.
	Distributed bool       `json:"distributed"`
	Addrs       []string   `json:"addrs,omitempty"`
	Peers       []PeerInfo `json:"peers"`
	// FramesInPerSec and FramesOutPerSec are the frames (messages and
	// signals) the remote layer read and wrote per second since the
	// previous NodeInfo (0 on the first).
	FramesInPerSec  float64 `json:"frames_in_per_sec"`
	FramesOutPerSec float64 `json:"frames_out_per_sec"`
	// MessagesHandled counts the mailbox entries the node's processes have
	// handled (actor.Node.MessagesHandled); MessagesPerSec is its rate since
	// the previous NodeInfo.
	MessagesHandled uint64  `json:"messages_handled"`
	MessagesPerSec  float64 `json:"messages_per_sec"`
}

// MemoryInfo is a subset of runtime.MemStats, in bytes.
type MemoryInfo struct {
	HeapAlloc  uint64 `json:"heap_alloc"`
	HeapInuse  uint64 `json:"heap_inuse"`
	StackInuse uint64 `json:"stack_inuse"`
	Sys        uint64 `json:"sys"`
	NumGC      uint32 `json:"num_gc"`
}

// PeerInfo is one node this node has a connection to.
type PeerInfo struct {
	Name      string            `json:"name"`
	Addrs     []string          `json:"addrs,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
	Connected bool              `json:"connected"`
	// Connections counts the connections up per channel.
	Connections map[string]int `json:"connections"`
	// Traffic over all its connections (remote.ConnStats), and what waits
	// in their send queues.
	FramesOut   uint64 `json:"frames_out"`
	BytesOut    uint64 `json:"bytes_out"`
	FramesIn    uint64 `json:"frames_in"`
	BytesIn     uint64 `json:"bytes_in"`
	QueueFrames int    `json:"queue_frames"`
	QueueBytes  int    `json:"queue_bytes"`
	// RTTSeconds is the shortest handshake round trip of its connections
	// (remote.ConnStat.HandshakeRTT): the path's latency at connect time.
	RTTSeconds float64 `json:"rtt_seconds"`
	// LiveRTTSeconds is the shortest round trip its live connections last
	// measured (remote.ConnStat.RTT: a probe every quarter of the net tick
	// time, queueing on both sides included); 0 until one is measured.
	LiveRTTSeconds float64 `json:"live_rtt_seconds"`
}

// NodeInfo describes the node now.
func (o *Observer) NodeInfo() NodeInfo {
	rows := o.processRows()
	info := NodeInfo{
		Name:          o.node.Name(),
		Creation:      o.node.Creation(),
		Started:       o.node.Started(),
		UptimeSeconds: time.Since(o.node.Started()).Seconds(),
		Processes:     len(rows),
		Goroutines:    runtime.NumGoroutine(),
		GoVersion:     runtime.Version(),
		Peers:         []PeerInfo{},
		AllowActions:  o.opts.AllowActions,
		Panels:        o.PanelNames(),
	}
	for _, r := range rows {
		if r.Status == string(actor.StatusRunning) {
			info.Running++
		}
		info.MailboxTotal += r.MailboxLen
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	info.Memory = MemoryInfo{HeapAlloc: ms.HeapAlloc, HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse, Sys: ms.Sys, NumGC: ms.NumGC}
	var in, out uint64
	if r := o.opts.Remote; r != nil {
		info.Distributed = true
		info.Addrs = r.Addrs()
		info.Peers = o.peers()
		for _, p := range info.Peers {
			in, out = in+p.FramesIn, out+p.FramesOut
		}
	}
	info.MessagesHandled = o.node.MessagesHandled()
	now := time.Now()
	o.mu.Lock()
	last := o.traffic
	o.traffic = trafficSample{at: now, in: in, out: out, handled: info.MessagesHandled}
	o.mu.Unlock()
	if secs := now.Sub(last.at).Seconds(); !last.at.IsZero() && secs > 0 {
		if in >= last.in && out >= last.out {
			info.FramesInPerSec = float64(in-last.in) / secs
			info.FramesOutPerSec = float64(out-last.out) / secs
		}
		if info.MessagesHandled >= last.handled {
			info.MessagesPerSec = float64(info.MessagesHandled-last.handled) / secs
		}
	}
	return info
}

// peers lists the remote layer's connected peers, sorted by name.
func (o *Observer) peers() []PeerInfo {
	r := o.opts.Remote
	specs := r.Peers()
	slices.SortFunc(specs, func(a, b remoteSpec) int { return strings.Compare(a.Name, b.Name) })
	stats := map[string][]remote.ConnStat{}
	for _, st := range r.ConnStats() {
		stats[st.Peer] = append(stats[st.Peer], st)
	}
	out := make([]PeerInfo, 0, len(specs))
	for _, sp := range specs {
		pi := PeerInfo{Name: sp.Name, Addrs: sp.Addrs, Tags: sp.Tags, Connected: r.IsConnected(sp.Name), Connections: o.connections(sp.Name)}
		for _, st := range stats[sp.Name] {
			pi.FramesOut += st.FramesOut
			pi.BytesOut += st.BytesOut
			pi.FramesIn += st.FramesIn
			pi.BytesIn += st.BytesIn
			pi.QueueFrames += st.QueueFrames
			pi.QueueBytes += st.QueueBytes
			if rtt := st.HandshakeRTT.Seconds(); rtt > 0 && (pi.RTTSeconds == 0 || rtt < pi.RTTSeconds) {
				pi.RTTSeconds = rtt
			}
			if rtt := st.RTT.Seconds(); rtt > 0 && st.Up && (pi.LiveRTTSeconds == 0 || rtt < pi.LiveRTTSeconds) {
				pi.LiveRTTSeconds = rtt
			}
		}
		out = append(out, pi)
	}
	return out
}

func (o *Observer) connections(node string) map[string]int {
	out := make(map[string]int, len(o.opts.Channels))
	for _, ch := range o.opts.Channels {
		out[ch] = o.opts.Remote.ConnectionCount(node, ch)
	}
	return out
}

// ProcessRow is one line of the process table.
type ProcessRow struct {
	PID  string `json:"pid"`
	ID   uint64 `json:"id"`
	Name string `json:"name,omitempty"`
	// Behaviour is the name a process started by Inspectable gave, else
	// what the runtime reports (actor.ProcessInfo.Behavior).
	Behaviour   string `json:"behaviour,omitempty"`
	Handled     uint64 `json:"handled"` // mailbox entries handled
	Started     string `json:"started"` // RFC 3339
	Status      string `json:"status"`
	MailboxLen  int    `json:"mailbox_len"`
	Links       int    `json:"links"`
	Monitors    int    `json:"monitors"`
	MonitoredBy int    `json:"monitored_by"`
	TrapExit    bool   `json:"trap_exit"`
	Parent      string `json:"parent,omitempty"`
}

func rowOf(info actor.ProcessInfo) ProcessRow {
	reg, _ := lookup(info.PID)
	behaviour := reg.behaviour
	if behaviour == "" {
		behaviour = info.Behavior
	}
	return ProcessRow{
		Behaviour:   behaviour,
		Handled:     info.MessagesHandled,
		Started:     info.Started.UTC().Format(time.RFC3339Nano),
		PID:         info.PID.String(),
		ID:          info.PID.ID,
		Name:        info.Name,
		Status:      string(info.Status),
		MailboxLen:  info.MailboxLen,
		Links:       len(info.Links),
		Monitors:    len(info.Monitors) + len(info.MonitorsByName),
		MonitoredBy: len(info.MonitoredBy),
		TrapExit:    info.TrapExit,
		Parent:      pidString(info.Parent),
	}
}

func pidString(p actor.PID) string {
	if p.IsZero() {
		return ""
	}
	return p.String()
}

// processRows describes every live process in spawn order; a process that
// exits while the table is read is left out.
func (o *Observer) processRows() []ProcessRow {
	pids := o.node.Processes()
	sweep(o.node, len(pids))
	rows := make([]ProcessRow, 0, len(pids))
	for _, pid := range pids {
		info, err := o.node.Info(pid)
		if err != nil {
			continue
		}
		rows = append(rows, rowOf(info))
	}
	return rows
}

// ProcessQuery selects and orders the process table.
type ProcessQuery struct {
	// Sort is one of "id" (spawn order, the default), "name", "behaviour",
	// "status", "mailbox", "links", "monitors".
	Sort string
	// Desc reverses the order.
	Desc bool
	// Filter keeps the processes whose PID, name or behaviour contains it.
	Filter string
	// Status keeps the processes with this status ("waiting", "running").
	Status string
	// Offset skips that many matching processes; Limit returns at most that
	// many (zero: all).
	Offset, Limit int
}

var sortKeys = map[string]func(a, b ProcessRow) int{
	"id":        func(a, b ProcessRow) int { return cmpU64(a.ID, b.ID) },
	"pid":       func(a, b ProcessRow) int { return cmpU64(a.ID, b.ID) },
	"name":      func(a, b ProcessRow) int { return strings.Compare(a.Name, b.Name) },
	"behaviour": func(a, b ProcessRow) int { return strings.Compare(a.Behaviour, b.Behaviour) },
	"status":    func(a, b ProcessRow) int { return strings.Compare(a.Status, b.Status) },
	"mailbox":   func(a, b ProcessRow) int { return a.MailboxLen - b.MailboxLen },
	"handled":   func(a, b ProcessRow) int { return cmpU64(a.Handled, b.Handled) },
	"links":     func(a, b ProcessRow) int { return a.Links - b.Links },
	"monitors":  func(a, b ProcessRow) int { return a.Monitors - b.Monitors },
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (q ProcessQuery) validate() error {
	if q.Sort != "" {
		if _, ok := sortKeys[q.Sort]; !ok {
			return fmt.Errorf("unknown sort key %q", q.Sort)
		}
	}
	switch actor.Status(q.Status) {
	case "", actor.StatusWaiting, actor.StatusRunning:
	default:
		return fmt.Errorf("unknown status %q", q.Status)
	}
	if q.Offset < 0 || q.Limit < 0 {
		return errors.New("negative offset or limit")
	}
	return nil
}

// ProcessTable is the answer to a ProcessQuery.
type ProcessTable struct {
	// Total is the number of live processes, Matched the number the filter
	// kept (before Offset and Limit).
	Total     int          `json:"total"`
	Matched   int          `json:"matched"`
	Processes []ProcessRow `json:"processes"`
}

// Processes returns the process table q selects.
func (o *Observer) Processes(q ProcessQuery) (ProcessTable, error) {
	if err := q.validate(); err != nil {
		return ProcessTable{}, err
	}
	rows := o.processRows()
	t := ProcessTable{Total: len(rows)}
	kept := rows[:0]
	for _, r := range rows {
		if q.Status != "" && r.Status != q.Status {
			continue
		}
		if q.Filter != "" && !strings.Contains(r.PID, q.Filter) && !strings.Contains(r.Name, q.Filter) && !strings.Contains(r.Behaviour, q.Filter) {
			continue
		}
		kept = append(kept, r)
	}
	t.Matched = len(kept)
	key := q.Sort
	if key == "" {
		key = "id"
	}
	cmp := sortKeys[key]
	slices.SortStableFunc(kept, func(a, b ProcessRow) int {
		c := cmp(a, b)
		if c == 0 {
			c = cmpU64(a.ID, b.ID)
		}
		if q.Desc {
			return -c
		}
		return c
	})
	if q.Offset < len(kept) {
		kept = kept[q.Offset:]
	} else {
		kept = nil
	}
	if q.Limit > 0 && q.Limit < len(kept) {
		kept = kept[:q.Limit]
	}
	t.Processes = append([]ProcessRow{}, kept...)
	return t, nil
}

// ProcessRef names a process another one is tied to, with its registered
// name when it is a local process that has one.
type ProcessRef struct {
	PID  string `json:"pid"`
	Name string `json:"name,omitempty"`
}

// ProcessDetail is the process page.
type ProcessDetail struct {
	ProcessRow
	LinkList       []ProcessRef `json:"link_list"`
	MonitorList    []ProcessRef `json:"monitor_list"`
	MonitorsByName []string     `json:"monitors_by_name"`
	MonitoredList  []ProcessRef `json:"monitored_by_list"`
	// Supervisor is the supervisor this process is a child of, when it is
	// one the observer knows (see Options.Supervisors).
	Supervisor string `json:"supervisor,omitempty"`
	// IsSupervisor tells whether the process is one of the supervisors
	// the observer knows.
	IsSupervisor bool `json:"is_supervisor"`
	// Inspectable tells whether /api/process/{pid}/state can show the
	// process's state (its behaviour implements actor.Inspector).
	Inspectable bool `json:"inspectable"`
}

// Process describes the local process pid.
func (o *Observer) Process(ctx context.Context, pid actor.PID) (ProcessDetail, error) {
	info, err := o.node.Info(pid)
	if err != nil {
		return ProcessDetail{}, err
	}
	d := ProcessDetail{
		ProcessRow:     rowOf(info),
		LinkList:       o.refs(info.Links),
		MonitorList:    o.refs(info.Monitors),
		MonitoredList:  o.refs(info.MonitoredBy),
		MonitorsByName: []string{},
	}
	d.Inspectable = info.Inspectable
	if reg, ok := lookup(pid); ok {
		d.Inspectable = d.Inspectable || reg.inspects
	}
	for _, n := range info.MonitorsByName {
		d.MonitorsByName = append(d.MonitorsByName, n.String())
	}
	for _, s := range o.knownSupervisors(ctx) {
		if s.pid == pid {
			d.IsSupervisor = true
		}
		if s.pid == info.Parent && s.pid != (actor.PID{}) {
			d.Supervisor = s.pid.String()
		}
	}
	return d, nil
}

func (o *Observer) refs(pids []actor.PID) []ProcessRef {
	out := make([]ProcessRef, 0, len(pids))
	for _, p := range pids {
		r := ProcessRef{PID: p.String()}
		if p.Node == o.node.Name() {
			if info, err := o.node.Info(p); err == nil {
				r.Name = info.Name
			}
		}
		out = append(out, r)
	}
	return out
}

// ParsePID reads a PID of the observed node as the API writes it:
// "<node.creation.id>", the same without the brackets, or a bare id (with
// the node's own name and creation). A node name may contain dots; the last
// two fields are the creation and the id.
func (o *Observer) ParsePID(s string) (actor.PID, error) {
	s = strings.TrimSpace(s)
	if id, err := strconv.ParseUint(s, 10, 64); err == nil {
		return actor.PID{Node: o.node.Name(), Creation: o.node.Creation(), ID: id}, nil
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	last := strings.LastIndexByte(s, '.')
	if last < 0 {
		return actor.PID{}, fmt.Errorf("%w: %q", ErrBadPID, s)
	}
	mid := strings.LastIndexByte(s[:last], '.')
	if mid <= 0 {
		return actor.PID{}, fmt.Errorf("%w: %q", ErrBadPID, s)
	}
	creation, err1 := strconv.ParseUint(s[mid+1:last], 10, 32)
	id, err2 := strconv.ParseUint(s[last+1:], 10, 64)
	if err1 != nil || err2 != nil || id == 0 {
		return actor.PID{}, fmt.Errorf("%w: %q", ErrBadPID, s)
	}
	pid := actor.PID{Node: s[:mid], Creation: uint32(creation), ID: id}
	if pid.Node != o.node.Name() {
		return actor.PID{}, fmt.Errorf("%w: %s is not a process of %s", ErrBadPID, pid, o.node.Name())
	}
	return pid, nil
}
