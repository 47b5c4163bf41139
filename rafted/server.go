package rafted

import (
	"fmt"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

// member is the process that drives one core: every input (a call, a peer's
// Raft message, a tick) is one mailbox message. The Ready a command or a
// peer's message produces is handled by a flushNow the member sends itself,
// so after every message that was already in the mailbox; the Ready of any
// other input is handled before the next one.
type member struct {
	opts        Options
	groupConfig Config
	c           *core
	disk        *disk
	// flushQueued: a flushNow is in the mailbox. Commands and peers' Raft
	// messages are handled without a flush; the flushNow, sent behind them,
	// handles one Ready for all that arrived in the meantime (one batch of
	// proposals, one MsgApp per follower, one persist).
	flushQueued bool
}

// flushNow is the message a member sends itself to flush deferred work.
type flushNow struct{}

var (
	_ actor.GenServer   = (*member)(nil)
	_ actor.Initializer = (*member)(nil)
	_ actor.InfoHandler = (*member)(nil)
	_ actor.Terminator  = (*member)(nil)
)

func (m *member) Init(p *actor.Process) error {
	self := memberAddr{PID: p.Self()}
	if m.opts.Name != "" {
		self.Name = actor.Name{Node: p.Node().Name(), Name: m.opts.Name}
	}
	in := coreInit{
		self:        self,
		id:          raftID(self),
		newData:     m.opts.NewData,
		hook:        m.opts.Hook,
		log:         m.opts.Logger.With("member", p.Self().String()),
		groupConfig: m.groupConfig,
		now:         time.Now(),
		maxMsg:      m.opts.maxMessage(),
		maxSnap:     m.opts.MaxSnapshotSize,
	}
	if m.opts.Dir != "" {
		d, st, err := openDisk(m.opts.Dir)
		if err != nil {
			return fmt.Errorf("rafted: open %s: %w", m.opts.Dir, err)
		}
		m.disk, in.disk, in.stored = d, d, st
		if st.Found {
			in.id = st.ID
		} else if err := d.Create(in.id); err != nil {
			d.Close()
			return err
		}
	}
	if !in.stored.Found {
		in.create = m.opts.Create
	}
	c, err := newCore(in)
	if err != nil {
		if m.disk != nil {
			m.disk.Close()
		}
		return err
	}
	c.now = time.Now()
	m.c = c
	if err := m.flush(p); err != nil {
		return err
	}
	p.SendAfter(c.cfg.HeartbeatInterval, p.Self(), tick{})
	return nil
}

func (m *member) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	c := m.c
	now := time.Now()
	c.now = now
	var ret any
	switch r := req.(type) {
	case commandReq:
		return c.command(from, r), m.deferFlush(p)
	case queryReq:
		ret = c.queryReq(from, r, now)
	case changeConfigReq:
		ret = c.changeConfig(from, r)
	case removeFollowerReq:
		ret = c.removeFollower(from, r.Member)
	case replaceLeaderReq:
		ret = c.replaceLeader(r.Member)
	case forceRemoveReq:
		ret = c.forceRemove(r.Member)
	case joinReq:
		ret = c.join(from, r)
	case statusReq:
		ret = c.status()
	case awaitJoinedReq:
		if c.isVoter(c.id) {
			ret = okReply{OK: true}
		} else {
			c.joinWaiters = append(c.joinWaiters, from)
			ret = actor.NoReply
		}
	default:
		ret = fmt.Errorf("rafted: unknown request %T", req)
	}
	return ret, m.flush(p)
}

func (m *member) HandleInfo(p *actor.Process, msg any) error {
	c := m.c
	c.now = time.Now()
	switch x := msg.(type) {
	case peerMsg:
		c.step(x.From, x.Msg)
		return m.deferFlush(p)
	case snapChunk:
		c.stepChunk(x)
		return m.deferFlush(p)
	case flushNow:
		m.flushQueued = false
	case tick:
		c.tick(c.now)
		p.SendAfter(c.cfg.HeartbeatInterval, p.Self(), tick{})
	}
	return m.flush(p)
}

func (m *member) Terminate(p *actor.Process, reason error) {
	if m.disk != nil {
		m.disk.Close()
	}
}

// deferFlush makes sure a flushNow is on its way. It flushes at once if
// the member cannot send to itself.
func (m *member) deferFlush(p *actor.Process) error {
	if m.flushQueued {
		return nil
	}
	if err := p.Send(p.Self(), flushNow{}); err != nil {
		return m.flush(p)
	}
	m.flushQueued = true
	return nil
}

// flush processes Ready and carries out what the core asked for: messages to
// peers and answers to callers. A member that applied its own removal stops.
func (m *member) flush(p *actor.Process) error {
	c := m.c
	for {
		if err := c.process(); err != nil {
			return err
		}
		if len(c.out) == 0 && len(c.replies) == 0 {
			break
		}
		out, replies := c.out, c.replies
		c.out, c.replies = nil, nil
		for _, o := range out {
			var msg any = peerMsg{From: c.self, Msg: o.msg}
			if o.chunk != nil {
				msg = *o.chunk
			}
			var err error
			if o.to.Name.Name != "" {
				err = p.Send(o.to.Name, msg)
			} else {
				err = p.Send(o.to.PID, msg)
			}
			if err != nil {
				c.rn.ReportUnreachable(o.id)
			}
		}
		// Reuse the buffer: an outbound holds a whole raftpb.Message.
		clear(out)
		c.out = out[:0]
		for _, r := range replies {
			p.Reply(r.to, r.value)
		}
	}
	if c.removed {
		return fmt.Errorf("%w (%w)", actor.Normal, ErrRemoved)
	}
	return nil
}
