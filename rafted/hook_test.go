package rafted_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/rafted"
)

type recordingHook struct {
	mu     sync.Mutex
	events []string
}

func (h *recordingHook) add(format string, args ...any) {
	h.mu.Lock()
	h.events = append(h.events, fmt.Sprintf(format, args...))
	h.mu.Unlock()
}

func (h *recordingHook) OnCommandCommitted(_ rafted.Data, arg, ret any) {
	h.add("command %v -> %v", arg, ret)
}
func (h *recordingHook) OnQueryAnswered(_ rafted.Data, arg, ret any) {
	h.add("query %v -> %v", arg, ret)
}
func (h *recordingHook) OnFollowerAdded(_ rafted.Data, pid actor.PID) { h.add("added") }
func (h *recordingHook) OnFollowerRemoved(_ rafted.Data, pid actor.PID) {
	h.add("removed")
}
func (h *recordingHook) OnElected(rafted.Data)           { h.add("elected") }
func (h *recordingHook) OnRestoredFromFiles(rafted.Data) { h.add("restored") }

func (h *recordingHook) snapshot() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}

func TestLeaderHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 14, 2)
		ctx, cancel := ctxT(10 * time.Second)
		defer cancel()
		h := &recordingHook{}
		dir := t.TempDir()
		first, err := rafted.Start(ctx, c.node(0), rafted.Options{NewData: newKV, Create: &rafted.Config{}, Name: "rv", Hook: h, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		second, err := rafted.Start(ctx, c.node(1), rafted.Options{NewData: newKV, Join: []rafted.Server{first.Server()}, Name: "rv"})
		if err != nil {
			t.Fatal(err)
		}
		n, s := c.node(0), first.Server()
		if _, err := rafted.Command(ctx, n, s, put("a", 1), ""); err != nil {
			t.Fatal(err)
		}
		if _, err := rafted.Query(ctx, n, s, "a"); err != nil {
			t.Fatal(err)
		}
		if err := rafted.RemoveFollower(ctx, n, s, second.PID); err != nil {
			t.Fatal(err)
		}
		want := []string{"elected", "added", "command [put a 1] -> 0", "query a -> 1", "removed"}
		if got := h.snapshot(); !slices.Equal(got, want) {
			t.Fatalf("events %q, want %q", got, want)
		}
		_ = n.Exit(first.PID, actor.Kill)
		time.Sleep(10 * time.Millisecond)
		if _, err := rafted.Start(ctx, n, rafted.Options{NewData: newKV, Name: "rv", Hook: h, Dir: dir}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		got := h.snapshot()
		if !slices.Contains(got[len(want):], "restored") || !slices.Contains(got[len(want):], "elected") {
			t.Fatalf("after restart: %q", got[len(want):])
		}
	})
}
