package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/gotp-dev/gotp/peerservice"
)

// memberEnv names, in a child OS process of the demo (-procs), the member it
// runs: "name,role".
const memberEnv = "GOTP_CLUSTER_DEMO_MEMBER"

// runMemberFromEnv runs the member the environment names, if it names one,
// and then exits: it starts the node with its components, writes
// "ready <name> <addr,...>" on its standard output, and runs until the
// console stops it or its standard input closes (the console is gone).
func runMemberFromEnv() {
	v, ok := os.LookupEnv(memberEnv)
	if !ok {
		return
	}
	name, role, _ := strings.Cut(v, ",")
	m, err := startMember(name, peerservice.Role(role))
	if err != nil {
		fmt.Fprintf(os.Stderr, "member %s: %v\n", name, err)
		os.Exit(1)
	}
	fmt.Printf("ready %s %s\n", name, strings.Join(m.svc.Myself().Addrs, ","))
	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(eof)
	}()
	select {
	case <-m.quit:
	case <-eof:
		m.stop()
	}
	os.Exit(0)
}

// child is a member running in an OS process of its own.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer
	exited chan struct{}
	err    error // the process's exit, once exited is closed
}

// startChild starts this program again as member name and returns once it
// is ready, with the addresses it listens on.
func startChild(ctx context.Context, name string, role peerservice.Role) (*child, []string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), memberEnv+"="+name+","+string(role))
	c := &child{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = c.stderr
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		c.err = cmd.Wait()
		close(c.exited)
	}()
	select {
	case line := <-lines:
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "ready" || f[1] != name {
			c.kill()
			return nil, nil, fmt.Errorf("member %s said %q", name, line)
		}
		return c, strings.Split(f[2], ","), nil
	case <-c.exited:
		return nil, nil, fmt.Errorf("member %s exited (%v): %s", name, c.err, c.stderr)
	case <-ctx.Done():
		c.kill()
		return nil, nil, fmt.Errorf("member %s not ready: %w", name, ctx.Err())
	}
}

// kill ends the process at once (SIGKILL) and waits for it.
func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	<-c.exited
}

// wait waits up to d for the process to exit after it was told to stop,
// then kills it.
func (c *child) wait(d time.Duration) {
	_ = c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(d):
		c.kill()
	}
}

// lockedBuffer collects a child's standard error.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
