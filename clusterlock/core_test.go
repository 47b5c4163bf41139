package clusterlock

import (
	"reflect"
	"testing"

	"github.com/gotp-dev/gotp/actor"
)

func pid(id uint64) actor.PID { return actor.PID{Node: "n", Creation: 1, ID: id} }
func from(id uint64) actor.From {
	return actor.From{PID: pid(id), Ref: actor.Ref{Node: "n", Creation: 1, ID: id}}
}

func TestCoreGrantsQueuesAndHandsOverInOrder(t *testing.T) {
	c := newCore()
	a, b, d := pid(1), pid(2), pid(3)
	steps := []struct {
		name string
		effs []effect
		want []effect
	}{
		{"a takes the free lock", c.set(from(1), "x", a), []effect{{kind: effMonitor, pid: a}, {kind: effGrant, from: from(1)}}},
		{"a nests", c.set(from(11), "x", a), []effect{{kind: effGrant, from: from(11)}}},
		{"b waits", c.set(from(2), "x", b), []effect{{kind: effMonitor, pid: b}}},
		{"d waits", c.set(from(3), "x", d), []effect{{kind: effMonitor, pid: d}}},
		{"a releases once: still held", c.release("x", a), nil},
		{"a releases again: b gets it", c.release("x", a), []effect{{kind: effDemonitor, pid: a}, {kind: effGrant, from: from(2)}}},
		{"a releases what it no longer holds", c.release("x", a), nil},
		{"b dies: d gets it", c.down(b), []effect{{kind: effGrant, from: from(3)}}},
		{"d withdraws nothing from an empty queue", c.release("y", d), nil},
		{"d releases: free", c.release("x", d), []effect{{kind: effDemonitor, pid: d}}},
	}
	for _, s := range steps {
		if !reflect.DeepEqual(s.effs, s.want) {
			t.Fatalf("%s: effects %+v, want %+v", s.name, s.effs, s.want)
		}
	}
	if len(c.locks) != 0 || len(c.uses) != 0 {
		t.Fatalf("state left behind: %+v %+v", c.locks, c.uses)
	}
}

func TestCoreWithdrawAndDeadWaiter(t *testing.T) {
	c := newCore()
	a, b, d := pid(1), pid(2), pid(3)
	c.set(from(1), "x", a)
	c.set(from(2), "x", b)
	c.set(from(3), "x", d)
	c.set(from(4), "y", b)
	// b withdraws its wait on x (its Acquire gave up) but still holds y.
	if got, want := c.release("x", b), []effect{{kind: effRefuse, from: from(2)}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("withdraw: %+v, want %+v", got, want)
	}
	// d dies while waiting: its caller is told, a keeps x.
	if got, want := c.down(d), []effect{{kind: effRefuse, from: from(3)}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("dead waiter: %+v, want %+v", got, want)
	}
	info := c.info()
	if len(info) != 2 || info[0].ID != "x" || info[0].Holder != a || len(info[0].Waiting) != 0 || info[1].ID != "y" || info[1].Holder != b {
		t.Fatalf("info %+v", info)
	}
	// A down of someone unknown does nothing.
	if effs := c.down(pid(9)); effs != nil {
		t.Fatalf("unknown down: %+v", effs)
	}
}
