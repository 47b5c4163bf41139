// Command benchtable runs the side-by-side benchmarks of this module and
// prints one table: each workload's figure for raw Go, gotp and protoactor-go,
// and gotp's ratio to the baseline.
//
// Every measurement is a fresh OS process with GOMAXPROCS=2, of one of two
// binaries: the compiled test binary (go test -c, run with -test.bench) and
// the plain program cmd/benchbin, which runs the same workload outside go
// test. -mode picks test, plain or both. The sides of a workload (and in both
// mode each side in both binaries) run one after the other within a round,
// their order rotating from round to round, and the table gives the median of
// the rounds, a row per binary, with ratios taken within one binary. Run it on
// a quiet machine:
//
//	cd bench && go run ./cmd/benchtable -rounds 5
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// side is one runtime's benchmark for a workload.
type side struct {
	label string // raw, gotp, protoactor
	leaf  string // the benchmark's name without "Benchmark", as bench.Leaves has it
}

// row is one workload of the table.
type row struct {
	name   string
	metric string // the unit of the figure: msgs/s, calls/s, ns/op, p50-ns, p99-ns...
	// lower: a smaller figure is better (latencies), so the ratio shown
	// is gotp/baseline as a slowdown; else it is gotp/baseline as a share.
	lower     bool
	baseline  string // the label of the side the ratio is taken against
	sides     []side
	benchtime string // overrides -benchtime
}

// pattern is the -test.bench pattern that selects leaf alone: one anchored
// element per level of its name.
func pattern(leaf string) string {
	parts := strings.Split("Benchmark"+leaf, "/")
	for i, p := range parts {
		parts[i] = "^" + p + "$"
	}
	return strings.Join(parts, "/")
}

func remoteSend(pairs, payload int) []side {
	level := func(impl string) side {
		return side{impl, fmt.Sprintf("RemoteSend/%s/pairs=%d/payload=%d", impl, pairs, payload)}
	}
	return []side{level("raw"), level("gotp"), level("protoactor")}
}

func twoProcSend(payload int) []side {
	level := func(impl string) side {
		return side{impl, fmt.Sprintf("TwoProcesses/send/%s/payload=%d", impl, payload)}
	}
	return []side{level("raw"), level("gotp")}
}

var (
	remoteCall  = []side{{"raw", "RemoteCall/raw"}, {"gotp", "RemoteCall/gotp"}, {"protoactor", "RemoteCall/protoactor"}}
	twoProcCall = []side{{"raw", "TwoProcesses/call/raw"}, {"gotp", "TwoProcesses/call/gotp"}}
	localCall   = []side{{"raw", "Call/chan_roundtrip"}, {"gotp", "Call/gotp_from_process"}, {"protoactor", "Call/protoactor_requestfuture"}}
	pingPong    = []side{{"raw", "PingPong/chan"}, {"gotp", "PingPong/gotp"}, {"protoactor", "PingPong/protoactor"}}
	spawn       = []side{{"gotp", "SpawnIdle/gotp/n=100000"}, {"protoactor", "SpawnIdle/protoactor/n=100000"}}
)

func fanIn(producers int) []side {
	level := func(label, impl string) side {
		return side{label, fmt.Sprintf("FanIn/%s/producers=%d", impl, producers)}
	}
	return []side{level("raw", "chan"), level("gotp", "gotp"), level("protoactor", "protoactor")}
}

var rows = []row{
	{name: "remote one-way 64 B, 1 OS process", metric: "msgs/s", baseline: "raw", sides: remoteSend(1, 64)},
	{name: "remote one-way 1 KiB, 1 OS process", metric: "msgs/s", baseline: "raw", sides: remoteSend(1, 1024)},
	{name: "remote one-way 64 B, 2 OS processes", metric: "msgs/s", baseline: "raw", sides: twoProcSend(64)},
	{name: "remote one-way 1 KiB, 2 OS processes", metric: "msgs/s", baseline: "raw", sides: twoProcSend(1024)},
	{name: "remote call p50, 1 OS process", metric: "p50-ns", lower: true, baseline: "raw", sides: remoteCall},
	{name: "remote call p99, 1 OS process", metric: "p99-ns", lower: true, baseline: "raw", sides: remoteCall},
	{name: "remote call p50, 2 OS processes", metric: "p50-ns", lower: true, baseline: "raw", sides: twoProcCall},
	{name: "remote call p99, 2 OS processes", metric: "p99-ns", lower: true, baseline: "raw", sides: twoProcCall},
	{name: "local call round trip, from a process", metric: "ns/op", lower: true, baseline: "raw", sides: localCall},
	{name: "local one-way into one process, 1 producer", metric: "msgs/s", baseline: "raw", sides: fanIn(1)},
	{name: "local one-way, 16 producers", metric: "msgs/s", baseline: "raw", sides: fanIn(16)},
	{name: "ping-pong", metric: "msgs/s", baseline: "raw", sides: pingPong},
	{name: "spawn 100k idle processes, ns each", metric: "ns/spawn", lower: true, baseline: "protoactor", sides: spawn, benchtime: "1x"},
	{name: "spawn 100k idle processes, bytes each", metric: "B/proc", lower: true, baseline: "protoactor", sides: spawn, benchtime: "1x"},
}

// binary is one of the two programs a side is measured in.
type binary struct {
	mode string // test: the compiled test binary; plain: cmd/benchbin
	path string
}

// command runs leaf alone for benchtime.
func (b binary) command(leaf, benchtime string) *exec.Cmd {
	if b.mode == "test" {
		return exec.Command(b.path, "-test.run", "^$", "-test.bench", pattern(leaf), "-test.benchtime", benchtime, "-test.timeout", "30m")
	}
	return exec.Command(b.path, "-bench", leaf, "-benchtime", benchtime)
}

// measurement is one side in one binary: a run of a round.
type measurement struct {
	side side
	bin  binary
}

// cell names the figures of one side in one binary.
type cell struct{ mode, label string }

func main() {
	testBin := flag.String("bin", "", "the compiled test binary (default: build it with go test -c)")
	plainBin := flag.String("plainbin", "", "the compiled cmd/benchbin (default: build it with go build)")
	mode := flag.String("mode", "both", "which binaries measure each side: test, plain or both")
	rounds := flag.Int("rounds", 5, "rounds; the table shows the medians")
	benchtime := flag.String("benchtime", "1s", "-benchtime of each run")
	only := flag.String("rows", "", "run only the rows whose name contains this")
	flag.Parse()
	var modes []string
	switch *mode {
	case "test", "plain":
		modes = []string{*mode}
	case "both":
		modes = []string{"plain", "test"}
	default:
		fail(fmt.Errorf("-mode %q: want test, plain or both", *mode))
	}
	if *testBin != "" && *plainBin == "" && slices.Contains(modes, "plain") {
		// Building benchbin here would measure this tree against -bin's.
		fail(fmt.Errorf("-bin names a test binary of another build: give its -plainbin too, or -mode test"))
	}
	dir, err := os.MkdirTemp("", "benchtable")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	var bins []binary
	for _, m := range modes {
		b := binary{mode: m, path: *testBin}
		if m == "plain" {
			b.path = *plainBin
		}
		if b.path == "" {
			b.path = build(dir, m)
		}
		bins = append(bins, b)
	}
	selected := slices.DeleteFunc(slices.Clone(rows), func(r row) bool { return !strings.Contains(r.name, *only) })
	// figures[row][cell] holds one figure per round.
	figures := make([]map[cell][]float64, len(selected))
	cache := map[string]map[string]float64{} // one run serves the rows that share a benchmark
	for round := range *rounds {
		clear(cache)
		for i, r := range selected {
			if figures[i] == nil {
				figures[i] = map[cell][]float64{}
			}
			var order []measurement
			for _, s := range r.sides {
				for _, b := range bins {
					order = append(order, measurement{s, b})
				}
			}
			k := round % len(order)
			order = append(order[k:], order[:k]...) // rotate: no side or binary always runs first
			for _, m := range order {
				bt := *benchtime
				if r.benchtime != "" {
					bt = r.benchtime
				}
				key := m.bin.mode + " " + m.side.leaf + " " + bt
				metrics, ok := cache[key]
				if !ok {
					var err error
					if metrics, err = run(m.bin, m.side.leaf, bt); err != nil {
						fail(fmt.Errorf("%s %s (%s): %w", r.name, m.side.label, m.bin.mode, err))
					}
					cache[key] = metrics
				}
				if v, ok := metrics[r.metric]; ok {
					c := cell{m.bin.mode, m.side.label}
					figures[i][c] = append(figures[i][c], v)
				}
			}
			fmt.Fprintf(os.Stderr, "round %d/%d: %s\n", round+1, *rounds, r.name)
		}
	}
	fmt.Printf("| workload | unit | binary | raw Go | gotp | protoactor-go | gotp vs baseline |\n|---|---|---|---:|---:|---:|---:|\n")
	for i, r := range selected {
		for _, b := range bins {
			med := map[string]float64{}
			cells := []string{}
			for _, label := range []string{"raw", "gotp", "protoactor"} {
				if vs := figures[i][cell{b.mode, label}]; len(vs) > 0 {
					med[label] = median(vs)
					cells = append(cells, format(med[label]))
				} else {
					cells = append(cells, "–")
				}
			}
			ratio := "–"
			if g, base := med["gotp"], med[r.baseline]; g > 0 && base > 0 {
				if r.lower {
					ratio = fmt.Sprintf("%.2fx %s's", g/base, r.baseline)
				} else {
					ratio = fmt.Sprintf("%.2f of %s", g/base, r.baseline)
				}
			}
			fmt.Printf("| %s | %s | %s | %s | %s | %s | %s |\n", r.name, r.metric, b.mode, cells[0], cells[1], cells[2], ratio)
		}
	}
}

// build compiles the binary of mode into dir and returns its path.
func build(dir, mode string) string {
	var cmd *exec.Cmd
	path := filepath.Join(dir, "bench.test")
	if mode == "test" {
		cmd = exec.Command("go", "test", "-c", "-o", path, ".")
	} else {
		path = filepath.Join(dir, "benchbin")
		cmd = exec.Command("go", "build", "-o", path, "./cmd/benchbin")
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fail(fmt.Errorf("build %s binary: %w", mode, err))
	}
	return path
}

// run runs one benchmark in a process of its own and returns its metrics.
func run(bin binary, leaf, benchtime string) (map[string]float64, error) {
	cmd := bin.command(leaf, benchtime)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=2")
	cmd.Dir = filepath.Dir(bin.path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, out.String())
	}
	metrics, found := parse(&out)
	if !found {
		// A binary of another version may lack a side: its cell stays empty.
		fmt.Fprintf(os.Stderr, "benchtable: the %s binary has no benchmark %s\n", bin.mode, leaf)
	}
	return metrics, nil
}

// parse reads the metrics of go test's benchmark result lines (benchbin prints
// the same): the name, the iterations, then value-unit pairs.
func parse(out io.Reader) (metrics map[string]float64, found bool) {
	metrics = map[string]float64{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		found = true
		for j := 2; j+1 < len(fields); j += 2 {
			if v, err := strconv.ParseFloat(fields[j], 64); err == nil {
				metrics[fields[j+1]] = v
			}
		}
	}
	return metrics, found
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// format prints a figure with three significant digits and a k or M suffix.
func format(v float64) string {
	switch {
	case v >= 1e7:
		return fmt.Sprintf("%.1f M", v/1e6)
	case v >= 1e6:
		return fmt.Sprintf("%.2f M", v/1e6)
	case v >= 1e5:
		return fmt.Sprintf("%.0f k", v/1e3)
	case v >= 1e4:
		return fmt.Sprintf("%.1f k", v/1e3)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.1f", v)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchtable:", err)
	os.Exit(1)
}
