package netns_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/internal/netns"
)

// TestHelperListener is not a test: run inside a host of the lab by
// TestLab, it accepts one connection and echoes one line.
func TestHelperListener(t *testing.T) {
	addr := os.Getenv("NETNS_LISTEN")
	if addr == "" {
		t.Skip("helper process for TestLab")
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	c, err := l.Accept()
	if err != nil {
		os.Exit(1)
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Fprint(c, "echo "+line)
	c.Close()
	os.Exit(0)
}

// TestHelperDialer is not a test: it dials NETNS_DIAL, sends a line and
// prints the answer.
func TestHelperDialer(t *testing.T) {
	addr := os.Getenv("NETNS_DIAL")
	if addr == "" {
		t.Skip("helper process for TestLab")
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(0)
	}
	fmt.Fprintln(c, "hello")
	line, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Print(line)
	os.Exit(0)
}

func TestLab(t *testing.T) {
	lab := netns.New(t, 2)
	a, b := lab.Hosts[0], lab.Hosts[1]
	addr := net.JoinHostPort(b.Addr, "7001")

	srv := b.Command(os.Args[0], "-test.run=^TestHelperListener$")
	srv.Env = append(os.Environ(), "NETNS_LISTEN="+addr)
	out, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("listener: %q %v", lines.Text(), lines.Err())
	}

	dial := func() string {
		cmd := a.Command(os.Args[0], "-test.run=^TestHelperDialer$")
		cmd.Env = append(os.Environ(), "NETNS_DIAL="+addr)
		got, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(got))
	}
	// With b's link down, a cannot reach it; once it is up again, it can.
	b.LinkDown()
	if got := dial(); !strings.HasPrefix(got, "error") {
		t.Fatalf("dial across a downed link: %q", got)
	}
	b.LinkUp()
	if got := dial(); got != "echo hello" {
		t.Fatalf("dial across the lab: %q", got)
	}
}

// TestCut cuts the link between two hosts of three: those two cannot reach
// each other, the third still reaches both, and Mend puts the link back.
func TestCut(t *testing.T) {
	lab := netns.New(t, 3)
	a, b, c := lab.Hosts[0], lab.Hosts[1], lab.Hosts[2]
	listen := func(port string) string {
		addr := net.JoinHostPort(b.Addr, port)
		srv := b.Command(os.Args[0], "-test.run=^TestHelperListener$")
		_, lines := b.Start(t, srv, "NETNS_LISTEN="+addr)
		if line := <-lines; line != "ready" {
			t.Fatalf("listener: %q", line)
		}
		return addr
	}
	dial := func(from *netns.Host, addr string) string {
		cmd := from.Command(os.Args[0], "-test.run=^TestHelperDialer$")
		cmd.Env = append(os.Environ(), "NETNS_DIAL="+addr)
		got, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(got))
	}
	addr := listen("7001")
	a.Cut(b)
	if got := dial(a, addr); !strings.HasPrefix(got, "error") {
		t.Fatalf("dial across a cut link: %q", got)
	}
	if got := dial(c, addr); got != "echo hello" {
		t.Fatalf("dial from a third host: %q", got)
	}
	addr = listen("7002")
	a.Mend(b)
	if got := dial(a, addr); got != "echo hello" {
		t.Fatalf("dial across a mended link: %q", got)
	}
}
