package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
)

// Two OS processes: the receiver (or echo server) runs in a child process,
// the running binary (the test binary, or a plain program such as
// cmd/benchbin) started again with GOTP_BENCH_CHILD set, so that the sides
// share no scheduler and no heap; everything crosses the loopback.
// BenchmarkTwoProcesses reports the same figures as RemoteSend (one pair)
// and RemoteCall, for the raw baseline and for gotp.

const childEnv = "GOTP_BENCH_CHILD"

// ChildMain serves as the child process of a TwoProcesses workload when the
// running binary was started as one, and then exits; otherwise it returns at
// once. A binary that runs those workloads calls it before anything else:
// they start the child by running the binary's own executable again.
func ChildMain() {
	if role := os.Getenv(childEnv); role != "" {
		runChild(role)
	}
}

// runChild serves one role until its stdin closes: it prints "ready ADDR"
// (and the node name, for gotp) on stdout first.
func runChild(role string) {
	switch role {
	case "raw-sink", "raw-echo":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		fmt.Printf("ready %s\n", l.Addr())
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go serveRaw(c, role == "raw-echo")
			}
		}()
	case "gotp":
		n, err := actor.NewNode(actor.Config{Name: "child@localhost", Logger: discard})
		if err != nil {
			panic(err)
		}
		r, err := remote.Start(n, remote.Config{Cookie: remoteCookie, Listen: []string{"127.0.0.1:0"}})
		if err != nil {
			panic(err)
		}
		if _, err := n.Spawn(actor.Server(echoServer{}), actor.WithName("echo")); err != nil {
			panic(err)
		}
		// sink counts payloads; "arm" with a count and a PID to tell.
		var left int64
		var report actor.PID
		if _, err := n.Spawn(actor.Func(func(p *actor.Process, m any) error {
			switch m := m.(type) {
			case actor.PID:
				report = m
			case int64:
				left += m
				if left == 0 {
					_ = p.Send(report, "done")
				}
			case []byte:
				if left--; left == 0 {
					_ = p.Send(report, "done")
				}
			}
			return nil
		}), actor.WithName("sink")); err != nil {
			panic(err)
		}
		fmt.Printf("ready %s %s\n", r.Addrs()[0], n.Name())
	default:
		panic("unknown child role " + role)
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent goes
	os.Exit(0)
}

// serveRaw reads frames: a frame of 8 bytes of 0xff then a count arms it;
// after that many frames it writes one byte. With echo it sends every frame
// back instead.
func serveRaw(c net.Conn, echo bool) {
	r, w := bufio.NewReaderSize(c, 64<<10), bufio.NewWriterSize(c, 64<<10)
	var buf []byte
	var left int64
	for {
		var err error
		if buf, err = readFrame(r, buf); err != nil {
			return
		}
		if echo {
			if writeFrame(w, buf) != nil || w.Flush() != nil {
				return
			}
			continue
		}
		if len(buf) == 16 && binary.BigEndian.Uint64(buf) == ^uint64(0) {
			left += int64(binary.BigEndian.Uint64(buf[8:]))
			continue
		}
		if left--; left == 0 {
			if _, err := c.Write([]byte{1}); err != nil {
				return
			}
		}
	}
}

// child is a running child process and what it printed when ready.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	ready []string
}

func startChild(tb testing.TB, role string) *child {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"="+role)
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "ready ") {
		tb.Fatalf("child %s: %q", role, sc.Text())
	}
	c := &child{cmd: cmd, stdin: stdin, ready: strings.Fields(sc.Text())[1:]}
	tb.Cleanup(c.stop)
	return c
}

func (c *child) stop() {
	_ = c.stdin.Close()
	_ = c.cmd.Wait()
}

func rawTwoProcessSend(tb testing.TB, payload int) harness {
	ch := startChild(tb, "raw-sink")
	conn, err := net.Dial("tcp", ch.ready[0])
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(conn, 64<<10)
	msg := make([]byte, payload)
	ack := make([]byte, 1)
	h := harness{
		run: func(n int) {
			arm := make([]byte, 16)
			binary.BigEndian.PutUint64(arm, ^uint64(0))
			binary.BigEndian.PutUint64(arm[8:], uint64(n))
			if err := writeFrame(w, arm); err != nil {
				panic(err)
			}
			for range n {
				if err := writeFrame(w, msg); err != nil {
					panic(err)
				}
			}
			if err := w.Flush(); err != nil {
				panic(err)
			}
			if _, err := io.ReadFull(conn, ack); err != nil {
				panic(err)
			}
		},
		stop: func() { _ = conn.Close(); ch.stop() },
	}
	h.run(16)
	return h
}

func rawTwoProcessCall(tb testing.TB) remoteCaller {
	ch := startChild(tb, "raw-echo")
	conn, err := net.Dial("tcp", ch.ready[0])
	if err != nil {
		tb.Fatal(err)
	}
	return rawCaller(conn, func() { _ = conn.Close(); ch.stop() })
}

// gotpTwoProcess starts a gotp node here connected to the child's.
func gotpTwoProcess(tb testing.TB) (*actor.Node, *remote.Remote, string, *child) {
	ch := startChild(tb, "gotp")
	n, err := actor.NewNode(actor.Config{Name: "parent@localhost", Logger: discard})
	if err != nil {
		tb.Fatal(err)
	}
	r, err := remote.Start(n, remote.Config{Cookie: remoteCookie, Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Connect(ctx, remote.NodeSpec{Name: ch.ready[1], Addrs: []string{ch.ready[0]}}); err != nil {
		tb.Fatal(err)
	}
	return n, r, ch.ready[1], ch
}

func gotpTwoProcessSend(tb testing.TB, payload int) harness {
	n, r, peer, ch := gotpTwoProcess(tb)
	sink := actor.Name{Node: peer, Name: "sink"}
	done := make(chan struct{}, 1)
	reporter, _ := n.Spawn(actor.Func(func(*actor.Process, any) error { done <- struct{}{}; return nil }))
	if err := n.Send(sink, reporter); err != nil {
		tb.Fatal(err)
	}
	sender, _ := n.Spawn(actor.Func(gotpRemoteSender))
	msg := make([]byte, payload)
	sent := make(chan error, 1)
	h := harness{
		run: func(k int) {
			_ = n.Send(sink, int64(k))
			_ = n.Send(sender, burst[actor.Dest]{n: k, to: sink, msg: msg, sent: sent})
			if err := <-sent; err != nil {
				panic(err)
			}
			<-done
		},
		stop: func() { r.Stop(); stopGotpNode(tb, n); ch.stop() },
	}
	h.run(16)
	return h
}

func gotpTwoProcessCall(tb testing.TB) remoteCaller {
	n, r, peer, ch := gotpTwoProcess(tb)
	echo := actor.Name{Node: peer, Name: "echo"}
	msg := make([]byte, callPayload)
	return remoteCaller{
		call: func() error {
			_, err := n.Call(context.Background(), echo, msg)
			return err
		},
		stop: func() { r.Stop(); stopGotpNode(tb, n); ch.stop() },
	}
}
