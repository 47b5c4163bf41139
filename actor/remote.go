package actor

import "errors"

// EnvelopeKind says what an Envelope carries.
type EnvelopeKind uint8

// The kinds of traffic between nodes.
const (
	EnvMessage   EnvelopeKind = iota + 1 // a message to To or ToName
	EnvLink                              // From links to To
	EnvUnlink                            // From unlinks from To
	EnvLinkExit                          // From, linked to To, exited with Reason
	EnvExit                              // From sends To an exit signal with Reason
	EnvMonitor                           // From monitors To under Ref
	EnvDemonitor                         // From drops monitor Ref on To
	EnvDown                              // From, monitored by To under Ref, is gone with Reason
	EnvCall                              // a Call from From to To or ToName under Ref
	EnvReply                             // the answer (Message) to the Call Ref
)

// Envelope is a message or signal bound for another node, as the remote layer
// carries it. To names the destination process (or ToName a registered name);
// Ref routes EnvReply and alias EnvDown to the caller's node.
type Envelope struct {
	Kind    EnvelopeKind
	From    PID
	To      PID
	ToName  Name
	Ref     Ref
	Reason  error
	Message any
	// Alias marks an EnvDown whose watcher is a Call waiter.
	Alias bool
	// Cleared marks an EnvReply whose callee already dropped the call's monitor.
	Cleared bool
}

// Remote carries envelopes to other nodes. The remote layer installs one with
// SetRemote. Forward must not block for long: it queues the envelope or returns
// an error (ErrNoConnection when the node cannot be reached).
type Remote interface {
	Forward(env Envelope) error
}

type remoteBox struct{ r Remote }

// SetRemote installs the remote layer. Without one, anything addressed to
// another node fails with ErrNoConnection.
func (n *Node) SetRemote(r Remote) {
	if r == nil {
		n.remote.Store(nil)
		return
	}
	n.remote.Store(&remoteBox{r: r})
}

func (n *Node) forward(env Envelope) error {
	box := n.remote.Load()
	if box == nil {
		return ErrNoConnection
	}
	return box.r.Forward(env)
}

func envelopeOf(to PID, s *signal) Envelope {
	env := Envelope{To: to, From: s.from, Ref: s.ref, Reason: s.reason, Alias: s.alias}
	switch s.kind {
	case sigLink:
		env.Kind = EnvLink
	case sigUnlink:
		env.Kind = EnvUnlink
	case sigLinkExit:
		env.Kind = EnvLinkExit
	case sigExit:
		env.Kind = EnvExit
	case sigMonitor:
		env.Kind = EnvMonitor
	case sigDemonitor:
		env.Kind = EnvDemonitor
	case sigDown:
		env.Kind = EnvDown
	case sigCall:
		env.Kind, env.Message = EnvCall, s.msg
	}
	return env
}

// Deliver hands an envelope that arrived from another node to its local
// destination. Failures are answered as Erlang would: a link or monitor to a
// missing process gets an exit or DOWN with noproc, a call to one gets its
// DOWN. It returns an error only for envelopes it cannot make sense of.
func (n *Node) Deliver(env Envelope) error {
	switch env.Kind {
	case EnvReply:
		n.deliverCallResult(env.Ref, callResult{value: env.Message, callee: env.From, cleared: env.Cleared})
		return nil
	case EnvDown:
		if env.Alias {
			n.deliverCallResult(env.Ref, callResult{err: env.Reason, down: true, callee: env.From})
			return nil
		}
	}
	var p *Process
	if env.To.IsZero() {
		p = n.whereIs(env.ToName.Name)
	} else {
		p = n.lookup(env.To)
	}
	var s *signal
	switch env.Kind {
	case EnvMessage:
		if p == nil {
			return ErrNoProc
		}
		return p.enqueue(env.Message, false)
	case EnvLink:
		s = &signal{kind: sigLink}
	case EnvUnlink:
		s = &signal{kind: sigUnlink}
	case EnvLinkExit:
		s = &signal{kind: sigLinkExit}
	case EnvExit:
		s = &signal{kind: sigExit}
	case EnvMonitor:
		s = &signal{kind: sigMonitor}
	case EnvDemonitor:
		s = &signal{kind: sigDemonitor}
	case EnvDown:
		s = &signal{kind: sigDown}
	case EnvCall:
		s = &signal{kind: sigCall, alias: true, msg: env.Message}
	default:
		return errors.New("actor: unknown envelope kind")
	}
	s.from, s.ref, s.reason = env.From, env.Ref, env.Reason
	if p == nil || p.enqueue(s, true) != nil {
		n.answerMissing(env)
	}
	return nil
}

// answerMissing replies on behalf of a process that is not there.
func (n *Node) answerMissing(env Envelope) {
	self := env.To
	switch env.Kind {
	case EnvLink:
		_ = n.forward(Envelope{Kind: EnvLinkExit, From: self, To: env.From, Reason: ErrNoProc})
	case EnvMonitor:
		_ = n.forward(Envelope{Kind: EnvDown, From: self, To: env.From, Ref: env.Ref, Reason: ErrNoProc})
	case EnvCall:
		n.deliverCallResult(env.Ref, callResult{err: ErrNoProc, down: true, callee: self})
	}
}

// NodeDown tells the node that the connection to another node is lost: every
// link and monitor across it fires with ErrNoConnection, node monitors get a
// NodeDownMessage, and pending calls to it fail with ErrNoConnection.
func (n *Node) NodeDown(node string) {
	if n.isLocal(node) {
		return
	}
	var lost []Ref
	n.aliasMu.Lock()
	for id, w := range n.aliases {
		if w.node == node {
			lost = append(lost, Ref{Node: n.name, Creation: n.creation, ID: id})
		}
	}
	n.aliasMu.Unlock()
	for _, ref := range lost {
		n.deliverCallResult(ref, callResult{err: ErrNoConnection, down: true})
	}
	n.procs.Range(func(_, v any) bool {
		p := v.(*Process)
		if p.remote.Load() {
			_ = p.enqueue(&signal{kind: sigNodeDown, node: node}, true)
		}
		return true
	})
}
