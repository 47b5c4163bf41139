package remote

import "github.com/gotp-dev/gotp/actor"

// EventKind says what happened to a peer.
type EventKind int

// Peer events.
const (
	PeerUp EventKind = iota + 1
	PeerDown
)

func (k EventKind) String() string {
	switch k {
	case PeerUp:
		return "up"
	case PeerDown:
		return "down"
	}
	return "unknown"
}

// Event tells that a peer became reachable (its first connection completed its
// handshake) or unreachable (a connection to it was lost, which takes all of
// them down). Watching processes receive it as a message.
type Event struct {
	Kind   EventKind
	Peer   NodeSpec
	Reason error // for PeerDown
}

// Subscribe calls fn for every peer event, in order, on one goroutine of the
// layer's own; fn must not block for long. The returned function cancels the
// subscription.
func (r *Remote) Subscribe(fn func(Event)) (cancel func()) {
	r.mu.Lock()
	id := r.nextSub
	r.nextSub++
	r.subs[id] = fn
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.subs, id)
		r.mu.Unlock()
	}
}

// Watch sends every peer event to the process pid as an Event message, until
// the returned function is called.
func (r *Remote) Watch(pid actor.PID) (cancel func()) {
	return r.Subscribe(func(e Event) { _ = r.node.Send(pid, e) })
}

// emit queues an event for the event loop. It never blocks a connection
// goroutine for long: the queue is generous and events are small.
func (r *Remote) emit(e Event) {
	// Subscribers are fixed when the event happens, so one that subscribes
	// later does not hear of earlier events.
	r.mu.Lock()
	fns := make([]func(Event), 0, len(r.subs))
	for id := 0; id < r.nextSub; id++ {
		if fn, ok := r.subs[id]; ok {
			fns = append(fns, fn)
		}
	}
	r.mu.Unlock()
	select {
	case r.events <- pendingEvent{e, fns}:
	case <-r.ctx.Done():
	}
}

type pendingEvent struct {
	e   Event
	fns []func(Event)
}

func (r *Remote) eventLoop() {
	defer r.wg.Done()
	for {
		select {
		case pe := <-r.events:
			for _, fn := range pe.fns {
				fn(pe.e)
			}
		case <-r.ctx.Done():
			return
		}
	}
}
