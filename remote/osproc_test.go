package remote_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
)

// TestHelperNode is not a test: run by TestSeparateOSProcess in a child
// process, it starts node "child" with an echo server and prints its address.
func TestHelperNode(t *testing.T) {
	if os.Getenv("GOTP_HELPER_NODE") != "1" {
		t.Skip("helper process for TestSeparateOSProcess")
	}
	n, err := actor.NewNode(actor.Config{Name: "child"})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	r, err := remote.Start(n, remote.Config{Cookie: "os-test"})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	if _, err := n.Spawn(actor.Server(&echo{}), actor.WithName("echo")); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	if _, err := n.Spawn(actor.Server(deferring{}), actor.WithName("wait")); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("addr", r.Addrs()[0])
	// Serve until killed; the parent ends this process with SIGKILL.
	select {}
}

// startChild runs TestHelperNode in a child OS process and returns it with the
// address its node listens on. The child is killed when the test ends.
func startChild(t *testing.T) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNode$", "-test.v=false")
	cmd.Env = append(os.Environ(), "GOTP_HELPER_NODE=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := bufio.NewScanner(out)
	var addr string
	for lines.Scan() {
		if f := strings.Fields(lines.Text()); len(f) == 2 && f[0] == "addr" {
			addr = f[1]
			break
		}
	}
	if addr == "" {
		t.Fatalf("child printed no address: %v", lines.Err())
	}
	go func() {
		for lines.Scan() {
		}
	}()
	return cmd, addr
}

func TestSeparateOSProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	cmd, addr := startChild(t)

	parent := startNode(t, nil, "parent", remote.Config{Cookie: "os-test"})
	if err := parent.r.Connect(ctxT(t), remote.NodeSpec{Name: "child", Addrs: []string{addr}}); err != nil {
		t.Fatal(err)
	}
	echoName := actor.Name{Node: "child", Name: "echo"}
	reply, err := parent.Call(ctxT(t), echoName, "across processes")
	if err != nil || reply != "across processes" {
		t.Fatalf("call: %v, %v", reply, err)
	}
	got, err := parent.Call(ctxT(t), echoName, "self")
	if err != nil {
		t.Fatal(err)
	}
	server := got.(actor.PID)
	pr := spawnProbe(t, parent)
	pr.do(t, parent, func(p *actor.Process) {
		p.Monitor(server)
		p.MonitorNode("child")
		_ = p.Send(server, "hello")
	})
	// A call that the child will never answer: it dies first.
	callErr := make(chan error, 1)
	go func() {
		_, err := parent.Call(context.Background(), actor.Name{Node: "child", Name: "wait"}, "wait")
		callErr <- err
	}()
	if _, err := parent.Call(ctxT(t), server, "sync"); err != nil {
		t.Fatal(err)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for len(seen) < 2 {
		switch m := pr.recv(t).(type) {
		case actor.DownMessage:
			if !errors.Is(m.Reason, actor.ErrNoConnection) {
				t.Fatalf("down %+v", m)
			}
			seen["down"] = true
		case actor.NodeDownMessage:
			seen["nodedown"] = true
		}
	}
	if err := <-callErr; !errors.Is(err, actor.ErrNoConnection) {
		t.Fatalf("pending call to a killed node: %v", err)
	}
	if _, err := parent.Call(ctxT(t), server, "x"); !errors.Is(err, actor.ErrNoConnection) {
		t.Fatalf("call after SIGKILL: %v", err)
	}
}

// A frozen peer (SIGSTOP: its sockets stay open, nothing comes) is declared
// lost after the net tick time, as Erlang's net_kernel declares it.
func TestFrozenOSProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	cmd, addr := startChild(t)
	const tickTime = 2 * time.Second
	parent := startNode(t, nil, "parent", remote.Config{Cookie: "os-test", NetTickTime: tickTime})
	if err := parent.r.Connect(ctxT(t), remote.NodeSpec{Name: "child", Addrs: []string{addr}}); err != nil {
		t.Fatal(err)
	}
	got, err := parent.Call(ctxT(t), actor.Name{Node: "child", Name: "echo"}, "self")
	if err != nil {
		t.Fatal(err)
	}
	pr := spawnProbe(t, parent)
	pr.do(t, parent, func(p *actor.Process) { p.Monitor(got.(actor.PID)) })
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	frozen := time.Now()
	select {
	case m := <-pr.ch:
		d, ok := m.(actor.DownMessage)
		if !ok || !errors.Is(d.Reason, actor.ErrNoConnection) {
			t.Fatalf("got %#v, want a noconnection DOWN", m)
		}
		t.Logf("a frozen peer was declared lost %v after SIGSTOP (net tick time %v)", time.Since(frozen).Round(time.Millisecond), tickTime)
	case <-time.After(5 * tickTime):
		t.Fatalf("a frozen peer was not detected within %v", 5*tickTime)
	}
}
