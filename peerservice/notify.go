package peerservice

import (
	"sync"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
)

// MembershipEvent tells subscribers the membership this node now knows: every
// member, as AllMembers returns it (on a client, the other clients too).
type MembershipEvent struct {
	Members []remote.NodeSpec
}

// notifier runs callbacks in order on one goroutine of its own, so that the
// manager never waits for user code and user code may call the manager.
type notifier struct {
	mu      sync.Mutex
	queue   []func()
	wake    chan struct{}
	done    chan struct{}
	stopped bool

	nextID int
	up     map[int]watcher
	down   map[int]watcher
	subs   map[int]func(MembershipEvent)
}

type watcher struct {
	node string // "" for any node
	fn   func(remote.NodeSpec)
}

func newNotifier() *notifier {
	n := &notifier{
		wake: make(chan struct{}, 1), done: make(chan struct{}),
		up: map[int]watcher{}, down: map[int]watcher{}, subs: map[int]func(MembershipEvent){},
	}
	go n.run()
	return n
}

func (n *notifier) run() {
	defer close(n.done)
	for range n.wake {
		for {
			n.mu.Lock()
			q := n.queue
			n.queue = nil
			stopped := n.stopped
			n.mu.Unlock()
			for _, fn := range q {
				fn()
			}
			if len(q) == 0 {
				if stopped {
					return
				}
				break
			}
		}
	}
}

func (n *notifier) post(fn func()) {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return
	}
	n.queue = append(n.queue, fn)
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// stop runs what is queued and ends the goroutine.
func (n *notifier) stop() {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		<-n.done
		return
	}
	n.stopped = true
	n.mu.Unlock()
	close(n.wake)
	<-n.done
}

func (n *notifier) add(m map[int]watcher, w watcher) func() {
	n.mu.Lock()
	id := n.nextID
	n.nextID++
	m[id] = w
	n.mu.Unlock()
	return func() {
		n.mu.Lock()
		delete(m, id)
		n.mu.Unlock()
	}
}

func (n *notifier) subscribe(fn func(MembershipEvent)) func() {
	n.mu.Lock()
	id := n.nextID
	n.nextID++
	n.subs[id] = fn
	n.mu.Unlock()
	return func() {
		n.mu.Lock()
		delete(n.subs, id)
		n.mu.Unlock()
	}
}

// fire queues the callbacks of m that watch spec's node, in registration order.
func (n *notifier) fire(m map[int]watcher, spec remote.NodeSpec) {
	n.mu.Lock()
	var fns []func(remote.NodeSpec)
	for id := 0; id < n.nextID; id++ {
		if w, ok := m[id]; ok && (w.node == "" || w.node == spec.Name) {
			fns = append(fns, w.fn)
		}
	}
	n.mu.Unlock()
	if len(fns) == 0 {
		return
	}
	n.post(func() {
		for _, fn := range fns {
			fn(spec)
		}
	})
}

func (n *notifier) membership(members []remote.NodeSpec) {
	n.mu.Lock()
	var fns []func(MembershipEvent)
	for id := 0; id < n.nextID; id++ {
		if fn, ok := n.subs[id]; ok {
			fns = append(fns, fn)
		}
	}
	n.mu.Unlock()
	if len(fns) == 0 {
		return
	}
	n.post(func() {
		for _, fn := range fns {
			fn(MembershipEvent{Members: members})
		}
	})
}

// watchProcess adapts a process to a subscription.
func watchProcess(node *actor.Node, pid actor.PID) func(MembershipEvent) {
	return func(e MembershipEvent) { _ = node.Send(pid, e) }
}
