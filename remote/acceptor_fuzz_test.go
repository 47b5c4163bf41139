package remote_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/remote/wire"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// crasher is the 4-byte frame that once looped a node to death: an EnvReply
// with no Ref.
var crasher = []byte{0x0a, 0x02, 0x08, 0x0a}

func framed(frames ...[]byte) []byte {
	var b []byte
	for _, f := range frames {
		b = append(b, byte(len(f)>>24), byte(len(f)>>16), byte(len(f)>>8), byte(len(f)))
		b = append(b, f...)
	}
	return b
}

// FuzzAcceptorBeforeHandshake writes arbitrary bytes to a live node's TCP
// port, as a stranger would: whatever they are, the node refuses or closes
// that connection only, and goes on serving real peers.
func FuzzAcceptorBeforeHandshake(f *testing.F) {
	hello, _ := wire.EncodeFrame(&wirepb.Frame{Body: &wirepb.Frame_Hello{Hello: &wirepb.Hello{
		Name: "x", Creation: 1, Version: remote.ProtocolVersion, Channel: remote.DefaultChannel,
	}}})
	f.Add(framed(crasher))
	f.Add(framed(hello))
	f.Add(framed(hello, crasher))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x01, 0x00, 0x00, 0x00})
	f.Add(framed(hello)[:7])
	b := startNode(f, nil, "b", remote.Config{HandshakeTimeout: 200 * time.Millisecond})
	a := startNode(f, nil, "a", remote.Config{})
	if err := a.r.Connect(context.Background(), b.r.Spec()); err != nil {
		f.Fatal(err)
	}
	server, _ := b.Spawn(actor.Server(&echo{}))
	addr := b.r.Addrs()[0]
	var runs atomic.Int64
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write(data)
		_ = c.Close()
		if runs.Add(1)%256 == 1 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if reply, err := a.Call(ctx, server, "alive?"); err != nil || reply != "alive?" {
				t.Fatalf("the node stopped serving a real peer: %v, %v", reply, err)
			}
		}
	})
}

// FuzzAcceptorAfterHandshake puts arbitrary frames on an authenticated
// connection, as a broken or hostile cookie holder would: the node delivers
// what is well formed, closes the connection over what is not, never crashes,
// and serves the peer again once it redials.
func FuzzAcceptorAfterHandshake(f *testing.F) {
	f.Add(crasher)
	for _, env := range []*wirepb.Envelope{
		{Kind: wirepb.Kind_KIND_DOWN, Alias: true},
		{Kind: wirepb.Kind_KIND_CALL, To: &wirepb.Pid{Node: "b", Id: 1}},
		{Kind: wirepb.Kind_KIND_LINK, ToName: &wirepb.Name{Name: "echo"}, From: &wirepb.Pid{Node: "a", Id: 9}},
		{Kind: wirepb.Kind_KIND_WHERE_IS, ToName: &wirepb.Name{Name: "echo"}, From: &wirepb.Pid{Node: "a"}, Ref: &wirepb.Ref{Node: "a", Id: 3}},
		{Kind: wirepb.Kind_KIND_MESSAGE, ToName: &wirepb.Name{Name: "echo"}},
	} {
		b, _ := wire.EncodeFrame(&wirepb.Frame{Body: &wirepb.Frame_Envelope{Envelope: env}})
		f.Add(b)
	}
	f.Add([]byte{})
	net := transport.NewNetwork(70)
	a := startNode(f, net, "a", remote.Config{})
	b := startNode(f, net, "b", remote.Config{})
	server, _ := b.Spawn(actor.Server(&echo{}), actor.WithName("echo"))
	var fuzzed atomic.Pointer[[]byte]
	net.SetHook(func(from, to string, frame []byte) ([]byte, bool) {
		if from == "a" && to == "b" {
			if d := fuzzed.Swap(nil); d != nil {
				return *d, true
			}
		}
		return frame, true
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.r.Connect(ctx, b.r.Spec()); err != nil {
			t.Fatal(err)
		}
		d := append([]byte(nil), data...)
		fuzzed.Store(&d)
		_ = a.Send(server, "carrier") // its frame is replaced by the fuzzed one
		fuzzed.Store(nil)
		if reply, err := a.Call(ctx, server, "alive?"); err != nil && !a.r.IsConnected("b") {
			// The connection went over the fuzzed frame: a redial serves.
			if err := a.r.Connect(ctx, b.r.Spec()); err != nil {
				t.Fatal(err)
			}
			if reply, err = a.Call(ctx, server, "alive?"); err != nil || reply != "alive?" {
				t.Fatalf("after a redial: %v, %v", reply, err)
			}
		} else if err == nil && reply != "alive?" {
			t.Fatalf("reply %v", reply)
		}
	})
}
