package remote_test

import (
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// ConnStats counts what each connection carried, both ways.
func TestConnStatsCountTraffic(t *testing.T) {
	net := transport.NewNetwork(1)
	a, b := startNode(t, net, "a", remote.Config{}), startNode(t, net, "b", remote.Config{})
	connect(t, a, b)
	server, err := b.Spawn(actor.Server(&echo{}))
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 1000)
	for range 10 {
		if _, err := a.Call(ctxT(t), server, payload); err != nil {
			t.Fatal(err)
		}
	}
	stats := a.r.ConnStats()
	if len(stats) == 0 {
		t.Fatal("no connections")
	}
	var out, in uint64
	for _, st := range stats {
		if st.Peer != "b" || st.Channel != remote.DefaultChannel {
			t.Errorf("connection %+v", st)
		}
		out += st.BytesOut
		in += st.BytesIn
	}
	// Ten calls and ten replies of 1000 bytes each way, plus headers.
	if out < 10*1000 || in < 10*1000 || !stats[0].Up || stats[0].HandshakeRTT <= 0 {
		t.Fatalf("stats %+v: %d bytes out, %d in", stats, out, in)
	}
}
