package discovery

import (
	"slices"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
)

// Phase is the discovery process's phase of operation.
type Phase string

// Phases: the initial phase checks the backend often; the regular phase,
// entered after Config.InitialPhase or once another node's discovery
// process makes contact, seldom.
const (
	PhaseInitial Phase = "initial"
	PhaseRegular Phase = "regular"
)

// RetryType says which wait came before the next backend call.
type RetryType string

// Retry types, as CETS names them.
const (
	RetryInitial       RetryType = "initial"
	RetryAfterError    RetryType = "after_error"
	RetryRegular       RetryType = "regular"
	RetryAfterNodeDown RetryType = "after_nodedown"
)

// Status of a background task.
const (
	NotRunning = "not_running"
	Running    = "running"
)

// Join result kinds (CETS's what).
const (
	WhatJoinResult  = "join_result"
	WhatPIDNotFound = "pid_not_found"
)

// JoinResult is the outcome of joining one table with one node.
type JoinResult struct {
	Node  string
	Table string
	// What is WhatJoinResult when both table processes were found and the
	// join ran (Err is its error, nil on success), WhatPIDNotFound when the
	// table runs on only one side (Reason says which).
	What   string
	Err    string
	Reason string
}

// NodeTable names one table on one node.
type NodeTable struct {
	Node  string
	Table string
}

// Readiness lists what the initial discovery still waits for (CETS's
// verify_ready); it is ready when every list is empty.
type Readiness struct {
	// BadLastGetNodesResult is set when the last backend call failed or
	// none has finished: "not_called_yet" or the error.
	BadLastGetNodesResult string
	// StillWaitingForPangs lists discovered nodes neither connected nor
	// known to be unavailable yet.
	StillWaitingForPangs []string
	// UnavailableNotDiscovered lists nodes held unavailable (they went
	// down) that the backend did not list; the next backend call drops
	// them.
	UnavailableNotDiscovered []string
	// WaitingForJoinResult lists connected nodes' tables with no join
	// result yet.
	WaitingForJoinResult []NodeTable
}

// Ready reports whether nothing is missing.
func (r Readiness) Ready() bool {
	return r.BadLastGetNodesResult == "" && len(r.StillWaitingForPangs) == 0 &&
		len(r.UnavailableNotDiscovered) == 0 && len(r.WaitingForJoinResult) == 0
}

// Effects the core asks the shell to carry out, in the order given.
type (
	effGetNodes      struct{}
	effJoin          struct{ pairs []NodeTable }
	effConnect       struct{ nodes []remote.NodeSpec }
	effSendStartTime struct{ node string }
	effReply         struct{ froms []actor.From }
	effSetTimer      struct {
		after time.Duration
		gen   uint64
	}
	effLog struct {
		warn  bool
		msg   string
		attrs []any
	}
)

// core is the discovery process's state and logic: cets_discovery's state
// map and handlers, without clocks, I/O or processes. Every method takes the
// time and returns effects.
type core struct {
	cfg  Config
	self string

	phase            Phase
	results          []JoinResult
	nodes            []string // discovered, sorted
	specs            map[string]remote.NodeSpec
	unavailable      []string // sorted
	tables           []string // sorted
	connected        []string // sorted, without self
	backendState     any
	getNodesRunning  bool
	retryGetNodes    bool
	lastResultCalled bool
	lastResultErr    string
	lastRetryType    RetryType
	joinRunning      bool
	retryJoin        bool
	timerGen         uint64
	timerSet         bool
	timerDue         time.Time
	waitReady        []actor.From
	waitGetNodes     []actor.From
	nodeUp           map[string]time.Time
	nodeDown         map[string]time.Time
	nodeStart        map[string]int64
	startTime        time.Time
}

func newCore(cfg Config, self string, connected []string, now time.Time) (*core, []effect) {
	c := &core{
		cfg: cfg, self: self, phase: PhaseInitial, lastRetryType: RetryInitial,
		specs: map[string]remote.NodeSpec{}, nodeUp: map[string]time.Time{},
		nodeDown: map[string]time.Time{}, nodeStart: map[string]int64{}, startTime: now,
	}
	for _, t := range cfg.Tables {
		c.tables = addSorted(c.tables, t)
	}
	var eff []effect
	eff = append(eff, c.check()...)
	for _, n := range sortedCopy(connected) {
		if n == self {
			continue
		}
		c.connected = addSorted(c.connected, n)
		eff = append(eff, c.handleNodeUp(n, now)...)
	}
	return c, eff
}

type effect any

// check is a request to call the backend: at once, or after the running
// call when one runs.
func (c *core) check() []effect {
	if c.getNodesRunning {
		c.retryGetNodes = true
		return nil
	}
	c.getNodesRunning = true
	return []effect{effGetNodes{}}
}

// timerFired handles the check timer numbered gen; a timer replaced since
// is ignored.
func (c *core) timerFired(gen uint64) []effect {
	if !c.timerSet || gen != c.timerGen {
		return nil
	}
	c.timerSet = false
	return c.check()
}

func (c *core) getNodesResult(specs []remote.NodeSpec, err error, backendState any, now time.Time) []effect {
	c.backendState = backendState
	c.getNodesRunning = false
	c.lastResultCalled = true
	var eff []effect
	if err != nil {
		c.lastResultErr = err.Error()
		if c.lastResultErr == "" {
			c.lastResultErr = "error"
		}
	} else {
		c.lastResultErr = ""
	}
	if !c.retryGetNodes && len(c.waitGetNodes) > 0 {
		eff = append(eff, effReply{froms: c.waitGetNodes})
		c.waitGetNodes = nil
	}
	if err == nil {
		eff = append(eff, c.setNodes(specs)...)
	} else {
		eff = append(eff, effLog{warn: true, msg: "discovery backend failed", attrs: []any{"reason", c.lastResultErr}})
	}
	eff = append(eff, c.triggerVerifyReady(now)...)
	eff = append(eff, c.scheduleCheck(now)...)
	return eff
}

func (c *core) setNodes(specs []remote.NodeSpec) []effect {
	var nodes []string
	for _, s := range specs {
		if s.Name == "" {
			continue
		}
		nodes = addSorted(nodes, s.Name)
		if len(s.Addrs) > 0 || c.specs[s.Name].Name == "" {
			c.specs[s.Name] = s
		}
	}
	for _, n := range sortedKeys(c.specs) {
		if !slices.Contains(nodes, n) {
			delete(c.specs, n)
		}
	}
	c.nodes = nodes
	var eff []effect
	// Nodes not connected are pinged; those that answer come up through
	// the network's node-up, those that do not become unavailable.
	var toConnect []remote.NodeSpec
	for _, n := range nodes {
		if n != c.self && !slices.Contains(c.connected, n) {
			toConnect = append(toConnect, c.specs[n])
		}
	}
	if len(toConnect) > 0 {
		eff = append(eff, effConnect{nodes: toConnect})
	}
	eff = append(eff, c.tryJoining()...)
	// Unavailable nodes are a subset of discovered nodes.
	var un []string
	for _, n := range c.unavailable {
		if slices.Contains(nodes, n) {
			un = append(un, n)
		}
	}
	c.unavailable = un
	return eff
}

// tryJoining joins every table with every connected discovered node, one
// pair after another, or asks for another round after the running one.
func (c *core) tryJoining() []effect {
	if c.joinRunning {
		c.retryJoin = true
		return nil
	}
	var pairs []NodeTable
	for _, n := range c.nodes {
		if !slices.Contains(c.connected, n) {
			continue
		}
		for _, t := range c.tables {
			pairs = append(pairs, NodeTable{Node: n, Table: t})
		}
	}
	c.joinRunning = true
	c.retryJoin = false
	return []effect{effJoin{pairs: pairs}}
}

func (c *core) joiningFinished(results []JoinResult, now time.Time) []effect {
	var eff []effect
	for _, r := range results {
		if !slices.Contains(c.results, r) {
			attrs := []any{"node", r.Node, "table", r.Table, "what", r.What}
			if r.Err != "" {
				attrs = append(attrs, "error", r.Err)
			}
			if r.Reason != "" {
				attrs = append(attrs, "reason", r.Reason)
			}
			eff = append(eff, effLog{warn: r.Err != "" || r.What != WhatJoinResult, msg: "join result", attrs: attrs})
		}
	}
	c.results = results
	c.joinRunning = false
	eff = append(eff, c.triggerVerifyReady(now)...)
	if c.retryJoin {
		eff = append(eff, c.tryJoining()...)
	}
	return eff
}

func (c *core) pingResult(node string, ok bool, now time.Time) []effect {
	if ok || slices.Contains(c.connected, node) {
		// A node that answers comes up through the network's node-up.
		return nil
	}
	c.unavailable = addSorted(c.unavailable, node)
	return c.triggerVerifyReady(now)
}

func (c *core) scheduleCheck(now time.Time) []effect {
	if c.retryGetNodes && !c.getNodesRunning {
		c.retryGetNodes = false
		return c.check()
	}
	rt := c.chooseRetryType(now)
	c.lastRetryType = rt
	c.timerGen++
	c.timerSet = true
	d := c.retryTimeout(rt)
	c.timerDue = now.Add(d)
	return []effect{effSetTimer{after: d, gen: c.timerGen}}
}

func (c *core) chooseRetryType(now time.Time) RetryType {
	if c.lastResultCalled && c.lastResultErr != "" {
		return RetryAfterError
	}
	if c.phase == PhaseInitial {
		return RetryInitial
	}
	node, ok := c.lastNodeDown()
	if !ok {
		return RetryRegular
	}
	if now.Sub(c.nodeDown[node]) < c.cfg.NodeDownWindow {
		return RetryAfterNodeDown
	}
	return RetryRegular
}

func (c *core) retryTimeout(rt RetryType) time.Duration {
	switch rt {
	case RetryAfterError:
		return c.cfg.RetryAfterError
	case RetryInitial:
		return c.cfg.RetryInitial
	case RetryAfterNodeDown:
		return c.cfg.RetryAfterNodeDown
	}
	return c.cfg.RetryRegular
}

// lastNodeDown returns the node that went down last (ties: the greatest
// name).
func (c *core) lastNodeDown() (string, bool) {
	var best string
	var bestAt time.Time
	found := false
	for _, n := range sortedKeys(c.nodeDown) {
		at := c.nodeDown[n]
		if !found || !at.Before(bestAt) {
			best, bestAt, found = n, at, true
		}
	}
	return best, found
}

func (c *core) addTable(t string) []effect {
	if slices.Contains(c.tables, t) {
		return nil
	}
	c.tables = addSorted(c.tables, t)
	return c.check()
}

func (c *core) deleteTable(t string) {
	if i, ok := slices.BinarySearch(c.tables, t); ok {
		c.tables = slices.Delete(c.tables, i, i+1)
	}
}

func (c *core) waitForReady(from actor.From, now time.Time) []effect {
	c.waitReady = append(c.waitReady, from)
	return c.triggerVerifyReady(now)
}

// waitForGetNodes answers at once when no backend call runs; else after it
// (and after the one asked for meanwhile).
func (c *core) waitForGetNodes(from actor.From) []effect {
	if !c.getNodesRunning {
		return []effect{effReply{froms: []actor.From{from}}}
	}
	c.waitGetNodes = append(c.waitGetNodes, from)
	return nil
}

func (c *core) triggerVerifyReady(now time.Time) []effect {
	if len(c.waitReady) == 0 || !c.verifyReady().Ready() {
		return nil
	}
	froms := c.waitReady
	c.waitReady = nil
	return []effect{effReply{froms: froms}}
}

func (c *core) verifyReady() Readiness {
	var r Readiness
	if !c.lastResultCalled {
		r.BadLastGetNodesResult = "not_called_yet"
	} else if c.lastResultErr != "" {
		r.BadLastGetNodesResult = c.lastResultErr
	}
	var expected []string
	for _, n := range c.nodes {
		if n != c.self && !slices.Contains(c.connected, n) {
			expected = append(expected, n)
		}
	}
	for _, n := range expected {
		if !slices.Contains(c.unavailable, n) {
			r.StillWaitingForPangs = append(r.StillWaitingForPangs, n)
		}
	}
	for _, n := range c.unavailable {
		if !slices.Contains(expected, n) {
			r.UnavailableNotDiscovered = append(r.UnavailableNotDiscovered, n)
		}
	}
	for _, n := range c.nodes {
		if !slices.Contains(c.connected, n) {
			continue
		}
		for _, t := range c.tables {
			if !c.hasJoinResult(n, t) {
				r.WaitingForJoinResult = append(r.WaitingForJoinResult, NodeTable{Node: n, Table: t})
			}
		}
	}
	return r
}

func (c *core) hasJoinResult(node, table string) bool {
	for _, r := range c.results {
		if r.Node == node && r.Table == table {
			return true
		}
	}
	return false
}

// nodeUpEvent handles a node connecting: the backend is asked again (the
// new node may know of others), the node is sent this process's start time
// and joined.
func (c *core) nodeUpEvent(node string, now time.Time) []effect {
	if node == c.self {
		return nil
	}
	eff := c.check()
	c.connected = addSorted(c.connected, node)
	eff = append(eff, c.handleNodeUp(node, now)...)
	if i, ok := slices.BinarySearch(c.unavailable, node); ok {
		c.unavailable = slices.Delete(c.unavailable, i, i+1)
	}
	eff = append(eff, c.tryJoining()...)
	return eff
}

func (c *core) handleNodeUp(node string, now time.Time) []effect {
	eff := []effect{effSendStartTime{node: node}}
	c.nodeUp[node] = now
	attrs := []any{"remote_node", node, "connected_nodes", len(c.connected) + 1,
		"time_since_startup", now.Sub(c.startTime)}
	if down, ok := c.nodeDown[node]; ok {
		attrs = append(attrs, "downtime", now.Sub(down))
	}
	return append(eff, effLog{warn: true, msg: "nodeup", attrs: attrs})
}

func (c *core) nodeDownEvent(node string, now time.Time) []effect {
	if node == c.self {
		return nil
	}
	if i, ok := slices.BinarySearch(c.connected, node); ok {
		c.connected = slices.Delete(c.connected, i, i+1)
	}
	c.nodeDown[node] = now
	attrs := []any{"remote_node", node, "connected_nodes", len(c.connected) + 1,
		"time_since_startup", now.Sub(c.startTime)}
	if up, ok := c.nodeUp[node]; ok {
		attrs = append(attrs, "connected_duration", now.Sub(up))
		delete(c.nodeUp, node)
	}
	c.unavailable = addSorted(c.unavailable, node)
	eff := []effect{effLog{warn: true, msg: "nodedown", attrs: attrs}}
	return append(eff, c.triggerVerifyReady(now)...)
}

// receiveStartTime handles another discovery process's start time: contact
// with another discovery process ends the initial phase. A start time not
// seen before is answered with this process's own, so that a discovery
// process started after its node connected (whose node-up message found
// no discovery process here to tell) hears from this one too.
func (c *core) receiveStartTime(node string, start int64) []effect {
	var eff []effect
	old, seen := c.nodeStart[node]
	switch {
	case seen && old == start:
		eff = append(eff, effLog{warn: true, msg: "node reconnects: netsplit recovery, the remote node has been connected to us before",
			attrs: []any{"remote_node", node, "start_time", start}})
	case slices.Contains(c.connected, node):
		eff = append(eff, effSendStartTime{node: node})
	}
	c.nodeStart[node] = start
	c.phase = PhaseRegular
	return eff
}

func (c *core) enterRegularPhase() { c.phase = PhaseRegular }

// SystemInfo is the discovery process's whole state (CETS's system_info):
// every field of cets_discovery's state, plus the readiness check and the
// retry type the next wait would have.
type SystemInfo struct {
	Phase                  Phase
	Results                []JoinResult
	Nodes                  []string
	UnavailableNodes       []string
	Tables                 []string
	BackendModule          string
	BackendState           any
	GetNodesStatus         string
	ShouldRetryGetNodes    bool
	LastGetNodesResult     LastGetNodesResult
	LastGetNodesRetryType  RetryType
	JoinStatus             string
	ShouldRetryJoin        bool
	TimerSet               bool      // CETS's timer_ref: a check timer is pending
	TimerDue               time.Time // when it fires
	PendingWaitForReady    int
	PendingWaitForGetNodes int
	NodeUpTimestamps       map[string]time.Time
	NodeDownTimestamps     map[string]time.Time
	NodeStartTimestamps    map[string]time.Time
	StartTime              time.Time
	ConnectedNodes         []string
	VerifyReady            Readiness
	RetryType              RetryType
}

// LastGetNodesResult is the outcome of the last backend call.
type LastGetNodesResult struct {
	Called bool     // false: not_called_yet
	Err    string   // the error, or "" for ok
	Nodes  []string // the nodes, when ok
}

// OK reports whether the last call was made and succeeded.
func (r LastGetNodesResult) OK() bool { return r.Called && r.Err == "" }

func (c *core) systemInfo(now time.Time) SystemInfo {
	si := SystemInfo{
		Phase: c.phase, Results: slices.Clone(c.results), Nodes: slices.Clone(c.nodes),
		UnavailableNodes: slices.Clone(c.unavailable), Tables: slices.Clone(c.tables),
		BackendModule: backendName(c.cfg.Backend), BackendState: c.backendState,
		GetNodesStatus: status(c.getNodesRunning), ShouldRetryGetNodes: c.retryGetNodes,
		LastGetNodesResult:    LastGetNodesResult{Called: c.lastResultCalled, Err: c.lastResultErr},
		LastGetNodesRetryType: c.lastRetryType, JoinStatus: status(c.joinRunning), ShouldRetryJoin: c.retryJoin,
		TimerSet: c.timerSet, PendingWaitForReady: len(c.waitReady), PendingWaitForGetNodes: len(c.waitGetNodes),
		NodeUpTimestamps: map[string]time.Time{}, NodeDownTimestamps: map[string]time.Time{},
		NodeStartTimestamps: map[string]time.Time{}, StartTime: c.startTime,
		ConnectedNodes: slices.Clone(c.connected), VerifyReady: c.verifyReady(), RetryType: c.chooseRetryType(now),
	}
	if si.LastGetNodesResult.OK() {
		si.LastGetNodesResult.Nodes = slices.Clone(c.nodes)
	}
	if c.timerSet {
		si.TimerDue = c.timerDue
	}
	for n, t := range c.nodeUp {
		si.NodeUpTimestamps[n] = t
	}
	for n, t := range c.nodeDown {
		si.NodeDownTimestamps[n] = t
	}
	for n, ms := range c.nodeStart {
		si.NodeStartTimestamps[n] = time.UnixMilli(ms)
	}
	return si
}

func status(running bool) string {
	if running {
		return Running
	}
	return NotRunning
}

func addSorted(s []string, v string) []string {
	i, ok := slices.BinarySearch(s, v)
	if ok {
		return s
	}
	return slices.Insert(s, i, v)
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
