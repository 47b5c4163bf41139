package remote_test

import (
	"context"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
	"google.golang.org/protobuf/proto"
)

// recorder is a distribution layer that keeps what a node forwards.
type recorder struct {
	node string
	t    *testing.T
}

func (r *recorder) Forward(env actor.Envelope) error {
	if d := env.DestNode(); d == "" || d == r.node {
		r.t.Fatalf("the node forwarded an envelope for %q: %+v", d, env)
	}
	return nil
}

// FuzzDeliverDecoded feeds whatever decodes as an envelope to a node's
// endpoint, as a connection's reader does: nothing may panic, loop, or be
// forwarded back to the node itself.
func FuzzDeliverDecoded(f *testing.F) {
	f.Add([]byte{0x0a, 0x02, 0x08, 0x0a}) // an EnvReply with no Ref
	for _, env := range []*wirepb.Envelope{
		{Kind: wirepb.Kind_KIND_DOWN, Alias: true},
		{Kind: wirepb.Kind_KIND_CALL, To: &wirepb.Pid{Node: "a", Id: 1}},
		{Kind: wirepb.Kind_KIND_LINK, ToName: &wirepb.Name{Name: "svc"}, From: &wirepb.Pid{Node: "b", Id: 2}},
		{Kind: wirepb.Kind_KIND_WHERE_IS, ToName: &wirepb.Name{Name: "svc"}, From: &wirepb.Pid{Node: "b"}, Ref: &wirepb.Ref{Node: "b", Id: 3}},
		{Kind: wirepb.Kind_KIND_STOP, To: &wirepb.Pid{Node: "a", Id: 1}, From: &wirepb.Pid{Node: "b"}, Ref: &wirepb.Ref{Node: "b", Id: 4}},
	} {
		f.Add(envelopeBytes(f, env))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := actor.NewNode(actor.Config{Name: "a", Creation: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = n.Stop(context.Background()) }()
		ep := n.Attach(&recorder{node: "a", t: t})
		if _, err := n.Spawn(actor.Func(func(*actor.Process, any) error { return nil }), actor.WithName("svc")); err != nil {
			t.Fatal(err)
		}
		env, err := wire.DecodeEnvelope(data)
		if err != nil {
			return
		}
		_ = ep.Deliver(env)
	})
}

func envelopeBytes(f *testing.F, env *wirepb.Envelope) []byte {
	f.Helper()
	b, err := proto.Marshal(&wirepb.Frame{Body: &wirepb.Frame_Envelope{Envelope: env}})
	if err != nil {
		f.Fatal(err)
	}
	return b
}
