// Package netns builds small networks of Linux network namespaces for tests
// that need separate addresses, real link failures and latency: each host is
// a namespace with one interface on a shared bridge, which lives in a
// namespace of its own so that the machine's own network is never touched.
//
// It needs root and the ip and tc commands; New skips the test with a clear
// message when they are missing. The addresses are 10.77.N.0/24 inside the
// lab only: nothing routes out of it.
package netns

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// Lab is a set of hosts on one bridge.
type Lab struct {
	t        testing.TB
	prefix   string
	subnet   int
	switchNS string
	Hosts    []*Host
}

// Host is one namespace with one address.
type Host struct {
	lab  *Lab
	NS   string   // namespace name
	Addr string   // IPv4 address on the lab's bridge
	port string   // the bridge-side end of its link
	cut  []string // addresses Cut drops this host's packets to
}

var labs atomic.Int32

// New builds a lab of n hosts, or skips the test when the machine cannot.
// Everything is removed when the test ends.
func New(t testing.TB, n int) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("netns: needs root to create network namespaces (run as root, as CI does)")
	}
	for _, tool := range []string{"ip", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("netns: %s not found (install iproute2)", tool)
		}
	}
	id := fmt.Sprintf("g%d%d", os.Getpid()%100000, labs.Add(1))
	l := &Lab{t: t, prefix: id, subnet: int(labs.Load()%200) + 1, switchNS: id + "sw"}
	t.Cleanup(l.destroy)
	l.must("ip", "netns", "add", l.switchNS)
	l.must("ip", "-n", l.switchNS, "link", "add", "br0", "type", "bridge")
	l.must("ip", "-n", l.switchNS, "link", "set", "br0", "up")
	for i := range n {
		h := &Host{
			lab:  l,
			NS:   fmt.Sprintf("%sh%d", id, i),
			Addr: fmt.Sprintf("10.77.%d.%d", l.subnet, i+1),
			port: fmt.Sprintf("p%d", i),
		}
		l.must("ip", "netns", "add", h.NS)
		// Create the pair in the host namespace, then move one end to the switch.
		l.must("ip", "-n", h.NS, "link", "add", "eth0", "type", "veth", "peer", "name", h.port)
		l.must("ip", "-n", h.NS, "link", "set", h.port, "netns", l.switchNS)
		l.must("ip", "-n", l.switchNS, "link", "set", h.port, "master", "br0")
		l.must("ip", "-n", l.switchNS, "link", "set", h.port, "up")
		l.must("ip", "-n", h.NS, "addr", "add", h.Addr+"/24", "dev", "eth0")
		l.must("ip", "-n", h.NS, "link", "set", "eth0", "up")
		l.must("ip", "-n", h.NS, "link", "set", "lo", "up")
		l.Hosts = append(l.Hosts, h)
	}
	return l
}

func (l *Lab) must(name string, args ...string) {
	l.t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		l.t.Fatalf("netns: %s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

func (l *Lab) destroy() {
	for _, h := range l.Hosts {
		_ = exec.Command("ip", "netns", "del", h.NS).Run()
	}
	_ = exec.Command("ip", "netns", "del", l.switchNS).Run()
}

// Command returns a command that runs inside the host's namespace.
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// Start runs cmd (made by Command) with the environment env added, and
// returns its standard input and the lines of its standard output (closed
// when the output ends). The test's cleanup closes its input and waits for
// it to end.
func (h *Host) Start(t testing.TB, cmd *exec.Cmd, env ...string) (io.WriteCloser, <-chan string) {
	t.Helper()
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	lines := make(chan string, 256)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	return stdin, lines
}

// LinkDown takes the host's link to the bridge down, on the bridge side: the
// host keeps its address but nothing reaches it, as when a cable is pulled.
func (h *Host) LinkDown() { h.lab.must("ip", "-n", h.lab.switchNS, "link", "set", h.port, "down") }

// LinkUp brings the link back. Neighbour entries that failed while it was
// down are flushed on every host, so the next packet resolves afresh instead
// of failing at once with "no route to host".
func (h *Host) LinkUp() {
	h.lab.must("ip", "-n", h.lab.switchNS, "link", "set", h.port, "up")
	for _, o := range h.lab.Hosts {
		h.lab.must("ip", "-n", o.NS, "neigh", "flush", "all")
	}
}

// SetDelay adds latency (e.g. "50ms") to everything the host sends; "" removes it.
func (h *Host) SetDelay(delay string) {
	_ = exec.Command("ip", "netns", "exec", h.NS, "tc", "qdisc", "del", "dev", "eth0", "root").Run()
	if delay != "" {
		h.lab.must("ip", "netns", "exec", h.NS, "tc", "qdisc", "add", "dev", "eth0", "root", "netem", "delay", delay)
	}
}

// Cut drops every IPv4 packet between h and o, both ways, while both stay
// on the bridge and reach every other host: the one link between two
// machines pulled, as a partition of a mesh sees it. Nothing tells the
// senders; their packets simply vanish. Mend undoes it.
//
// Each host drops what it sends to the other in its own egress queue (an
// htb class whose queue holds nothing, chosen by a u32 filter on the
// destination), so Cut and SetDelay, which replace the same root queue,
// do not combine on one host.
func (h *Host) Cut(o *Host) {
	h.block(o.Addr, true)
	o.block(h.Addr, true)
}

// Mend undoes Cut.
func (h *Host) Mend(o *Host) {
	h.block(o.Addr, false)
	o.block(h.Addr, false)
}

func (h *Host) block(addr string, on bool) {
	i, found := slices.BinarySearch(h.cut, addr)
	switch {
	case on && !found:
		h.cut = slices.Insert(h.cut, i, addr)
	case !on && found:
		h.cut = slices.Delete(h.cut, i, i+1)
	default:
		return
	}
	tc := func(args ...string) { h.lab.must("ip", append([]string{"netns", "exec", h.NS, "tc"}, args...)...) }
	_ = exec.Command("ip", "netns", "exec", h.NS, "tc", "qdisc", "del", "dev", "eth0", "root").Run()
	if len(h.cut) == 0 {
		return
	}
	// Class 1:1 passes everything else; class 1:2 feeds a queue of length
	// zero, which drops whatever enters it.
	tc("qdisc", "add", "dev", "eth0", "root", "handle", "1:", "htb", "default", "1", "r2q", "100000")
	tc("class", "add", "dev", "eth0", "parent", "1:", "classid", "1:1", "htb", "rate", "100gbit")
	tc("class", "add", "dev", "eth0", "parent", "1:", "classid", "1:2", "htb", "rate", "100gbit")
	tc("qdisc", "add", "dev", "eth0", "parent", "1:2", "handle", "20:", "pfifo", "limit", "0")
	for _, a := range h.cut {
		tc("filter", "add", "dev", "eth0", "parent", "1:", "protocol", "ip", "prio", "1",
			"u32", "match", "ip", "dst", a+"/32", "classid", "1:2")
	}
}
