package actor

// GenServer is the callback interface of a gen_server: a process that serves
// calls and casts. Only HandleCall is required; a server may also implement
// Initializer (Init), CastHandler, InfoHandler and Terminator.
//
// HandleCall answers req: the returned reply goes back to the caller, unless it
// is NoReply, in which case the server answers later with Reply(from, ...). A
// reply that is an error value is what the caller's Call returns as its error.
// A non-nil err stops the server with err as the exit reason (the caller then
// gets an *ExitError carrying it, unless the server replied first).
type GenServer interface {
	HandleCall(p *Process, from From, req any) (reply any, err error)
}

// CastHandler handles casts. A non-nil error stops the server.
type CastHandler interface {
	HandleCast(p *Process, msg any) error
}

// InfoHandler handles every other message: plain sends, ExitMessage,
// DownMessage, timer messages. A non-nil error stops the server.
type InfoHandler interface {
	HandleInfo(p *Process, msg any) error
}

// Server adapts a GenServer to a Behavior for Spawn. Casts without a
// CastHandler and messages without an InfoHandler are logged and dropped. A
// server that traps exits stops with its parent's reason when its parent
// exits, running Terminate, as an OTP gen_server does.
func Server(s GenServer) Behavior { return &server{gs: s} }

type server struct {
	gs GenServer
}

var (
	_ Behavior    = (*server)(nil)
	_ Initializer = (*server)(nil)
	_ Terminator  = (*server)(nil)
)

func (s *server) Init(p *Process) error {
	if i, ok := s.gs.(Initializer); ok {
		return i.Init(p)
	}
	return nil
}

func (s *server) Terminate(p *Process, reason error) {
	if t, ok := s.gs.(Terminator); ok {
		t.Terminate(p, reason)
	}
}

func (s *server) Receive(p *Process, msg any) error {
	switch m := msg.(type) {
	case CallRequest:
		return s.handleCall(p, m.From, m.Request)
	case CastMessage:
		if h, ok := s.gs.(CastHandler); ok {
			return h.HandleCast(p, m.Message)
		}
		p.node.log.Warn("gen_server: unhandled cast", "pid", p.pid)
		return nil
	case ExitMessage:
		if !p.parent.IsZero() && m.From == p.parent {
			return m.Reason
		}
	}
	if h, ok := s.gs.(InfoHandler); ok {
		return h.HandleInfo(p, msg)
	}
	p.node.log.Warn("gen_server: unhandled message", "pid", p.pid)
	return nil
}

// handleCall serves one call. The process calls it directly for a call request
// that reaches a server, sparing the CallRequest boxed into an any that a
// Behavior receives.
func (s *server) handleCall(p *Process, from From, req any) error {
	reply, err := s.gs.HandleCall(p, from, req)
	if err != nil {
		return err
	}
	if _, deferred := reply.(noReply); !deferred {
		p.Reply(from, reply)
	}
	return nil
}
