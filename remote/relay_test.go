package remote_test

import (
	"errors"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
)

// viaPolicy sends everything through one relay node and refuses direct
// connections from one named node, as a client-server topology does.
type viaPolicy struct {
	relay  string
	refuse string
}

func (v viaPolicy) Accept(peer remote.NodeSpec) error {
	if peer.Name == v.refuse {
		return &remote.Refusal{Reason: "clients talk through the server", Referral: remote.NodeSpec{Name: v.relay}}
	}
	return nil
}

func (v viaPolicy) Route(dest string) (string, error) {
	if dest == v.relay {
		return dest, nil
	}
	return v.relay, nil
}

func TestRelayThroughThirdNode(t *testing.T) {
	onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
		s := mk("server", remote.Config{})
		a := mk("a", remote.Config{Policy: viaPolicy{relay: "server", refuse: "c"}})
		c := mk("c", remote.Config{Policy: viaPolicy{relay: "server"}})
		connect(t, a, s)
		connect(t, c, s)
		// s knows both and connects on demand when it relays.
		s.r.Learn(a.r.Spec())
		s.r.Learn(c.r.Spec())

		// A direct connection from c to a is refused with a referral.
		err := c.r.Connect(ctxT(t), a.r.Spec())
		var ref *remote.Refusal
		if !errors.As(err, &ref) || ref.Referral.Name != "server" {
			t.Fatalf("direct connect: %v", err)
		}

		rcv := spawnProbe(t, a)
		server, _ := a.Spawn(actor.Server(&echo{}))
		snd := spawnProbe(t, c)
		const n = 500
		snd.do(t, c, func(p *actor.Process) {
			for i := range n {
				if err := p.Send(rcv.pid, int64(i)); err != nil {
					t.Errorf("send %d: %v", i, err)
					return
				}
			}
		})
		for i := range n {
			if got := rcv.recv(t); got != int64(i) {
				t.Fatalf("relayed message %d arrived as %v", i, got)
			}
		}
		// Calls, and their replies, go through the relay both ways.
		if reply, err := c.Call(ctxT(t), server, "relayed"); err != nil || reply != "relayed" {
			t.Fatalf("relayed call: %v, %v", reply, err)
		}
		if c.r.IsConnected("a") || a.r.IsConnected("c") {
			t.Fatal("a and c connected directly")
		}
		// A monitor across the relay reports the target's exit.
		snd.do(t, c, func(p *actor.Process) { p.Monitor(server) })
		if _, err := c.Call(ctxT(t), server, "sync"); err != nil {
			t.Fatal(err)
		}
		if err := a.Exit(server, actor.Kill); err != nil {
			t.Fatal(err)
		}
		if d := snd.recv(t).(actor.DownMessage); !errors.Is(d.Reason, actor.Killed) {
			t.Fatalf("down across relay: %+v", d)
		}
	})
}
