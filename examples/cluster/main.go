// Command cluster starts a whole gotp cluster on this machine and walks it
// through its components, checking each step:
//
//	go run ./examples/cluster               # run the steps, then shut down
//	go run ./examples/cluster -procs        # the same, each node in its own OS process
//	go run ./examples/cluster -hold 5m      # keep the cluster up afterwards, to watch it in the observer
//
// Two servers and three clients of the client-server peer service run over
// TCP on loopback ports the OS picks: in this OS process, or with -procs
// each in a process of its own (this program, started again). Each node
// runs, under its own supervision tree, a cluster lock, a replicated table
// (cets), a Plumtree broadcast server with a small handler, the ensemble
// service and the demo's agent; the peer service runs under its own
// supervisor. A console node in this process, member of nothing, drives the
// steps by calls to the agents, the same way in both cases.
//
// The steps: membership forms (every node sees all five); broadcasts reach
// every node, with the measured relative message redundancy; a table row
// written on one client is read locally on every node; an ensemble K/V write
// and read from a client that hosts no ensemble peers; a rafted value on
// three nodes survives its leader being killed; a server is stopped (with
// -procs, its process killed) and the clients carry on through the other one; the observer's URL is printed; and
// everything shuts down. A failed step ends the program with exit status 1;
// Ctrl-C shuts the cluster down cleanly.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

// options are the demo's knobs; the flags fill them.
type options struct {
	broadcasts int           // broadcasts sent in the Plumtree step
	stepTime   time.Duration // bound on each step
	hold       time.Duration // keep the cluster up this long after the steps
	progress   bool          // rewrite a progress line in place (a terminal)
	procs      bool          // each node in its own OS process
}

func main() {
	runMemberFromEnv() // a member's process of a -procs run does not return
	var opts options
	flag.IntVar(&opts.broadcasts, "broadcasts", 20, "broadcasts to send in the Plumtree step")
	flag.DurationVar(&opts.stepTime, "step-timeout", 15*time.Second, "bound on each step")
	flag.BoolVar(&opts.procs, "procs", false, "run each node in its own OS process")
	flag.DurationVar(&opts.hold, "hold", 0, "keep the cluster running this long after the steps (until Ctrl-C)")
	flag.Parse()
	if fi, err := os.Stdout.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		opts.progress = true
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	err := run(ctx, os.Stdout, opts)
	switch {
	case err == nil:
		fmt.Printf("all steps passed in %v\n", time.Since(start).Round(10*time.Millisecond))
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "interrupted; the cluster was shut down")
		os.Exit(130)
	default:
		fmt.Fprintln(os.Stderr, "cluster demo failed:", err)
		os.Exit(1)
	}
}

// reporter prints one line per step, and a progress line while one waits.
type reporter struct {
	out      io.Writer
	progress bool
	bound    time.Duration
	n        int
}

// step runs fn under a deadline and prints its result with a check mark,
// or a cross and the error.
func (r *reporter) step(ctx context.Context, title string, fn func(ctx context.Context) (string, error)) error {
	r.n++
	ctx, cancel := context.WithTimeout(ctx, r.bound)
	defer cancel()
	done := make(chan struct{})
	ticked := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(ticked)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		printed := false
		for {
			select {
			case <-done:
				if printed && r.progress {
					fmt.Fprint(r.out, "\r\033[K")
				}
				return
			case <-t.C:
				switch {
				case r.progress:
					fmt.Fprintf(r.out, "\r\033[K  … %s (%.1fs)", title, time.Since(start).Seconds())
					printed = true
				case !printed && time.Since(start) >= time.Second:
					fmt.Fprintf(r.out, "  … waiting: %s\n", title)
					printed = true
				}
			}
		}
	}()
	res, err := fn(ctx)
	close(done)
	<-ticked
	took := time.Since(start).Round(10 * time.Millisecond)
	if err != nil {
		fmt.Fprintf(r.out, "✗ %d. %s (%v): %v\n", r.n, title, took, err)
		return fmt.Errorf("step %d (%s): %w", r.n, title, err)
	}
	fmt.Fprintf(r.out, "✓ %d. %s (%v)\n", r.n, title, took)
	if res != "" {
		fmt.Fprintf(r.out, "     %s\n", res)
	}
	return nil
}

// waitFor checks cond every 50 ms until it holds or ctx ends: for the
// conditions nothing announces (a broadcast server's view of the
// membership, Raft's leader and a member's catch-up).
func waitFor(ctx context.Context, what string, cond func() bool) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
	return nil
}
