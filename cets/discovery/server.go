package discovery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/wire"
)

// Messages between discovery processes of different nodes.
type (
	// startTimeMsg is a discovery process's start time (Unix ms), sent to
	// every node that comes up.
	startTimeMsg struct {
		Node      string
		StartTime int64
	}
	// tableNodesReq asks a discovery process for its tables' node lists
	// (for Status).
	tableNodesReq struct{}
	// tableNodesReply answers it: table name to sorted nodes.
	tableNodesReply struct {
		Tables map[string][]string
	}
)

func init() {
	wire.MustRegister[startTimeMsg]("gotp.cets.discovery.start_time")
	wire.MustRegister[tableNodesReq]("gotp.cets.discovery.table_nodes_req")
	wire.MustRegister[tableNodesReply]("gotp.cets.discovery.table_nodes_reply")
}

// Messages inside one node.
type (
	checkTimer   struct{ gen uint64 }
	regularPhase struct{}
	getNodesDone struct {
		specs []remote.NodeSpec
		err   error
		state any
	}
	joinDone    struct{ results []JoinResult }
	connectDone struct {
		node string
		err  error
	}
	// Calls and casts of the handle.
	callTables      struct{}
	callSystemInfo  struct{}
	callWaitReady   struct{}
	callWaitGetNode struct{}
	castAddTable    struct{ table string }
	castDeleteTable struct{ table string }
	castCheck       struct{}
)

// server is the discovery gen_server: it owns the core, runs backend calls,
// joins and connects on goroutines of their own, and carries out effects.
type server struct {
	d       *Discovery
	cfg     Config
	core    *core
	timer   actor.TimerRef
	hasTmr  bool
	ctx     context.Context
	cancel  context.CancelFunc
	unwatch func()
}

var (
	_ actor.GenServer   = (*server)(nil)
	_ actor.Initializer = (*server)(nil)
	_ actor.InfoHandler = (*server)(nil)
	_ actor.CastHandler = (*server)(nil)
	_ actor.Terminator  = (*server)(nil)
)

func (s *server) Init(p *actor.Process) error {
	if err := s.cfg.Backend.Init(BackendInfo{Node: p.Node().Name(), Logger: s.cfg.Logger}); err != nil {
		return fmt.Errorf("discovery: backend init: %w", err)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	// Watch before listing, so that no node-up falls between the two.
	s.unwatch = s.cfg.Network.Watch(p.Self())
	now := time.Now()
	c, eff := newCore(s.cfg, p.Node().Name(), s.cfg.Network.Connected(), now)
	s.core = c
	p.SendAfter(s.cfg.InitialPhase, p.Self(), regularPhase{})
	s.apply(p, eff)
	return nil
}

func (s *server) Terminate(p *actor.Process, reason error) {
	s.cancel()
	s.unwatch()
}

func (s *server) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	now := time.Now()
	switch req.(type) {
	case callTables:
		return append([]string{}, s.core.tables...), nil
	case callSystemInfo:
		return s.core.systemInfo(now), nil
	case callWaitReady:
		s.apply(p, s.core.waitForReady(from, now))
		return actor.NoReply, nil
	case callWaitGetNode:
		s.apply(p, s.core.waitForGetNodes(from))
		return actor.NoReply, nil
	case tableNodesReq:
		tables := append([]string{}, s.core.tables...)
		node := p.Node()
		go func() {
			node.Reply(from, tableNodesReply{Tables: localTableNodes(s.ctx, s.cfg, tables)})
		}()
		return actor.NoReply, nil
	}
	return fmt.Errorf("discovery: unknown request %T", req), nil
}

func (s *server) HandleCast(p *actor.Process, msg any) error {
	switch m := msg.(type) {
	case castAddTable:
		s.apply(p, s.core.addTable(m.table))
	case castDeleteTable:
		s.core.deleteTable(m.table)
	case castCheck:
		s.apply(p, s.core.check())
	default:
		s.cfg.Logger.Error("discovery: unexpected cast", "msg", fmt.Sprintf("%T", msg))
	}
	return nil
}

func (s *server) HandleInfo(p *actor.Process, msg any) error {
	now := time.Now()
	switch m := msg.(type) {
	case checkTimer:
		s.apply(p, s.core.timerFired(m.gen))
	case regularPhase:
		s.core.enterRegularPhase()
	case getNodesDone:
		s.apply(p, s.core.getNodesResult(m.specs, m.err, m.state, now))
	case joinDone:
		s.apply(p, s.core.joiningFinished(m.results, now))
	case connectDone:
		if m.err != nil {
			s.cfg.Logger.Debug("discovery: connect failed", "remote_node", m.node, "reason", m.err)
		}
		s.apply(p, s.core.pingResult(m.node, m.err == nil, now))
	case NodeUp:
		s.apply(p, s.core.nodeUpEvent(m.Node, now))
	case NodeDown:
		s.apply(p, s.core.nodeDownEvent(m.Node, now))
	case startTimeMsg:
		s.apply(p, s.core.receiveStartTime(m.Node, m.StartTime))
	default:
		s.cfg.Logger.Error("discovery: unexpected message", "msg", fmt.Sprintf("%T", msg))
	}
	return nil
}

func (s *server) apply(p *actor.Process, effs []effect) {
	self := p.Self()
	node := p.Node()
	for _, e := range effs {
		switch e := e.(type) {
		case effGetNodes:
			go s.runGetNodes(node, self)
		case effJoin:
			if len(e.pairs) == 0 {
				_ = p.Send(self, joinDone{})
				continue
			}
			go s.runJoins(node, self, e.pairs)
		case effConnect:
			for _, spec := range e.nodes {
				go s.runConnect(node, self, spec)
			}
		case effSendStartTime:
			_ = p.Send(actor.Name{Node: e.node, Name: s.cfg.Name},
				startTimeMsg{Node: node.Name(), StartTime: s.core.startTime.UnixMilli()})
		case effReply:
			for _, f := range e.froms {
				_ = p.Reply(f, nil)
			}
		case effSetTimer:
			if s.hasTmr {
				p.CancelTimer(s.timer)
			}
			s.timer = p.SendAfter(e.after, self, checkTimer{gen: e.gen})
			s.hasTmr = true
		case effLog:
			if e.warn {
				s.cfg.Logger.Warn("discovery: "+e.msg, e.attrs...)
			} else {
				s.cfg.Logger.Info("discovery: "+e.msg, e.attrs...)
			}
		}
	}
}

func (s *server) runGetNodes(node *actor.Node, self actor.PID) {
	ctx := s.ctx
	if s.cfg.GetNodesTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.GetNodesTimeout)
		defer cancel()
	}
	var done getNodesDone
	func() {
		defer func() {
			if r := recover(); r != nil {
				done = getNodesDone{err: fmt.Errorf("discovery: backend panicked: %v", r)}
			}
		}()
		done.specs, done.err = s.cfg.Backend.GetNodes(ctx)
		if d, ok := s.cfg.Backend.(Describer); ok {
			done.state = d.Describe()
		}
	}()
	_ = node.Send(self, done)
}

// runConnect connects to a node found. Of two nodes that look for each
// other at the same moment (both discovery processes check at once after a
// netsplit heals) the one with the smaller name dials first; the other waits
// Config.ConnectDelay and dials only if no connection came up meanwhile, so
// that the two do not dial each other at the same instant, which the remote
// layer takes for a reconnect and loses.
func (s *server) runConnect(node *actor.Node, self actor.PID, spec remote.NodeSpec) {
	if spec.Name < node.Name() && s.cfg.ConnectDelay > 0 {
		select {
		case <-time.After(s.cfg.ConnectDelay):
		case <-s.ctx.Done():
			return
		}
		if slices.Contains(s.cfg.Network.Connected(), spec.Name) {
			_ = node.Send(self, connectDone{node: spec.Name})
			return
		}
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ConnectTimeout)
	defer cancel()
	err := s.cfg.Network.Connect(ctx, spec)
	_ = node.Send(self, connectDone{node: spec.Name, err: err})
}

// runJoins joins the pairs one after another: one table with one node at a
// time, so that two big tables are never copied at once.
func (s *server) runJoins(node *actor.Node, self actor.PID, pairs []NodeTable) {
	results := make([]JoinResult, 0, len(pairs))
	for _, pr := range pairs {
		results = append(results, s.joinOne(node, pr))
	}
	_ = node.Send(self, joinDone{results: results})
}

func (s *server) joinOne(node *actor.Node, pr NodeTable) (res JoinResult) {
	res = JoinResult{Node: pr.Node, Table: pr.Table}
	defer func() {
		if r := recover(); r != nil {
			res.What, res.Err = WhatJoinResult, fmt.Sprintf("join panicked: %v", r)
		}
	}()
	ctx := s.ctx
	if s.cfg.JoinTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.JoinTimeout)
		defer cancel()
	}
	local, ok := node.WhereIs(pr.Table)
	if !ok {
		res.What, res.Reason = WhatPIDNotFound, "no local table process"
		return res
	}
	remotePID, err := node.Resolve(ctx, actor.Name{Node: pr.Node, Name: pr.Table})
	if err != nil {
		res.What, res.Reason = WhatPIDNotFound, err.Error()
		return res
	}
	res.What = WhatJoinResult
	if err := s.cfg.Joiner.Join(ctx, pr.Table, local, remotePID); err != nil {
		res.Err = err.Error()
	}
	return res
}

// localTableNodes maps each table to the nodes it replicates to; tables whose
// nodes cannot be read are left out (and logged).
func localTableNodes(ctx context.Context, cfg Config, tables []string) map[string][]string {
	out := map[string][]string{}
	for _, t := range tables {
		nodes, err := cfg.Joiner.TableNodes(ctx, t)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				cfg.Logger.Error("discovery: table nodes request failed", "table", t, "reason", err)
			}
			continue
		}
		out[t] = nodes
	}
	return out
}
