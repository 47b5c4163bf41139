package actor_test

import (
	"testing"

	"github.com/gotp-dev/gotp/actor"
)

// BenchmarkNodeDown is one node-down on a node of 100,000 processes of which
// ten are tied (by a monitor) to the node that went down. It runs while the
// distribution layer holds its lock, so it should cost what it affects.
func BenchmarkNodeDown(b *testing.B) {
	n, err := actor.NewNode(actor.Config{Name: "a@bench"})
	if err != nil {
		b.Fatal(err)
	}
	ep := n.Attach(&fakeRemote{envs: make(chan actor.Envelope, 1<<20)})
	nop := actor.Func(func(*actor.Process, any) error { return nil })
	for range 100000 {
		if _, err := n.Spawn(nop); err != nil {
			b.Fatal(err)
		}
	}
	for range 10 {
		if _, err := n.Spawn(nodeWatcher{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		ep.NodeDown("b@bench", nil)
	}
}

// nodeWatcher monitors b@bench from its Init.
type nodeWatcher struct{}

func (nodeWatcher) Init(p *actor.Process) error       { p.MonitorNode("b@bench"); return nil }
func (nodeWatcher) Receive(*actor.Process, any) error { return nil }
