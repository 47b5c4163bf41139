package peerservice

import (
	"reflect"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/remote"
)

// The acknowledged-forwarding core on its own: a receiver delivers in order
// and once, holds back what overtook a missing message, and stops waiting
// when the sender gives the missing one up or falls silent.
func TestCoreAckedForwarding(t *testing.T) {
	newPair := func() (a, b *core, now time.Time) {
		cfg := Config{MaxRetransmits: 2}.withDefaults(nil)
		now = time.Unix(0, 0)
		a = newCore(cfg, remote.NodeSpec{Name: "a"}, "a/1", now)
		b = newCore(cfg, remote.NodeSpec{Name: "b"}, "b/1", now)
		return a, b, now
	}
	forwards := func(eff effects) []forwardMsg {
		var out []forwardMsg
		for _, o := range eff.sends {
			if l, ok := o.msg.([]any); ok {
				if f, ok := parseList(l); ok {
					out = append(out, f.(forwardMsg))
				}
			}
		}
		return out
	}
	delivered := func(eff effects) []any {
		var out []any
		for _, f := range eff.deliver {
			out = append(out, f.Msg)
		}
		return out
	}
	send := func(a *core, msg any, now time.Time) forwardMsg {
		return forwards(a.forward("b", forwardMsg{Msg: msg}, now))[0]
	}

	t.Run("gap filled by a retransmission", func(t *testing.T) {
		a, b, now := newPair()
		m1, m2, m3 := send(a, 1, now), send(a, 2, now), send(a, 3, now)
		var got []any
		got = append(got, delivered(b.handleForward(m2, now))...)
		got = append(got, delivered(b.handleForward(m3, now))...)
		if len(got) != 0 {
			t.Fatalf("delivered %v ahead of the missing first message", got)
		}
		got = append(got, delivered(b.handleForward(m1, now))...)
		got = append(got, delivered(b.handleForward(m2, now))...) // a duplicate
		if want := []any{1, 2, 3}; !reflect.DeepEqual(got, want) {
			t.Fatalf("delivered %v, want %v", got, want)
		}
	})
	t.Run("sender gives the missing one up", func(t *testing.T) {
		a, b, now := newPair()
		_, m2 := send(a, 1, now), send(a, 2, now)
		b.handleForward(m2, now)
		a.handleAck(ackMsg{From: "b", Actor: "a/1", Seq: m2.Seq})
		var floor *floorMsg
		for range 3 {
			now = now.Add(a.cfg.RetransmitInterval)
			for _, o := range a.retransmitTick(now).sends {
				if f, ok := o.msg.(floorMsg); ok {
					floor = &f
				}
			}
		}
		if floor == nil || a.pendingCount() != 0 {
			t.Fatalf("after %d retransmissions: floor %v, %d pending", a.cfg.MaxRetransmits, floor, a.pendingCount())
		}
		if got := delivered(b.handleFloor(*floor)); !reflect.DeepEqual(got, []any{2}) {
			t.Fatalf("at the floor delivered %v, want [2]", got)
		}
	})
	t.Run("silent sender", func(t *testing.T) {
		a, b, now := newPair()
		_, m2 := send(a, 1, now), send(a, 2, now)
		b.handleForward(m2, now)
		horizon := time.Duration(b.cfg.MaxRetransmits+2) * b.cfg.RetransmitInterval
		if got := delivered(b.heartbeatTick(now.Add(horizon))); len(got) != 0 {
			t.Fatalf("gave up on the sender too early: delivered %v", got)
		}
		if got := delivered(b.heartbeatTick(now.Add(horizon + time.Second))); !reflect.DeepEqual(got, []any{2}) {
			t.Fatalf("after the horizon delivered %v, want [2]", got)
		}
		if len(b.in) != 0 {
			t.Fatalf("receiver still remembers %d senders", len(b.in))
		}
	})
}
