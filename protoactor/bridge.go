// Package protoactor bridges gotp processes and Proto.Actor Go actors in one
// OS process, so that a team running Proto.Actor can move one service at a
// time: each side addresses the other through a proxy that is a native
// address of its own kind.
//
//	b := protoactor.New(node, system)
//	gp, _ := b.GotpPID(paPID)            // a gotp PID for a Proto.Actor actor
//	reply, err := node.Call(ctx, gp, &pb.Ping{})
//	pp, _ := b.ProtoPID(actor.Name{Name: "kv"}) // a Proto.Actor PID for a gotp process
//	res, err := system.Root.RequestFuture(pp, &pb.Get{}, time.Second).Result()
//
// What maps to what:
//
//	gotp                         Proto.Actor
//	Send / Cast                  Send (a cast arrives as its message)
//	Call                         RequestFuture (its error, a timeout, is the call's error)
//	monitor of the proxy         Watch of the actor: DOWN when it terminates
//	the process exits            Terminated to those that Watch the proxy
//
// Proto.Actor has no links and no exit reasons: a gotp monitor of a bridged
// actor gets DOWN with Normal when the actor stopped, ErrNoProc when it was
// not found, and ErrNoConnection when its address went away; Proto.Actor
// watchers of a bridged gotp process get Terminated, whatever its reason. A
// Proto.Actor actor that crashes and is restarted by its supervisor stays the
// same actor: the proxy goes on. In one OS process messages pass as they are
// (any Go value); a gotp error reply reaches a Proto.Actor future as the
// error value itself.
//
// Not yet: the bridge across OS processes over Proto.Actor's own remote.
package protoactor

import (
	"context"
	"errors"
	"fmt"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"

	"github.com/gotp-dev/gotp/actor"
)

// Bridge connects a gotp node and a Proto.Actor actor system in one OS
// process.
type Bridge struct {
	node *actor.Node
	sys  *pa.ActorSystem
	// CallTimeout bounds a gotp Call's RequestFuture to a Proto.Actor actor
	// and a Proto.Actor request's Call to a gotp process (default 5 s).
	CallTimeout time.Duration
}

// New returns a bridge between node and sys.
func New(node *actor.Node, sys *pa.ActorSystem) *Bridge {
	return &Bridge{node: node, sys: sys, CallTimeout: 5 * time.Second}
}

// terminated tells a gotp proxy that its actor is gone.
type terminated struct{ why pa.TerminatedReason }

// futureDone carries a RequestFuture's outcome back to the gotp proxy.
type futureDone struct {
	from  actor.From
	value any
	err   error
}

// ErrTerminated: the bridged actor terminated; a Call to its proxy fails
// with it while the proxy exits.
var ErrTerminated = errors.New("protoactor: the actor terminated")

// GotpPID returns a gotp PID for the Proto.Actor actor pid: a process that
// passes on what it is sent, turns Calls into RequestFutures, and exits
// (firing its monitors) when the actor terminates.
func (b *Bridge) GotpPID(pid *pa.PID) (actor.PID, error) {
	if pid == nil {
		return actor.PID{}, fmt.Errorf("protoactor: no PID")
	}
	proxy, err := b.node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		switch m := msg.(type) {
		case actor.CallRequest:
			timeout, self := b.CallTimeout, p.Self()
			go func() {
				v, err := b.sys.Root.RequestFuture(pid, m.Request, timeout).Result()
				_ = b.node.Send(self, futureDone{from: m.From, value: v, err: err})
			}()
		case futureDone:
			if m.err != nil {
				return p.Reply(m.from, fmt.Errorf("protoactor: request to %s: %w", pid, m.err))
			}
			return p.Reply(m.from, m.value)
		case actor.CastMessage:
			b.sys.Root.Send(pid, m.Message)
		case terminated:
			switch m.why {
			case pa.TerminatedReason_NotFound:
				return actor.ErrNoProc
			case pa.TerminatedReason_AddressTerminated:
				return actor.ErrNoConnection
			}
			return actor.Normal
		default:
			b.sys.Root.Send(pid, msg)
		}
		return nil
	}))
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

// downSeen tells a Proto.Actor proxy that its gotp process is gone.
type downSeen struct{}

// ProtoPID returns a Proto.Actor PID for the gotp process dest (a PID or a
// registered name): an actor that passes on what it is sent, turns requests
// (a sender, as RequestFuture sets) into Calls, and stops (so that watchers
// get Terminated) when the process exits.
func (b *Bridge) ProtoPID(dest actor.Dest) (*pa.PID, error) {
	if dest == nil {
		return nil, fmt.Errorf("protoactor: no destination")
	}
	var self *pa.PID
	started := make(chan error, 1)
	props := pa.PropsFromFunc(func(ctx pa.Context) {
		switch m := ctx.Message().(type) {
		case *pa.Started:
			self = ctx.Self()
			started <- b.watchGotp(dest, self)
		case *pa.Stopping, *pa.Stopped, *pa.Restarting, pa.SystemMessage, pa.AutoReceiveMessage:
		case downSeen:
			ctx.Stop(ctx.Self())
		default:
			sender := ctx.Sender()
			if sender == nil {
				_ = b.node.Send(dest, m)
				return
			}
			timeout := b.CallTimeout
			go func() {
				c, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				v, err := b.node.Call(c, dest, m)
				if err != nil {
					v = err
				}
				b.sys.Root.Send(sender, v)
			}()
		}
	})
	pid := b.sys.Root.Spawn(props)
	if err := <-started; err != nil {
		b.sys.Root.Stop(pid)
		return nil, err
	}
	return pid, nil
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
