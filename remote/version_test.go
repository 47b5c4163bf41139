package remote_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/remote/wire"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// A peer speaking another protocol version, or sending garbage instead of a
// hello, is refused with a reason and logged; the node keeps serving others.
func TestHandshakeRefusals(t *testing.T) {
	cases := []struct {
		name   string
		first  func() []byte
		reason string // expected in the refusal; "" when the peer just closes
		log    string
	}{
		{"version", func() []byte {
			b, _ := wire.EncodeFrame(&wirepb.Frame{Body: &wirepb.Frame_Hello{Hello: &wirepb.Hello{
				Name: "x", Creation: 1, Version: 99, Channel: remote.DefaultChannel, Challenge: make([]byte, 32),
			}}})
			return b
		}, "unsupported protocol version", "unsupported protocol version"},
		{"garbage", func() []byte { return []byte{0xde, 0xad, 0xbe, 0xef} }, "", "handshake failed"},
		{"wrong name", func() []byte {
			b, _ := wire.EncodeFrame(&wirepb.Frame{Body: &wirepb.Frame_Hello{Hello: &wirepb.Hello{
				Name: "x", Creation: 1, Version: remote.ProtocolVersion, ExpectName: "not-b", Channel: remote.DefaultChannel, Challenge: make([]byte, 32),
			}}})
			return b
		}, "peer has another name", "peer has another name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				net := transport.NewNetwork(2)
				var logB logBuffer
				b := startNode(t, net, "b", remote.Config{Logger: logB.logger()})
				raw, err := net.Transport("x").Dial(context.Background(), "b")
				if err != nil {
					t.Fatal(err)
				}
				defer raw.Close()
				if err := raw.WriteFrames([][]byte{tc.first()}); err != nil {
					t.Fatal(err)
				}
				reply, err := raw.ReadFrame()
				if tc.reason != "" {
					if err != nil {
						t.Fatalf("no refusal: %v", err)
					}
					f, err := wire.DecodeFrame(reply)
					if err != nil || f.GetRefuse().GetReason() != tc.reason {
						t.Fatalf("reply %v, %v; want refusal %q", f, err, tc.reason)
					}
				}
				<-logB.seen(tc.log)
				if b.r.IsConnected("x") {
					t.Fatal("refused peer listed")
				}
				a := startNode(t, net, "a", remote.Config{})
				connect(t, a, b)
			})
		})
	}
}
