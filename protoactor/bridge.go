package protoactor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/protoactor/bridgepb"
)

// Bridge connects a gotp node and a Proto.Actor actor system.
type Bridge struct {
	node *actor.Node
	sys  *pa.ActorSystem
	// CallTimeout bounds a gotp Call's RequestFuture to a Proto.Actor actor
	// and a Proto.Actor request's Call to a gotp process (default 5 s).
	CallTimeout time.Duration
	// MaxInFlight bounds the requests one proxy has in flight (default
	// 1024); a request past it fails at once with ErrBusy, so a slow side
	// cannot make the other hold an unbounded number of waiting calls.
	MaxInFlight int
	// MailboxBound bounds the mailbox of each gotp proxy (default 10,000):
	// when the Proto.Actor actor behind it is slow and its own mailbox is
	// bounded (pa.Bounded blocks its senders), the proxy waits, its mailbox
	// fills, and gotp senders get actor.ErrMailboxFull instead of memory
	// growing without end. 0 keeps the default; a negative value leaves the
	// mailbox unbounded.
	MailboxBound int
	// Logger receives what cannot be answered (a send that cannot cross
	// Proto.Actor's remote); default: discard.
	Logger *slog.Logger

	dropped atomic.Int64
}

// New returns a bridge between node and sys. For the bridge to reach, and be
// reached by, Proto.Actor systems in other OS processes, start sys's remote
// (remote.NewRemote(sys, ...).Start()) before making proxies.
func New(node *actor.Node, sys *pa.ActorSystem) *Bridge {
	return &Bridge{node: node, sys: sys, CallTimeout: 5 * time.Second}
}

// Errors of the bridge.
var (
	// ErrTerminated: the bridged actor terminated; a Call to its proxy
	// fails with it while the proxy exits.
	ErrTerminated = errors.New("protoactor: the actor terminated")
	// ErrNotProto: a message or reply that has to cross Proto.Actor's
	// remote is not a protobuf message, and Proto.Actor carries nothing
	// else (registered gotp types included).
	ErrNotProto = errors.New("protoactor: not a protobuf message: Proto.Actor's remote carries only those")
	// ErrBusy: the proxy has MaxInFlight requests in flight already.
	ErrBusy = errors.New("protoactor: too many requests in flight through the proxy")
)

// Dropped counts the messages the bridge could not pass on and nobody could be
// told about: plain sends that cannot cross Proto.Actor's remote, and sends
// from Proto.Actor refused by a full gotp mailbox.
func (b *Bridge) Dropped() int64 { return b.dropped.Load() }

func (b *Bridge) callTimeout() time.Duration {
	if b.CallTimeout > 0 {
		return b.CallTimeout
	}
	return 5 * time.Second
}

func (b *Bridge) maxInFlight() int {
	if b.MaxInFlight > 0 {
		return b.MaxInFlight
	}
	return 1024
}

func (b *Bridge) logger() *slog.Logger {
	if b.Logger != nil {
		return b.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// isRemote reports whether pid lives in another actor system, so that what is
// sent to it crosses Proto.Actor's remote.
func (b *Bridge) isRemote(pid *pa.PID) bool { return pid.GetAddress() != b.sys.Address() }

// crossable reports whether msg can be sent to pid.
func (b *Bridge) crossable(pid *pa.PID, msg any) bool {
	if !b.isRemote(pid) {
		return true
	}
	_, ok := msg.(proto.Message)
	return ok
}

// terminated tells a gotp proxy that its actor is gone.
type terminated struct{ why pa.TerminatedReason }

// futureDone carries a RequestFuture's outcome back to the gotp proxy.
type futureDone struct {
	from  actor.From
	value any
	err   error
}

// GotpPID returns a gotp PID for the Proto.Actor actor pid, in this actor
// system or (over Proto.Actor's remote) another: a process that passes on
// what it is sent, turns Calls into RequestFutures, and exits (firing its
// monitors) when the actor terminates or its address is lost.
func (b *Bridge) GotpPID(pid *pa.PID) (actor.PID, error) {
	if pid == nil {
		return actor.PID{}, fmt.Errorf("protoactor: no PID")
	}
	inFlight, limit := 0, b.maxInFlight()
	var opts []actor.SpawnOption
	switch {
	case b.MailboxBound > 0:
		opts = append(opts, actor.WithMailboxBound(b.MailboxBound))
	case b.MailboxBound == 0:
		opts = append(opts, actor.WithMailboxBound(10_000))
	}
	proxy, err := b.node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		switch m := msg.(type) {
		case actor.CallRequest:
			switch {
			case !b.crossable(pid, m.Request):
				return p.Reply(m.From, fmt.Errorf("protoactor: request to %s: a %T: %w", pid, m.Request, ErrNotProto))
			case inFlight >= limit:
				return p.Reply(m.From, fmt.Errorf("protoactor: request to %s: %w", pid, ErrBusy))
			}
			inFlight++
			timeout, self := b.callTimeout(), p.Self()
			go func() {
				v, err := b.sys.Root.RequestFuture(pid, m.Request, timeout).Result()
				_ = b.node.Send(self, futureDone{from: m.From, value: v, err: err})
			}()
		case futureDone:
			inFlight--
			if m.err != nil {
				return p.Reply(m.from, fmt.Errorf("protoactor: request to %s: %w", pid, m.err))
			}
			if e, ok := m.value.(*bridgepb.Error); ok {
				return p.Reply(m.from, errorOf(e))
			}
			return p.Reply(m.from, m.value)
		case actor.CastMessage:
			b.pass(pid, m.Message)
		case terminated:
			switch m.why {
			case pa.TerminatedReason_NotFound:
				return actor.ErrNoProc
			case pa.TerminatedReason_AddressTerminated:
				return actor.ErrNoConnection
			}
			return actor.Normal
		default:
			b.pass(pid, msg)
		}
		return nil
	}), opts...)
	if err != nil {
		return actor.PID{}, err
	}
	// A Proto.Actor watcher tells the proxy when the actor is gone.
	b.sys.Root.Spawn(pa.PropsFromFunc(func(ctx pa.Context) {
		switch m := ctx.Message().(type) {
		case *pa.Started:
			ctx.Watch(pid)
		case *pa.Terminated:
			if m.Who.Equal(pid) {
				_ = b.node.Send(proxy, terminated{why: m.Why})
				ctx.Stop(ctx.Self())
			}
		}
	}))
	return proxy, nil
}

// pass sends msg on to pid, or drops it (counted, logged) when it cannot
// cross the wire.
func (b *Bridge) pass(pid *pa.PID, msg any) {
	if !b.crossable(pid, msg) {
		b.dropped.Add(1)
		b.logger().Warn("protoactor: send dropped", "to", pid.String(), "type", fmt.Sprintf("%T", msg), "err", ErrNotProto.Error())
		return
	}
	b.sys.Root.Send(pid, msg)
}

// downSeen tells a Proto.Actor proxy that its gotp process is gone.
type downSeen struct{}

// callDone tells a Proto.Actor proxy that one of its requests is answered.
type callDone struct{}

// ProtoPID returns a Proto.Actor PID for the gotp process dest (a PID or a
// registered name): an actor that passes on what it is sent, turns requests
// (a sender, as RequestFuture sets) into Calls, and stops (so that watchers
// get Terminated) when the process exits.
func (b *Bridge) ProtoPID(dest actor.Dest) (*pa.PID, error) {
	return b.spawnProxy(dest, func(props *pa.Props) (*pa.PID, error) { return b.sys.Root.Spawn(props), nil })
}

// Expose is ProtoPID under a name of the actor system's own, for Proto.Actor
// systems in other OS processes: with sys's remote started they reach the
// gotp process dest as pa.NewPID(sys.Address(), name), by Send, Request or
// RequestFuture, and a Watch of it gets Terminated when the process exits.
// What crosses the wire must be protobuf messages: a request arrives as the
// message it is; a reply that is not one, and every error (the process's exit,
// noproc, a timeout, ErrBusy), goes back as a *bridgepb.Error, which the
// bridge on a gotp node at the other end turns back into an error.
func (b *Bridge) Expose(name string, dest actor.Dest) (*pa.PID, error) {
	if name == "" {
		return nil, fmt.Errorf("protoactor: expose: no name")
	}
	return b.spawnProxy(dest, func(props *pa.Props) (*pa.PID, error) { return b.sys.Root.SpawnNamed(props, name) })
}

func (b *Bridge) spawnProxy(dest actor.Dest, spawn func(*pa.Props) (*pa.PID, error)) (*pa.PID, error) {
	if dest == nil {
		return nil, fmt.Errorf("protoactor: no destination")
	}
	started := make(chan error, 1)
	inFlight, limit := 0, b.maxInFlight()
	props := pa.PropsFromFunc(func(ctx pa.Context) {
		switch m := ctx.Message().(type) {
		case *pa.Started:
			started <- b.watchGotp(dest, ctx.Self())
		case *pa.Stopping, *pa.Stopped, *pa.Restarting, pa.SystemMessage, pa.AutoReceiveMessage:
		case downSeen:
			ctx.Stop(ctx.Self())
		case callDone:
			inFlight--
		default:
			sender := ctx.Sender()
			if sender == nil {
				if err := b.node.Send(dest, m); err != nil {
					b.dropped.Add(1)
				}
				return
			}
			if inFlight >= limit {
				b.answer(sender, nil, fmt.Errorf("protoactor: request to %s: %w", dest, ErrBusy))
				return
			}
			inFlight++
			self, timeout := ctx.Self(), b.callTimeout()
			go func() {
				c, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				v, err := b.node.Call(c, dest, m)
				b.answer(sender, v, err)
				b.sys.Root.Send(self, callDone{})
			}()
		}
	})
	pid, err := spawn(props)
	if err != nil {
		return nil, err
	}
	if err := <-started; err != nil {
		b.sys.Root.Stop(pid)
		return nil, err
	}
	return pid, nil
}

// answer replies to a Proto.Actor requester: in this actor system with the
// value or the error itself, across the remote with protobuf only.
func (b *Bridge) answer(to *pa.PID, v any, err error) {
	if !b.isRemote(to) {
		if err != nil {
			v = err
		}
		b.sys.Root.Send(to, v)
		return
	}
	if err == nil {
		if e, isErr := v.(error); isErr {
			err = e
		} else if _, ok := v.(proto.Message); !ok {
			err = fmt.Errorf("protoactor: reply of type %T: %w", v, ErrNotProto)
		}
	}
	if err != nil {
		v = errorProto(err)
	}
	b.sys.Root.Send(to, v)
}

// watchGotp starts a gotp process that monitors dest and stops the
// Proto.Actor proxy when dest is gone.
func (b *Bridge) watchGotp(dest actor.Dest, proxy *pa.PID) error {
	w, err := b.node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		switch msg.(type) {
		case actor.DownMessage:
			b.sys.Root.Send(proxy, downSeen{})
			return actor.Normal
		case string:
			p.Monitor(dest)
		}
		return nil
	}))
	if err != nil {
		return err
	}
	return b.node.Send(w, "watch")
}
