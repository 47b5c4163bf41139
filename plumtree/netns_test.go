package plumtree_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/internal/netns"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/plumtree"
	"github.com/gotp-dev/gotp/remote"
)

// labHandler is the handler of a lab process: it keeps the ids it has and
// prints "fresh ID" or "dup ID" for every payload that arrives, so the test
// counts payload receptions across processes.
type labHandler struct {
	mu   sync.Mutex
	data map[any]any
	out  chan<- string
}

func (h *labHandler) Name() string { return "lab" }

func (h *labHandler) BroadcastData(msg any) (any, any, error) {
	id, ok := msg.(string)
	if !ok {
		return nil, nil, fmt.Errorf("not an id: %T", msg)
	}
	h.mu.Lock()
	h.data[id] = "payload " + id
	h.mu.Unlock()
	return id, "payload " + id, nil
}

func (h *labHandler) Merge(id, payload any) bool {
	h.mu.Lock()
	_, dup := h.data[id]
	if !dup {
		h.data[id] = payload
	}
	h.mu.Unlock()
	if dup {
		h.out <- fmt.Sprint("dup ", id)
	} else {
		h.out <- fmt.Sprint("fresh ", id)
	}
	return !dup
}

func (h *labHandler) IsStale(id any) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.data[id]
	return ok
}

func (h *labHandler) Graft(id any) (any, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.data[id]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("no message %v", id)
}

// Exchange is declined: the test is about the trees and their lazy links,
// not anti-entropy.
func (h *labHandler) Exchange(*actor.Process, string) (actor.PID, error) {
	return actor.PID{}, plumtree.ErrIgnore
}

// TestHelperPlumtreeLabNode is not a test: TestNetnsBroadcast runs it in a
// network namespace as one node of a full-mesh cluster. Once its peer
// service knows every member and finds every one up, it starts a broadcast
// server and prints "ready". It prints "fresh ID" and "dup ID" for every
// payload that arrives and "up NODE" and "down NODE" as its failure
// detector reports them. On its standard input it takes "broadcast ID" and
// "peers ROOT" (answered by "peers ROOT eagers=A,B lazys=C"), and it exits
// when its input closes.
func TestHelperPlumtreeLabNode(t *testing.T) {
	name := os.Getenv("GOTP_PT_NODE")
	if name == "" {
		t.Skip("helper process for TestNetnsBroadcast")
	}
	out := make(chan string, 1024)
	go func() {
		for line := range out {
			fmt.Println(line)
		}
	}()
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(1)
	}
	all := strings.Fields(os.Getenv("GOTP_PT_MEMBERS"))
	n, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		fail(err)
	}
	svc, err := peerservice.StartNode(n, remote.Config{
		Cookie: "lab",
		Listen: []string{os.Getenv("GOTP_PT_ADDR")},
		// A dial to a peer behind a cut link gives up well before the
		// link is mended, so that the next probe finds it.
		HandshakeTimeout: time.Second,
	}, peerservice.Config{HeartbeatInterval: 100 * time.Millisecond, MissedHeartbeats: 10, GossipInterval: 100 * time.Millisecond})
	if err != nil {
		fail(err)
	}
	// The server starts once this node knows the whole membership and has
	// every other member up, so that the first broadcast meets neither a
	// membership change (which starts the trees over) nor a connection
	// still being made.
	type status struct {
		members []string
		up      string
	}
	ready := make(chan status, 1024)
	svc.Subscribe(func(ev peerservice.MembershipEvent) {
		var names []string
		for _, m := range ev.Members {
			names = append(names, m.Name)
		}
		ready <- status{members: names}
		out <- "members " + strings.Join(names, ",")
	})
	svc.OnUp("", func(s remote.NodeSpec) {
		ready <- status{up: s.Name}
		out <- "up " + s.Name
	})
	svc.OnDown("", func(s remote.NodeSpec) { out <- "down " + s.Name })
	if seed, addr, ok := strings.Cut(os.Getenv("GOTP_PT_SEED"), "="); ok {
		if err := svc.Join(remote.NodeSpec{Name: seed, Addrs: []string{addr}}); err != nil {
			fail(err)
		}
	}
	ups := map[string]bool{}
	haveAll := false
	deadline := time.After(20 * time.Second)
	for !haveAll || len(ups) < len(all)-1 {
		select {
		case st := <-ready:
			if st.up != "" {
				ups[st.up] = true
			}
			if st.members != nil {
				haveAll = slices.Equal(slices.Sorted(slices.Values(st.members)), all)
			}
		case <-deadline:
			fail(fmt.Errorf("cluster not formed: members complete %v, up %v", haveAll, ups))
		}
	}
	srv, err := plumtree.Start(n, svc, plumtree.Config{
		Handlers:       []plumtree.Handler{&labHandler{data: map[any]any{}, out: out}},
		Members:        all,
		LazyTickPeriod: lazyTick,
		// An IHave that overtakes the eager payload on the way (a lazy tick
		// just after a forward) waits this long before grafting, as the
		// paper's timeout1 does, so a steady tree sees no duplicates.
		GraftTimeout: 100 * time.Millisecond,
		Seed:         1,
	})
	if err != nil {
		fail(err)
	}
	out <- "ready"
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		switch cmd {
		case "broadcast":
			if err := srv.Broadcast(arg, "lab"); err != nil {
				fail(err)
			}
		case "peers":
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			p, err := srv.GetPeers(ctx, arg)
			cancel()
			if err != nil {
				fail(err)
			}
			out <- fmt.Sprintf("peers %s eagers=%s lazys=%s", arg, strings.Join(p.Eagers, ","), strings.Join(p.Lazys, ","))
		}
	}
	os.Exit(0)
}

const lazyTick = 100 * time.Millisecond

// labEvent is a line one lab process printed (or the end of its output).
type labEvent struct {
	node int
	line string
	eof  bool
}

// broadcastLab is the test's view of the lab processes: what each has
// delivered, how many payloads arrived for each id, and what each failure
// detector says of the others.
type broadcastLab struct {
	t        *testing.T
	names    []string
	stdin    []io.WriteCloser
	events   chan labEvent
	ready    map[int]bool
	fresh    map[string]map[int]bool
	arrivals map[string]int
	up       []map[string]bool
	peers    map[string]string
	ended    map[int]bool
	// log keeps the membership and failure detector events, for a
	// failure's message.
	log []string
}

// await reads events until done holds, failing the test after timeout.
func (l *broadcastLab) await(what string, timeout time.Duration, done func() bool) {
	l.t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for !done() {
		select {
		case ev := <-l.events:
			l.record(ev)
		case <-timer.C:
			l.t.Fatalf("waited %v for %s", timeout, what)
		}
	}
}

func (l *broadcastLab) record(ev labEvent) {
	l.t.Helper()
	if ev.eof {
		l.ended[ev.node] = true
		return
	}
	kind, arg, _ := strings.Cut(ev.line, " ")
	switch kind {
	case "error":
		l.t.Fatalf("%s: %s", l.names[ev.node], ev.line)
	case "ready":
		l.ready[ev.node] = true
	case "fresh", "dup":
		l.arrivals[arg]++
		if kind == "fresh" {
			if l.fresh[arg] == nil {
				l.fresh[arg] = map[int]bool{}
			}
			l.fresh[arg][ev.node] = true
		}
	case "members":
		l.log = append(l.log, l.names[ev.node]+": "+ev.line)
	case "up":
		l.log = append(l.log, l.names[ev.node]+": "+ev.line)
		l.up[ev.node][arg] = true
	case "down":
		l.log = append(l.log, l.names[ev.node]+": "+ev.line)
		l.up[ev.node][arg] = false
	case "peers":
		root, rest, _ := strings.Cut(arg, " ")
		l.peers[root] = rest
	}
}

// broadcast has root broadcast id and waits until every other node has it.
func (l *broadcastLab) broadcast(root int, id string, timeout time.Duration) time.Duration {
	l.t.Helper()
	start := time.Now()
	l.log = append(l.log, "test: broadcast "+id)
	l.send(root, "broadcast "+id)
	l.await("every node to deliver "+id, timeout, func() bool { return len(l.fresh[id]) == len(l.names)-1 })
	return time.Since(start)
}

func (l *broadcastLab) send(node int, line string) {
	l.t.Helper()
	if _, err := fmt.Fprintln(l.stdin[node], line); err != nil {
		l.t.Fatalf("%s: %v", l.names[node], err)
	}
}

// rmr is the relative message redundancy of broadcast id: payloads received
// per node reached, less one.
func (l *broadcastLab) rmr(id string) float64 {
	return float64(l.arrivals[id])/float64(len(l.names)-1) - 1
}

// TestNetnsBroadcast runs five nodes as five OS processes in five network
// namespaces, over real TCP, with a full-mesh peer service and a broadcast
// server each. Broadcasts from one root reach every node and settle into a
// tree without duplicates; then the link between the root and one of its
// eager children is pulled, and the next broadcasts still reach everyone,
// the child grafting them through its lazy links; after the link is mended
// they reach everyone again.
func TestNetnsBroadcast(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process network test")
	}
	const n = 5
	lab := netns.New(t, n)
	l := &broadcastLab{
		t: t, events: make(chan labEvent, 1024),
		ready: map[int]bool{}, fresh: map[string]map[int]bool{}, arrivals: map[string]int{},
		peers: map[string]string{}, ended: map[int]bool{},
	}
	addrs := make([]string, n)
	for i, h := range lab.Hosts {
		l.names = append(l.names, fmt.Sprintf("n%d", i))
		addrs[i] = net.JoinHostPort(h.Addr, "7200")
		l.up = append(l.up, map[string]bool{})
	}
	for i, h := range lab.Hosts {
		env := []string{"GOTP_PT_NODE=" + l.names[i], "GOTP_PT_ADDR=" + addrs[i], "GOTP_PT_MEMBERS=" + strings.Join(l.names, " ")}
		if i > 0 {
			env = append(env, "GOTP_PT_SEED="+l.names[0]+"="+addrs[0])
		}
		stdin, lines := h.Start(t, h.Command(os.Args[0], "-test.run=^TestHelperPlumtreeLabNode$"), env...)
		l.stdin = append(l.stdin, stdin)
		go func() {
			for line := range lines {
				l.events <- labEvent{node: i, line: line}
			}
			l.events <- labEvent{node: i, eof: true}
		}()
	}
	l.await("every node to be ready", 20*time.Second, func() bool { return len(l.ready) == n })

	// Steady state: ten broadcasts from n0.
	const root = 0
	var steady []string
	for b := range 10 {
		id := fmt.Sprintf("s%d", b)
		l.broadcast(root, id, 5*time.Second)
		steady = append(steady, id)
	}

	// Pull the link between the root and an eager child of its tree.
	l.send(root, "peers "+l.names[root])
	l.await("the root's peers", 5*time.Second, func() bool { return l.peers[l.names[root]] != "" })
	eagers, _, _ := strings.Cut(strings.TrimPrefix(l.peers[l.names[root]], "eagers="), " ")
	if eagers == "" {
		t.Fatalf("root has no eager peers: %s", l.peers[l.names[root]])
	}
	childName, _, _ := strings.Cut(eagers, ",")
	child := slices.Index(l.names, childName)
	t.Logf("tree of %s: %s; cutting %s-%s", l.names[root], l.peers[l.names[root]], l.names[root], childName)
	lab.Hosts[root].Cut(lab.Hosts[child])
	// The payload the root pushes to the child vanishes; the child's lazy
	// peers announce it at their next tick and the child grafts it (after
	// GraftTimeout). The bound is a few ticks: the processes share the
	// machine with others, under the race detector.
	took := l.broadcast(root, "c0", 20*lazyTick)
	t.Logf("first broadcast across the cut reached every node in %v (lazy tick %v, graft timeout 100ms)", took, lazyTick)
	// The failure detectors on both ends see the pulled link.
	l.await("both ends to see the link down", 5*time.Second, func() bool {
		return !l.up[root][childName] && !l.up[child][l.names[root]]
	})
	for b := range 3 {
		l.broadcast(root, fmt.Sprintf("c%d", b+1), 20*lazyTick)
	}

	// Mend the link: the peer services reconnect on their own, and the
	// broadcasts still reach every node.
	lab.Hosts[root].Mend(lab.Hosts[child])
	l.await("both ends to see the link up", 10*time.Second, func() bool {
		return l.up[root][childName] && l.up[child][l.names[root]]
	})
	for b := range 3 {
		l.broadcast(root, fmt.Sprintf("m%d", b), 20*lazyTick)
	}

	// End the processes and read everything they printed, so that every
	// payload that arrived is counted.
	for _, in := range l.stdin {
		_ = in.Close()
	}
	l.await("every process to end", 10*time.Second, func() bool { return len(l.ended) == n })
	var rmrs []string
	for i, id := range steady {
		r := l.rmr(id)
		rmrs = append(rmrs, fmt.Sprintf("%s:%.2f", id, r))
		// The tree settles as prunes arrive; each broadcast waits for its
		// payload everywhere, not for those prunes, so under load (CI's
		// race-detector run, seen once: 0.75, 0.50, 0.25, then 0) the
		// first few still meet duplicates. The last five of ten see none.
		if i >= len(steady)-5 && r > 0.05 {
			t.Errorf("broadcast %s: RMR %.3f, want <= 0.05 for the last five", id, r)
		}
	}
	t.Logf("RMR per broadcast: %s", strings.Join(rmrs, " "))
	if t.Failed() {
		t.Logf("membership and failure detector events:\n%s", strings.Join(l.log, "\n"))
	}
}
