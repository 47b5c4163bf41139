package dist

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/erlang/etf"
)

// FuzzHandle: whatever packet an authenticated peer sends, the node does not
// crash: it acts on it, or closes that connection with an error.
func FuzzHandle(f *testing.F) {
	node, d := offlineDist(f, "go@fuzz")
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
		f.Add(pkt.b[4:])
		// The same behind a distribution header.
		var buf bytes.Buffer
		w := bufio.NewWriter(&buf)
		if err := pkt.writeTo(w, true); err != nil {
			f.Fatal(err)
		}
		_ = w.Flush()
		f.Add(buf.Bytes()[4:])
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
	f.Add(nameMessageV5(ourFlags, nil, "e@h"), false)
	f.Add(nameMessageV5(ourFlags, &ch, "e@h"), true)
	f.Fuzz(func(t *testing.T, b []byte, withChallenge bool) {
		p, _, err := parseName(b, withChallenge)
		if err == nil && (p.name == "" || p.flags&v5Flags != v5Flags || !p.v5 && p.flags&requiredFlags != requiredFlags) {
			t.Fatalf("accepted %+v", p)
		}
	})
}

// A message in fragments (a header 'E' naming its atoms, then 'F' parts,
// their ids counting down to 1) is put together and delivered once whole;
// parts out of turn close the connection.
func TestFragmentsAreReassembled(t *testing.T) {
	node, d := offlineDist(t, "go@frag")
	to, got := inbox(t, node)
	c := newConn(d, "e@frag")
	c.sess = d.ep.Session("e@frag")
	c.info = peerInfo{name: "e@frag", creation: 1, flags: ourFlags}

	// The control message names atom 0 of the header: its op is an integer,
	// the message's first element the atom "hello" by cache reference.
	ctl, err := etf.Append(nil, etf.Tuple{int64(opSendSender), etf.Pid{Node: "e@frag", ID: 1, Creation: 1}, pidToErl(to)})
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 3000)
	msg, err := etf.Append([]byte{104, 2, 82, 0}, payload) // {ATOM_CACHE_REF 0, <<payload>>}
	if err != nil {
		t.Fatal(err)
	}
	data := append(ctl, msg...)
	head := func(tag byte, id uint64) []byte {
		b := []byte{131, tag}
		b = binary.BigEndian.AppendUint64(b, 7)
		return binary.BigEndian.AppendUint64(b, id)
	}
	first := append(head(distFragHeader, 3), 1, 0x08, 5, 5) // one new atom: segment 0, index 5, 5 bytes
	first = append(append(first, "hello"...), data[:1000]...)
	parts := [][]byte{first, append(head(distFragCont, 2), data[1000:2000]...), append(head(distFragCont, 1), data[2000:]...)}
	for i, p := range parts {
		if err := c.handle(p); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if i < 2 && len(got) > 0 {
			t.Fatalf("delivered after part %d of 3", i)
		}
	}
	m := (<-got).(etf.Tuple)
	if m[0] != etf.Atom("hello") || len(m[1].([]byte)) != 3000 {
		t.Fatalf("got %v", m)
	}
	if len(c.frags.bySeq) != 0 || c.frags.bytes != 0 {
		t.Fatalf("left behind: %d messages, %d bytes", len(c.frags.bySeq), c.frags.bytes)
	}
	// A part out of turn is a broken peer.
	if err := c.handle(append(head(distFragCont, 5), 1, 2, 3)); err == nil {
		t.Fatal("a continuation of no message was taken")
	}
}

// A message larger than a fragment goes to a peer that takes fragments as a
// header 'E' and 'F' parts, their ids counting down to 1, which a reader
// puts together into the message sent; a smaller one goes whole.
func TestLargeMessagesAreSentInFragments(t *testing.T) {
	node, d := offlineDist(t, "go@fragout")
	to, got := inbox(t, node)
	writer, reader := newConn(d, "e@fragout"), newConn(d, "e@fragout")
	writer.info = peerInfo{name: "e@fragout", creation: 1, flags: ourFlags}
	reader.info = writer.info
	reader.sess = d.ep.Session("e@fragout")
	ctl := etf.Tuple{int64(opSendSender), etf.Pid{Node: "e@fragout", ID: 1, Creation: 1}, pidToErl(to)}
	for _, size := range []int{1000, 5*fragmentSize + 123} {
		pkt, err := packet(ctl, make([]byte, size), true)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		if err := writer.writePacket(w, pkt, true); err != nil {
			t.Fatal(err)
		}
		_ = w.Flush()
		b := out.Bytes()
		parts := 0
		for len(b) > 0 {
			n := binary.BigEndian.Uint32(b)
			p := b[4 : 4+n]
			b = b[4+n:]
			parts++
			if size > fragmentSize && (p[1] != distFragHeader && p[1] != distFragCont || len(p) > fragmentSize+64) {
				t.Fatalf("part %d: kind %d, %d bytes", parts, p[1], len(p))
			}
			if err := reader.handle(p); err != nil {
				t.Fatalf("part %d: %v", parts, err)
			}
		}
		if want := 1 + (size+100)/fragmentSize; size > fragmentSize && parts != want {
			t.Fatalf("%d bytes in %d parts, want %d", size, parts, want)
		}
		if m := (<-got).([]byte); len(m) != size {
			t.Fatalf("got %d bytes, sent %d", len(m), size)
		}
	}
}

// offlineDist is a node with a Dist that listens nowhere and dials no one:
// its connections are made by hand and fed packets directly. The node stops
// when the test ends.
func offlineDist(tb testing.TB, name string) (*actor.Node, *Dist) {
	tb.Helper()
	node, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = node.Stop(context.Background()) })
	d := &Dist{node: node, cfg: Config{QueueBytes: 1 << 20}, log: slog.New(slog.DiscardHandler),
		conns: make(map[string]*conn), creation: node.Creation(), stopped: true}
	d.ep = node.Attach(d)
	return node, d
}

// inbox is a process that passes on every message it gets.
func inbox(tb testing.TB, node *actor.Node) (actor.PID, <-chan any) {
	tb.Helper()
	got := make(chan any, 4)
	to, err := node.Spawn(actor.Func(func(_ *actor.Process, m any) error { got <- m; return nil }))
	if err != nil {
		tb.Fatal(err)
	}
	return to, got
}
