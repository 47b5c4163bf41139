// Command benchbin runs one leaf workload of the side-by-side table as a plain
// program rather than under go test, and prints its result in go test's
// benchmark format, so that cmd/benchtable reads both alike:
//
//	cd bench && go run ./cmd/benchbin -bench RemoteSend/gotp/pairs=1/payload=64 -benchtime 1s
//	BenchmarkRemoteSend/gotp/pairs=1/payload=64-2  1234567  812.3 ns/op  1231000 msgs/s  40 B/op  0 allocs/op
//
// -list prints the names it knows (bench.Leaves). The workload runs under
// testing.Benchmark, which grows b.N until the run lasts -benchtime (or runs
// exactly N iterations for "Nx"), as go test does. A TwoProcesses workload
// starts its child by running this program again.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"

	"github.com/gotp-dev/gotp/bench"
)

func main() {
	bench.ChildMain() // a TwoProcesses child never gets past this
	testing.Init()    // registers -test.benchtime, which testing.Benchmark reads

	flags := flag.NewFlagSet("benchbin", flag.ExitOnError)
	name := flags.String("bench", "", "the leaf to run, e.g. RemoteSend/gotp/pairs=1/payload=64 (a leading \"Benchmark\" is ignored)")
	benchtime := flags.String("benchtime", "1s", "run for this long, or N iterations with Nx, as go test's -benchtime")
	list := flags.Bool("list", false, "print the leaf names and exit")
	cpuprofile := flags.String("cpuprofile", "", "write a CPU profile of the run to this file")
	_ = flags.Parse(os.Args[1:])

	leaves := bench.Leaves()
	if *list {
		for _, l := range leaves {
			fmt.Println(l.Name)
		}
		return
	}
	if *name == "" || flags.NArg() > 0 {
		fail("usage: benchbin -bench NAME [-benchtime 1s] [-cpuprofile FILE], or benchbin -list")
	}
	if err := flag.Set("test.benchtime", *benchtime); err != nil {
		fail(fmt.Sprintf("-benchtime %q: %v", *benchtime, err))
	}
	want := strings.TrimPrefix(*name, "Benchmark")
	var leaf *bench.Leaf
	for i := range leaves {
		if leaves[i].Name == want {
			leaf = &leaves[i]
		}
	}
	if leaf == nil {
		fail(fmt.Sprintf("no leaf %q (benchbin -list prints them)", want))
	}

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fail(err.Error())
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err.Error())
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	failed := false
	r := testing.Benchmark(func(b *testing.B) {
		// Runs on FailNow's Goexit too. testing.Benchmark keeps what the
		// benchmark logged to itself; go test -bench shows it.
		defer func() {
			if b.Failed() {
				failed = true
			}
		}()
		leaf.Run(b)
	})
	if failed || r.N == 0 {
		fail(fmt.Sprintf("--- FAIL: Benchmark%s (run it with go test -bench to see its log)", leaf.Name))
	}
	fmt.Println(resultLine(leaf.Name, runtime.GOMAXPROCS(0), r))
}

// resultLine is r as go test prints it: the name with the GOMAXPROCS suffix
// (none for 1), the iterations, ns/op and the reported metrics, then B/op and
// allocs/op (every leaf calls b.ReportAllocs).
func resultLine(name string, procs int, r testing.BenchmarkResult) string {
	full := "Benchmark" + name
	if procs != 1 {
		full = fmt.Sprintf("%s-%d", full, procs)
	}
	return full + "\t" + r.String() + "\t" + r.MemString()
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "benchbin:", msg)
	os.Exit(1)
}
