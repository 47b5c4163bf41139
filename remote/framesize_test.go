package remote_test

import (
	"errors"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// The frame limit is one setting per node, exchanged in the handshake: a
// message larger than the receiver (or the sender's own transport) takes is
// the sender's error, and the connection survives.
func TestFrameLimitIsNegotiated(t *testing.T) {
	cases := []struct {
		name string
		a, b remote.Config
	}{
		{"receiver takes less than the sender", remote.Config{MaxFrameSize: 64 << 10}, remote.Config{MaxFrameSize: 4 << 10}},
		{"sender's transport takes less than its setting", remote.Config{Transport: &transport.TCP{MaxFrameSize: 4 << 10}}, remote.Config{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := startNode(t, nil, "a", tc.a), startNode(t, nil, "b", tc.b)
			connect(t, a, b)
			server, _ := b.Spawn(actor.Server(&echo{}))
			big := make([]byte, 8<<10)
			if err := a.Send(server, big); !errors.Is(err, transport.ErrFrameTooLarge) {
				t.Fatalf("send of 8 KiB: %v, want ErrFrameTooLarge", err)
			}
			if _, err := a.Call(ctxT(t), server, big); !errors.Is(err, transport.ErrFrameTooLarge) {
				t.Fatalf("call with 8 KiB: %v, want ErrFrameTooLarge", err)
			}
			if reply, err := a.Call(ctxT(t), server, "small"); err != nil || reply != "small" {
				t.Fatalf("after: %v, %v", reply, err)
			}
			if !a.r.IsConnected("b") {
				t.Fatal("the connection went down")
			}
		})
	}
}
