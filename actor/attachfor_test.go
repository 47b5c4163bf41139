package actor_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gotp-dev/gotp/actor"
)

// layer is a distribution layer that records the nodes it was handed
// envelopes for, and whether it was stopped.
type layer struct {
	got     []string
	stopped bool
}

func (l *layer) Forward(env actor.Envelope) error {
	l.got = append(l.got, env.DestNode())
	return nil
}

func (l *layer) Stop() { l.stopped = true }

// A node may speak two distributions: AttachFor carries the nodes its match
// accepts (an Erlang cluster's, say) beside the layer Attach installed for
// the rest; detaching it gives those nodes back to the other layer, and
// Node.Stop stops both.
func TestAttachForRoutesByNode(t *testing.T) {
	n, err := actor.NewNode(actor.Config{Name: "a@test"})
	if err != nil {
		t.Fatal(err)
	}
	gotp, erl := &layer{}, &layer{}
	n.Attach(gotp)
	ep := n.AttachFor(func(node string) bool { return strings.HasPrefix(node, "erl") }, erl)
	send := func(node string) {
		t.Helper()
		if err := n.Send(actor.PID{Node: node, ID: 1}, "x"); err != nil {
			t.Fatalf("send to %s: %v", node, err)
		}
	}
	send("erl1@h")
	send("b@test")
	if len(erl.got) != 1 || erl.got[0] != "erl1@h" || len(gotp.got) != 1 || gotp.got[0] != "b@test" {
		t.Fatalf("routed: gotp %v, erlang %v", gotp.got, erl.got)
	}
	ep.Detach()
	send("erl1@h")
	if len(gotp.got) != 2 || len(erl.got) != 1 {
		t.Fatalf("after detaching: gotp %v, erlang %v", gotp.got, erl.got)
	}
	n.AttachFor(func(node string) bool { return strings.HasPrefix(node, "erl") }, erl)
	if err := n.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !gotp.stopped || !erl.stopped {
		t.Fatalf("stopped: gotp %v, erlang %v", gotp.stopped, erl.stopped)
	}
}

// With only AttachFor's layer, other nodes are unreachable.
func TestAttachForAloneLeavesOthersUnreachable(t *testing.T) {
	n, err := actor.NewNode(actor.Config{Name: "a@test"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = n.Stop(context.Background()) }()
	n.AttachFor(func(node string) bool { return node == "e@h" }, &layer{})
	if err := n.Send(actor.PID{Node: "b@test", ID: 1}, "x"); !errors.Is(err, actor.ErrNoConnection) {
		t.Fatalf("send to a node no layer carries: %v, want ErrNoConnection", err)
	}
}
