package cets_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/clusterlock"
	"github.com/gotp-dev/gotp/internal/netns"
	"github.com/gotp-dev/gotp/remote"
)

const labTick = 2 * time.Second // net tick time of the lab's nodes

// TestHelperCetsLabNode is not a test: TestNetnsNetsplitWrite runs it in a
// network namespace as one node with a table "lab". It reads commands from
// standard input, one per line, once it has printed "ready", and answers
// each with one line:
//
//	connect NAME ADDR   ok
//	join NAME           ok
//	insert KEY VAL      ok MILLISECONDS
//	get KEY             value VAL | none
//	nodes               nodes A,B,...
func TestHelperCetsLabNode(t *testing.T) {
	name := os.Getenv("GOTP_CETS_LAB_NODE")
	if name == "" {
		t.Skip("helper process for TestNetnsNetsplitWrite")
	}
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(1)
	}
	n, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		fail(err)
	}
	r, err := remote.Start(n, remote.Config{Cookie: "lab", Listen: []string{os.Getenv("GOTP_CETS_LAB_ADDR")},
		NetTickTime: labTick, HandshakeTimeout: time.Second})
	if err != nil {
		fail(err)
	}
	if _, err := clusterlock.Start(n, clusterlock.Config{}); err != nil {
		fail(err)
	}
	tab, err := cets.Start(n, "lab", cets.Options[string, Rec]{Key: recKey})
	if err != nil {
		fail(err)
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var err error
		switch f[0] {
		case "connect":
			err = r.Connect(ctx, remote.NodeSpec{Name: f[1], Addrs: []string{f[2]}})
			if err == nil {
				fmt.Println("ok")
			}
		case "join":
			err = tab.Join(ctx, actor.Name{Node: f[1], Name: "lab"}, cets.JoinOptions{})
			if err == nil {
				fmt.Println("ok")
			}
		case "insert":
			v, _ := strconv.Atoi(f[2])
			start := time.Now()
			err = tab.Insert(ctx, Rec{f[1], v})
			if err == nil {
				fmt.Println("ok", time.Since(start).Milliseconds())
			}
		case "get":
			if rec, ok := tab.Get(f[1]); ok {
				fmt.Println("value", rec.Val)
			} else {
				fmt.Println("none")
			}
		case "nodes":
			var info cets.Info
			info, err = tab.Info(ctx)
			if err == nil {
				fmt.Println("nodes", strings.Join(info.Nodes, ","))
			}
		}
		cancel()
		if err != nil {
			fmt.Println("error", err)
		}
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

type labProc struct {
	t     *testing.T
	name  string
	stdin io.WriteCloser
	lines <-chan string
}

// do sends a command and returns its answer.
func (p *labProc) do(cmd string) string {
	p.t.Helper()
	if _, err := fmt.Fprintln(p.stdin, cmd); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
	select {
	case line, ok := <-p.lines:
		if !ok {
			p.t.Fatalf("%s exited on %q", p.name, cmd)
		}
		if strings.HasPrefix(line, "error") {
			p.t.Fatalf("%s: %s: %s", p.name, cmd, line)
		}
		return line
	case <-time.After(60 * time.Second):
		p.t.Fatalf("%s: no answer to %q", p.name, cmd)
	}
	return ""
}

// TestNetnsNetsplitWrite runs two nodes as processes in two network
// namespaces over real TCP, joins their tables, pulls one link, and checks
// that a write on the other side returns within the failure detection time,
// that the tables do not heal by themselves when the link is back, and that
// a join heals them.
func TestNetnsNetsplitWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process network test")
	}
	lab := netns.New(t, 2)
	names := []string{"a", "b"}
	addrs := make([]string, 2)
	procs := make([]*labProc, 2)
	for i, h := range lab.Hosts {
		addrs[i] = net.JoinHostPort(h.Addr, "7200")
		stdin, lines := h.Start(t, h.Command(os.Args[0], "-test.run=^TestHelperCetsLabNode$"),
			"GOTP_CETS_LAB_NODE="+names[i], "GOTP_CETS_LAB_ADDR="+addrs[i])
		procs[i] = &labProc{t: t, name: names[i], stdin: stdin, lines: lines}
	}
	for _, p := range procs {
		select {
		case line := <-p.lines:
			if line != "ready" {
				t.Fatalf("%s: %s", p.name, line)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("%s did not start", p.name)
		}
	}
	a, b := procs[0], procs[1]
	a.do("connect b " + addrs[1])
	a.do("join b")
	a.do("insert k1 1")
	if got := b.do("get k1"); got != "value 1" {
		t.Fatalf("b: %s, want the replicated write", got)
	}

	lab.Hosts[1].LinkDown()
	answer := a.do("insert k2 2")
	ms, _ := strconv.Atoi(strings.TrimPrefix(answer, "ok "))
	took := time.Duration(ms) * time.Millisecond
	t.Logf("write during the netsplit returned in %v (net tick time %v)", took, labTick)
	if took > labTick+2*time.Second {
		t.Fatalf("write took %v, want within the detection time %v (plus slack)", took, labTick)
	}
	if got := a.do("nodes"); got != "nodes a" {
		t.Fatalf("a after the split: %s", got)
	}

	lab.Hosts[1].LinkUp()
	// Nothing rejoins the tables by itself.
	a.do("connect b " + addrs[1])
	if got := a.do("nodes"); got != "nodes a" {
		t.Fatalf("a healed by itself: %s", got)
	}
	if got := b.do("get k2"); got != "none" {
		t.Fatalf("b has the write made during the split: %s", got)
	}
	a.do("join b")
	if got := b.do("get k2"); got != "value 2" {
		t.Fatalf("b after the join: %s", got)
	}
	if got := b.do("nodes"); got != "nodes a,b" {
		t.Fatalf("b after the join: %s", got)
	}
	// Writes replicate both ways again.
	a.do("insert k3 3")
	b.do("insert k4 4")
	if got := b.do("get k3"); got != "value 3" {
		t.Fatalf("b after the rejoin: %s", got)
	}
	if got := a.do("get k4"); got != "value 4" {
		t.Fatalf("a after the rejoin: %s", got)
	}
}
