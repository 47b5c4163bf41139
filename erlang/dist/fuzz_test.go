package dist

import (
	"log/slog"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/erlang/etf"
)

// FuzzHandle: whatever packet an authenticated peer sends, the node does not
// crash: it acts on it, or closes that connection with an error.
func FuzzHandle(f *testing.F) {
	node, err := actor.NewNode(actor.Config{Name: "go@fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	d := &Dist{node: node, cfg: Config{QueueBytes: 1 << 20}, log: slog.New(slog.DiscardHandler),
		conns: make(map[string]*conn), creation: node.Creation(), stopped: true}
	d.ep = node.Attach(d)
	echo, err := node.Spawn(actor.Func(func(*actor.Process, any) error { return nil }), actor.WithName("echo"))
	if err != nil {
		f.Fatal(err)
	}
	peer := etf.Pid{Node: "e@fuzz", ID: 5, Creation: 1}
	ref := etf.Ref{Node: "e@fuzz", Creation: 1, IDs: []uint32{1, 2, 3}}
	seed := func(ctl etf.Tuple, msg any, with bool) {
		pkt, err := packet(ctl, msg, with)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pkt[4:])
	}
	to := pidToErl(echo)
	seed(etf.Tuple{int64(opSendSender), peer, to}, etf.Atom("hi"), true)
	seed(etf.Tuple{int64(opRegSend), peer, etf.Atom(""), etf.Atom("echo")}, etf.Tuple{etf.Atom("$gen_call"), etf.Tuple{peer, ref}, etf.Atom("req")}, true)
	seed(etf.Tuple{int64(opRegSend), peer, etf.Atom(""), etf.Atom("net_kernel")}, etf.Tuple{etf.Atom("$gen_call"), etf.Tuple{peer, ref}, etf.Tuple{etf.Atom("is_auth"), etf.Atom("e@fuzz")}}, true)
	seed(etf.Tuple{int64(opMonitorP), peer, to, ref}, nil, false)
	seed(etf.Tuple{int64(opDemonitorP), peer, etf.Atom("echo"), ref}, nil, false)
	seed(etf.Tuple{int64(opLink), peer, to}, nil, false)
	seed(etf.Tuple{int64(opUnlinkID), int64(1), peer, to}, nil, false)
	seed(etf.Tuple{int64(opPayloadExit), peer, to}, etf.Atom("boom"), true)
	seed(etf.Tuple{int64(opExit2), peer, to, etf.Atom("kill")}, nil, false)
	seed(etf.Tuple{int64(opPayloadMonitorExit), peer, to, ref}, etf.Atom("normal"), true)
	seed(etf.Tuple{int64(opSpawnRequest), ref, peer, peer, etf.Tuple{etf.Atom("erpc"), etf.Atom("execute_call"), int64(4)}, etf.List{etf.Atom("monitor")}},
		etf.List{ref, etf.Atom("m"), etf.Atom("f"), etf.List{}}, true)
	f.Add([]byte{'p'})
	f.Add([]byte{'p', 131, 104, 0})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if len(pkt) == 0 {
			return
		}
		c := newConn(d, "e@fuzz")
		c.sess = d.ep.Session("e@fuzz")
		c.info = peerInfo{name: "e@fuzz", creation: 1, flags: ourFlags}
		_ = c.handle(pkt)
	})
}

// FuzzParseName: any name message a stranger sends before the cookie is
// proved is parsed or refused, never a crash.
func FuzzParseName(f *testing.F) {
	ch := uint32(7)
	f.Add(nameMessage(ourFlags, nil, 1, "e@h"), false)
	f.Add(nameMessage(ourFlags, &ch, 1, "e@h"), true)
	f.Add([]byte{'N'}, false)
	f.Fuzz(func(t *testing.T, b []byte, withChallenge bool) {
		p, _, err := parseName(b, withChallenge)
		if err == nil && (p.name == "" || p.flags&requiredFlags != requiredFlags) {
			t.Fatalf("accepted %+v", p)
		}
	})
}
