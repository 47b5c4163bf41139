package main

import (
	"errors"
	"fmt"
	"sync"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/plumtree"
)

// hits is a small broadcast handler: each message is a string id and a
// string payload; the handler keeps every one it has seen and counts the
// payloads that arrive (duplicates included), which is what the relative
// message redundancy is measured from.
type hits struct {
	mu       sync.Mutex
	seen     map[string]string
	payloads int
	watchers map[int]func()
	next     int
}

func newHits() *hits {
	return &hits{seen: map[string]string{}}
}

// note is what a broadcast of the hits handler carries.
type note struct{ ID, Text string }

func (h *hits) Name() string { return "hits" }

func (h *hits) BroadcastData(msg any) (any, any, error) {
	n, ok := msg.(note)
	if !ok {
		return nil, nil, fmt.Errorf("hits: cannot broadcast %T", msg)
	}
	h.store(n.ID, n.Text)
	return n.ID, n.Text, nil
}

func (h *hits) Merge(id, payload any) bool {
	key, ok1 := id.(string)
	text, ok2 := payload.(string)
	if !ok1 || !ok2 {
		return false
	}
	h.mu.Lock()
	h.payloads++
	h.mu.Unlock()
	return h.store(key, text)
}

// store records a message and reports whether it was new; the watchers
// hear of a new one.
func (h *hits) store(id, text string) bool {
	h.mu.Lock()
	_, had := h.seen[id]
	if !had {
		h.seen[id] = text
	}
	var tell []func()
	if !had {
		for _, fn := range h.watchers {
			tell = append(tell, fn)
		}
	}
	h.mu.Unlock()
	for _, fn := range tell {
		fn()
	}
	return !had
}

// onChange calls fn after each new message, until cancelled.
func (h *hits) onChange(fn func()) (cancel func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.watchers == nil {
		h.watchers = map[int]func(){}
	}
	h.next++
	id := h.next
	h.watchers[id] = fn
	return func() {
		h.mu.Lock()
		delete(h.watchers, id)
		h.mu.Unlock()
	}
}

func (h *hits) IsStale(id any) bool {
	key, _ := id.(string)
	h.mu.Lock()
	defer h.mu.Unlock()
	_, had := h.seen[key]
	return had
}

func (h *hits) Graft(id any) (any, error) {
	key, _ := id.(string)
	h.mu.Lock()
	defer h.mu.Unlock()
	if text, ok := h.seen[key]; ok {
		return text, nil
	}
	return nil, errNotFound
}

var errNotFound = errors.New("hits: no such message")

// Exchange declines: the demo's broadcasts are repaired by grafts alone.
func (h *hits) Exchange(*actor.Process, string) (actor.PID, error) {
	return actor.PID{}, plumtree.ErrIgnore
}

// count returns how many distinct messages and payload arrivals it has.
func (h *hits) count() (messages, payloads int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.seen), h.payloads
}
