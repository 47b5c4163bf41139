package dist

import (
	"errors"
	"fmt"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/erlang/etf"
)

// Control message operations (erl_dist_protocol).
const (
	opLink               = 1
	opSend               = 2
	opExit               = 3
	opUnlink             = 4
	opRegSend            = 6
	opExit2              = 8
	opSendTT             = 12
	opExitTT             = 13
	opRegSendTT          = 16
	opExit2TT            = 18
	opMonitorP           = 19
	opDemonitorP         = 20
	opMonitorPExit       = 21
	opSendSender         = 22
	opSendSenderTT       = 23
	opPayloadExit        = 24
	opPayloadExitTT      = 25
	opPayloadExit2       = 26
	opPayloadExit2TT     = 27
	opPayloadMonitorExit = 28
	opAliasSend          = 33
	opAliasSendTT        = 34
	opSpawnRequest       = 29
	opSpawnRequestTT     = 30
	opSpawnReply         = 31
	opUnlinkID           = 35
	opUnlinkIDAck        = 36
)

// names the distribution answers itself, as the VM's kernel processes do.
const (
	netKernel = etf.Atom("net_kernel")
	rex       = etf.Atom("rex") // rpc's server
)

var errMalformed = errors.New("dist: malformed control message")

func bad(ctl etf.Tuple) error { return fmt.Errorf("%w: %v", errMalformed, ctl) }

// handle acts on one packet from the peer: a pass-through packet ('p' and
// two terms with their version bytes), or one after a distribution header,
// whole or in fragments (header.go).
func (c *conn) handle(pkt []byte) error {
	switch {
	case pkt[0] == 'p':
		return c.decodeAndDispatch(pkt[1:], nil, true)
	case pkt[0] == 131 && len(pkt) > 1:
		return c.handleHeader(pkt[1], pkt[2:])
	}
	return fmt.Errorf("%w: packet type %d", errMalformed, pkt[0])
}

// decodeAndDispatch decodes the control message and the message that
// follows it (with version bytes when versioned, else after a header whose
// atom references are refs) and acts on them.
func (c *conn) decodeAndDispatch(b []byte, refs []etf.Atom, versioned bool) error {
	dec := etf.Decoder{AtomRefs: refs}
	next := dec.DecodeTerm
	if versioned {
		next = dec.DecodePrefix
	}
	t, rest, err := next(b)
	if err != nil {
		return err
	}
	ctl, ok := t.(etf.Tuple)
	if !ok || len(ctl) == 0 {
		return fmt.Errorf("%w: %v", errMalformed, t)
	}
	var msg any
	hasMsg := len(rest) > 0
	if hasMsg {
		var after []byte
		msg, after, err = next(rest)
		if err == nil && len(after) > 0 {
			err = fmt.Errorf("%w: %d bytes after the message", etf.ErrMalformed, len(after))
		}
		if err != nil {
			if errors.Is(err, etf.ErrUnsupported) {
				// A fun, say: well-formed, but it does not cross to Go.
				c.d.log.Warn("dropping a message from Erlang that does not decode", "peer", c.peer, "err", err.Error())
				return nil
			}
			return err
		}
	}
	return c.dispatch(ctl, msg, hasMsg)
}

// dispatch acts on one control message (and its message).
func (c *conn) dispatch(ctl etf.Tuple, msg any, hasMsg bool) error {
	op, ok := ctl[0].(int64)
	if !ok {
		return bad(ctl)
	}
	// Trace tokens are accepted and ignored: the forms without them.
	switch op {
	case opSendTT, opSendSenderTT, opAliasSendTT, opPayloadExitTT, opPayloadExit2TT:
		if len(ctl) != 4 {
			return bad(ctl)
		}
		ctl, op = ctl[:3], map[int64]int64{opSendTT: opSend, opSendSenderTT: opSendSender, opAliasSendTT: opAliasSend,
			opPayloadExitTT: opPayloadExit, opPayloadExit2TT: opPayloadExit2}[op]
	case opRegSendTT:
		if len(ctl) != 5 {
			return bad(ctl)
		}
		ctl, op = ctl[:4], opRegSend
	case opExitTT, opExit2TT:
		if len(ctl) != 5 {
			return bad(ctl)
		}
		ctl, op = etf.Tuple{ctl[0], ctl[1], ctl[2], ctl[4]}, map[int64]int64{opExitTT: opExit, opExit2TT: opExit2}[op]
	}
	pids := func(a, b any) (actor.PID, actor.PID, bool) {
		x, ok1 := a.(etf.Pid)
		y, ok2 := b.(etf.Pid)
		return pidFromErl(x), pidFromErl(y), ok1 && ok2
	}
	switch op {
	case opSend, opSendSender:
		if len(ctl) != 3 || !hasMsg {
			return bad(ctl)
		}
		to, ok := ctl[2].(etf.Pid)
		if !ok {
			return bad(ctl)
		}
		var from actor.PID
		if p, ok := ctl[1].(etf.Pid); ok {
			from = pidFromErl(p)
		}
		return c.message(from, pidFromErl(to), actor.Name{}, msg)
	case opRegSend:
		if len(ctl) != 4 || !hasMsg {
			return bad(ctl)
		}
		from, ok1 := ctl[1].(etf.Pid)
		name, ok2 := ctl[3].(etf.Atom)
		if !ok1 || !ok2 {
			return bad(ctl)
		}
		return c.message(pidFromErl(from), actor.PID{}, actor.Name{Node: c.d.node.Name(), Name: string(name)}, msg)
	case opAliasSend:
		if len(ctl) != 3 || !hasMsg {
			return bad(ctl)
		}
		// Aliases of gotp processes are not handed out: nothing to deliver.
		return nil
	case opLink:
		if len(ctl) != 3 {
			return bad(ctl)
		}
		from, to, ok := pids(ctl[1], ctl[2])
		if !ok {
			return bad(ctl)
		}
		return c.deliver(actor.Envelope{Kind: actor.EnvLink, From: from, To: to})
	case opUnlink, opUnlinkID:
		i := 1
		if op == opUnlinkID {
			if len(ctl) != 4 {
				return bad(ctl)
			}
			i = 2
		} else if len(ctl) != 3 {
			return bad(ctl)
		}
		from, to, ok := pids(ctl[i], ctl[i+1])
		if !ok {
			return bad(ctl)
		}
		if op == opUnlinkID {
			c.send(etf.Tuple{int64(opUnlinkIDAck), ctl[1], ctl[3], ctl[2]}, nil, false, true)
		}
		return c.deliver(actor.Envelope{Kind: actor.EnvUnlink, From: from, To: to})
	case opUnlinkIDAck:
		return nil
	case opExit, opExit2, opPayloadExit, opPayloadExit2:
		payload := op == opPayloadExit || op == opPayloadExit2
		var reason any
		switch {
		case payload && len(ctl) == 3 && hasMsg:
			reason = msg
		case !payload && len(ctl) == 4:
			reason = ctl[3]
		default:
			return bad(ctl)
		}
		from, to, ok := pids(ctl[1], ctl[2])
		if !ok {
			return bad(ctl)
		}
		kind := actor.EnvLinkExit
		if op == opExit2 || op == opPayloadExit2 {
			kind = actor.EnvExit
		}
		return c.deliver(actor.Envelope{Kind: kind, From: from, To: to, Reason: reasonFromErl(reason)})
	case opMonitorP, opDemonitorP:
		if len(ctl) != 4 {
			return bad(ctl)
		}
		from, ok1 := ctl[1].(etf.Pid)
		ref, ok2 := ctl[3].(etf.Ref)
		if !ok1 || !ok2 {
			return bad(ctl)
		}
		return c.monitor(op == opMonitorP, pidFromErl(from), ctl[2], ref)
	case opMonitorPExit, opPayloadMonitorExit:
		var reason any
		switch {
		case op == opPayloadMonitorExit && len(ctl) == 4 && hasMsg:
			reason = msg
		case op == opMonitorPExit && len(ctl) == 5:
			reason = ctl[4]
		default:
			return bad(ctl)
		}
		to, ok1 := ctl[2].(etf.Pid)
		ref, ok2 := ctl[3].(etf.Ref)
		if !ok1 || !ok2 {
			return bad(ctl)
		}
		var from actor.PID
		if p, ok := ctl[1].(etf.Pid); ok {
			from = pidFromErl(p)
		}
		return c.down(from, pidFromErl(to), ref, reasonFromErl(reason))
	case opSpawnRequest, opSpawnRequestTT:
		if len(ctl) < 6 || !hasMsg {
			return bad(ctl)
		}
		reqID, ok1 := ctl[1].(etf.Ref)
		from, ok2 := ctl[2].(etf.Pid)
		mfa, ok3 := ctl[4].(etf.Tuple)
		if !ok1 || !ok2 || !ok3 || len(mfa) != 3 {
			return bad(ctl)
		}
		return c.spawnRequest(reqID, pidFromErl(from), mfa, ctl[5], msg)
	}
	// Operations this node did not ask for are a broken peer.
	return fmt.Errorf("%w: operation %d", errMalformed, op)
}

func (c *conn) deliver(env actor.Envelope) error {
	c.mu.Lock()
	sess := c.sess
	c.mu.Unlock()
	err := sess.Deliver(env)
	if errors.Is(err, actor.ErrMalformed) {
		return err
	}
	return nil
}

// message delivers a message from the peer: a gen_server call or cast
// becomes gotp's, the reply to a gotp call ends that call, and net_kernel's
// is_auth (net_adm:ping) is answered here.
func (c *conn) message(from, to actor.PID, toName actor.Name, msg any) error {
	if t, ok := msg.(etf.Tuple); ok && len(t) == 3 && t[0] == etf.Atom("$gen_call") {
		caller, ok := t[1].(etf.Tuple)
		if !ok || len(caller) != 2 {
			return nil
		}
		pid, ok := caller[0].(etf.Pid)
		if !ok {
			return nil
		}
		switch toName.Name {
		case string(netKernel):
			if req, ok := t[2].(etf.Tuple); ok && len(req) == 2 && req[0] == etf.Atom("is_auth") {
				c.reply(erlCall{pid: pid, tag: caller[1]}, etf.Atom("yes"), to)
			}
			return nil
		case string(rex):
			call := erlCall{pid: pid, tag: caller[1]}
			req := fromErl(t[2])
			c.d.wg.Add(1)
			go func() {
				defer c.d.wg.Done()
				c.reply(call, c.d.rpc(req), to)
			}()
			return nil
		}
		c.mu.Lock()
		c.nextRef++
		ref := actor.Ref{Node: c.peer, Creation: c.info.creation, ID: c.nextRef}
		c.erlCalls[ref.ID] = erlCall{pid: pid, tag: caller[1]}
		c.mu.Unlock()
		return c.deliver(actor.Envelope{Kind: actor.EnvCall, From: pidFromErl(pid), To: to, ToName: toName, Ref: ref, Message: toGo(t[2])})
	}
	if t, ok := msg.(etf.Tuple); ok && len(t) == 2 {
		if t[0] == etf.Atom("$gen_cast") {
			return c.deliver(actor.Envelope{Kind: actor.EnvMessage, From: from, To: to, ToName: toName, Message: actor.CastMessage{Message: toGo(t[1])}})
		}
		if r, ok := t[0].(etf.Ref); ok && string(r.Node) == c.d.node.Name() {
			if ref, ok := refFromErl(r); ok {
				c.mu.Lock()
				call, pending := c.goCalls[ref.ID]
				delete(c.goCalls, ref.ID)
				c.mu.Unlock()
				if pending {
					c.send(etf.Tuple{int64(opDemonitorP), pidToErl(call.from), call.to, r}, nil, false, true)
					return c.deliver(actor.Envelope{Kind: actor.EnvReply, From: from, Ref: ref, Message: toGo(t[1]), Cleared: true})
				}
			}
		}
	}
	return c.deliver(actor.Envelope{Kind: actor.EnvMessage, From: from, To: to, ToName: toName, Message: toGo(msg)})
}

// monitor handles the peer's MONITOR_P and DEMONITOR_P of one of our
// processes (by pid or by name).
func (c *conn) monitor(on bool, from actor.PID, target any, r etf.Ref) error {
	env := actor.Envelope{Kind: actor.EnvMonitor, From: from}
	var byName etf.Atom
	switch t := target.(type) {
	case etf.Pid:
		env.To = pidFromErl(t)
	case etf.Atom:
		if t == netKernel || t == rex {
			return nil // always there: no DOWN will come
		}
		byName = t
		env.ToName = actor.Name{Node: c.d.node.Name(), Name: string(t)}
	default:
		return fmt.Errorf("%w: monitor of %v", errMalformed, target)
	}
	key := refKey(r)
	c.mu.Lock()
	ref, known := c.erlRefs[key]
	if on && !known {
		c.nextRef++
		ref = actor.Ref{Node: c.peer, Creation: c.info.creation, ID: c.nextRef}
		c.erlRefs[key] = ref
		c.gotpRefs[ref.ID] = remoteRef{ref: r, byName: byName}
	}
	if !on {
		delete(c.erlRefs, key)
		delete(c.gotpRefs, ref.ID)
	}
	c.mu.Unlock()
	if !on {
		if !known {
			return nil
		}
		env.Kind = actor.EnvDemonitor
	}
	env.Ref = ref
	return c.deliver(env)
}

// down handles the peer's MONITOR_P_EXIT: a monitor of ours fired, or the
// callee of a gotp call went before it answered.
func (c *conn) down(from, to actor.PID, r etf.Ref, reason error) error {
	ref, ok := refFromErl(r)
	if !ok || ref.Node != c.d.node.Name() {
		return nil
	}
	c.mu.Lock()
	_, call := c.goCalls[ref.ID]
	delete(c.goCalls, ref.ID)
	c.mu.Unlock()
	if call {
		return c.deliver(actor.Envelope{Kind: actor.EnvDown, Alias: true, From: from, Ref: ref, Reason: reason})
	}
	return c.deliver(actor.Envelope{Kind: actor.EnvDown, From: from, To: to, Ref: ref, Reason: reason})
}

// send queues a control message (and a message, if withMsg).
func (c *conn) send(ctl etf.Tuple, msg any, withMsg, signal bool) error {
	pkt, err := packet(ctl, msg, withMsg)
	if err != nil {
		return err
	}
	return c.enqueue(pkt, signal)
}

// reply answers a gen_server call of the peer's.
func (c *conn) reply(call erlCall, value any, from actor.PID) {
	msg := etf.Tuple{call.tag, toErl(value)}
	if il, ok := call.tag.(etf.ImproperList); ok && len(il.Elems) == 1 && il.Elems[0] == etf.Atom("alias") {
		if alias, ok := il.Tail.(etf.Ref); ok {
			_ = c.send(etf.Tuple{int64(opAliasSend), pidToErl(c.fromPID(from)), alias}, msg, true, true)
			return
		}
	}
	_ = c.send(c.sendCtl(pidToErl(c.fromPID(from)), call.pid), msg, true, true)
}

// sendCtl is the control message of a send to a pid: SEND_SENDER where the
// peer takes it, else SEND.
func (c *conn) sendCtl(from, to etf.Pid) etf.Tuple {
	if c.peerFlags()&flagSendSender != 0 {
		return etf.Tuple{int64(opSendSender), from, to}
	}
	return etf.Tuple{int64(opSend), etf.Atom(""), to}
}

// peerFlags returns the peer's capabilities (none known before the
// handshake: what is queued meanwhile takes the oldest forms).
func (c *conn) peerFlags() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info.flags
}

// exitCtl is the control message (and message) of an exit signal: the
// payload form where the peer takes it.
func (c *conn) exitCtl(payloadOp, oldOp int64, head []any, reason any) (etf.Tuple, any, bool) {
	if c.peerFlags()&flagExitPayload != 0 {
		return append(etf.Tuple{payloadOp}, head...), reason, true
	}
	return append(append(etf.Tuple{oldOp}, head...), reason), nil, false
}

// fromPID is the sender a control message names: the process, or the node's
// own pid for what no process sends.
func (c *conn) fromPID(p actor.PID) actor.PID {
	if p.IsZero() {
		return actor.PID{Node: c.d.node.Name(), Creation: c.d.creation}
	}
	return p
}

// forward turns an envelope for the peer into its control messages.
func (c *conn) forward(env actor.Envelope) error {
	from := pidToErl(c.fromPID(env.From))
	target := func() any {
		if !env.To.IsZero() {
			return pidToErl(env.To)
		}
		return etf.Atom(env.ToName.Name)
	}
	switch env.Kind {
	case actor.EnvMessage:
		msg := env.Message
		if cm, ok := msg.(actor.CastMessage); ok {
			msg = etf.Tuple{etf.Atom("$gen_cast"), cm.Message}
		}
		return c.sendTo(env, from, toErl(msg), false)
	case actor.EnvCall:
		r := refToErl(env.Ref)
		to := target()
		c.mu.Lock()
		c.goCalls[env.Ref.ID] = goCall{from: c.fromPID(env.From), to: to}
		c.mu.Unlock()
		// As gen:call does: a monitor of the callee, then the request.
		if err := c.send(etf.Tuple{int64(opMonitorP), from, to, r}, nil, false, true); err != nil {
			return err
		}
		msg := etf.Tuple{etf.Atom("$gen_call"), etf.Tuple{from, r}, toErl(env.Message)}
		if err := c.sendTo(env, from, msg, false); err != nil {
			c.mu.Lock()
			delete(c.goCalls, env.Ref.ID)
			c.mu.Unlock()
			return err
		}
		return nil
	case actor.EnvReply:
		c.mu.Lock()
		call, ok := c.erlCalls[env.Ref.ID]
		delete(c.erlCalls, env.Ref.ID)
		c.mu.Unlock()
		if ok {
			c.reply(call, env.Message, env.From)
		}
		return nil
	case actor.EnvDown:
		if env.Alias {
			// The callee of the peer's call is gone: the peer's own monitor
			// of it tells the caller.
			c.mu.Lock()
			delete(c.erlCalls, env.Ref.ID)
			c.mu.Unlock()
			return nil
		}
		c.mu.Lock()
		rr, ok := c.gotpRefs[env.Ref.ID]
		delete(c.gotpRefs, env.Ref.ID)
		if ok {
			delete(c.erlRefs, refKey(rr.ref))
		}
		c.mu.Unlock()
		if !ok {
			return nil
		}
		var proc any = from
		if rr.byName != "" {
			proc = rr.byName
		}
		ctl, msg, with := c.exitCtl(opPayloadMonitorExit, opMonitorPExit, []any{proc, pidToErl(env.To), rr.ref}, reasonToErl(env.Reason))
		return c.send(ctl, msg, with, true)
	case actor.EnvLink:
		if env.To.IsZero() {
			return fmt.Errorf("%w: a link to %v by name", ErrUnsupported, env.ToName)
		}
		return c.send(etf.Tuple{int64(opLink), from, pidToErl(env.To)}, nil, false, true)
	case actor.EnvUnlink:
		c.mu.Lock()
		c.nextLink++
		id := c.nextLink
		c.mu.Unlock()
		return c.send(etf.Tuple{int64(opUnlinkID), int64(id), from, pidToErl(env.To)}, nil, false, true)
	case actor.EnvLinkExit:
		ctl, msg, with := c.exitCtl(opPayloadExit, opExit, []any{from, pidToErl(env.To)}, reasonToErl(env.Reason))
		return c.send(ctl, msg, with, true)
	case actor.EnvExit:
		ctl, msg, with := c.exitCtl(opPayloadExit2, opExit2, []any{from, pidToErl(env.To)}, reasonToErl(env.Reason))
		return c.send(ctl, msg, with, true)
	case actor.EnvMonitor:
		return c.send(etf.Tuple{int64(opMonitorP), from, target(), refToErl(env.Ref)}, nil, false, true)
	case actor.EnvDemonitor:
		return c.send(etf.Tuple{int64(opDemonitorP), from, target(), refToErl(env.Ref)}, nil, false, true)
	}
	return fmt.Errorf("%w: %v of kind %d", ErrUnsupported, env.DestNode(), env.Kind)
}

// sendTo sends msg to env's destination, a pid or a registered name.
func (c *conn) sendTo(env actor.Envelope, from etf.Pid, msg any, signal bool) error {
	if env.To.IsZero() {
		return c.send(etf.Tuple{int64(opRegSend), from, etf.Atom(""), etf.Atom(env.ToName.Name)}, msg, true, signal)
	}
	return c.send(c.sendCtl(from, pidToErl(env.To)), msg, true, signal)
}
