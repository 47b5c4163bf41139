package remote_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// No DOWN is lost while a flood keeps the send queue full: every watcher
// gets its DOWN with the target's reason, or noconnection if the connection
// had to be given up.
func TestDownsSurviveAFullSendQueue(t *testing.T) {
	const targets = 10000
	onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
		a := mk("a", remote.Config{})
		b := mk("b", remote.Config{SendQueueBytes: 2048})
		connect(t, a, b)
		sink, _ := a.Spawn(actor.Func(func(*actor.Process, any) error { return nil }))
		pids, downs := watchMany(t, a, b, targets)
		// The monitors are set once b has seen all of them: a call on the
		// same connection after them comes back after they arrived.
		echoPID, _ := b.Spawn(actor.Server(&echo{}))
		if _, err := a.Call(ctxT(t), echoPID, "sync"); err != nil {
			t.Fatal(err)
		}
		for _, pid := range pids {
			if info, err := b.Info(pid); err != nil || len(info.MonitoredBy) != 1 {
				t.Fatalf("target %v: %+v, %v", pid, info, err)
			}
		}
		payload := make([]byte, 512)
		full := 0
		for _, pid := range pids {
			for range 4 {
				if err := b.Send(sink, payload); errors.Is(err, remote.ErrSendQueueFull) {
					full++
				}
			}
			_ = b.Exit(pid, actor.Kill)
		}
		got, lost := 0, 0
		for i := range targets {
			var d actor.DownMessage
			select {
			case d = <-downs:
			case <-time.After(time.Minute):
				t.Fatalf("%d of %d DOWNs lost", targets-i, targets)
			}
			switch {
			case errors.Is(d.Reason, actor.Killed):
				got++
			case errors.Is(d.Reason, actor.ErrNoConnection):
				lost++
			default:
				t.Fatalf("DOWN %+v", d)
			}
		}
		t.Logf("%d DOWNs with the reason, %d as noconnection, 0 missing; %d flood sends found the queue full", got, lost, full)
		if full == 0 {
			t.Log("the flood never filled the queue in this run")
		}
	})
}

// A peer that stops reading cannot make signals vanish either: once even the
// signals' reserve is full, the connection is given up and every watcher gets
// noconnection.
func TestSignalsToAStalledPeerBreakTheConnection(t *testing.T) {
	const targets = 2000
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(21)
		a := startNode(t, net, "a", remote.Config{})
		b := startNode(t, net, "b", remote.Config{SendQueueBytes: 2048, SignalReserveBytes: 64 << 10})
		connect(t, a, b)
		pids, downs := watchMany(t, a, b, targets)
		synctest.Wait()
		// b's writer to a stalls, as a peer that stops reading makes it.
		release := make(chan struct{})
		var stalled atomic.Bool
		stalled.Store(true)
		net.SetHook(func(from, to string, frame []byte) ([]byte, bool) {
			if from == "b" && stalled.Load() {
				<-release
			}
			return frame, true
		})
		for _, pid := range pids {
			_ = b.Exit(pid, actor.Kill)
		}
		lost := 0
		for range targets {
			switch d := <-downs; {
			case errors.Is(d.Reason, actor.ErrNoConnection):
				lost++
			case !errors.Is(d.Reason, actor.Killed):
				t.Fatalf("DOWN %+v", d)
			}
		}
		if lost == 0 {
			t.Fatal("every DOWN crossed a stalled connection")
		}
		stalled.Store(false)
		close(release)
	})
}

// watchMany spawns n idle processes on b and one watcher on a that monitors
// all of them; it returns once every monitor is set on a's side, with the
// channel the watcher passes its DOWNs to.
func watchMany(t *testing.T, a, b *testNode, n int) ([]actor.PID, <-chan actor.DownMessage) {
	t.Helper()
	pids := make([]actor.PID, n)
	for i := range pids {
		pid, err := b.Spawn(actor.Func(func(*actor.Process, any) error { return nil }))
		if err != nil {
			t.Fatal(err)
		}
		pids[i] = pid
	}
	downs := make(chan actor.DownMessage, n)
	monitored := make(chan struct{})
	w, err := a.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		switch m := msg.(type) {
		case []actor.PID:
			for _, pid := range m {
				p.Monitor(pid)
			}
			close(monitored)
		case actor.DownMessage:
			downs <- m
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Send(w, pids); err != nil {
		t.Fatal(err)
	}
	<-monitored
	return pids, downs
}
