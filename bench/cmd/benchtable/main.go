// Command benchtable runs the side-by-side benchmarks of this module and
// prints one table: each workload's figure for raw Go, gotp and protoactor-go,
// and gotp's ratio to the baseline.
//
// Every measurement is a fresh OS process (the compiled test binary, run as a
// plain program with GOMAXPROCS=2), the sides of a workload run one after the
// other within a round, their order rotating from round to round, and the
// table gives the median of the rounds. Run it on a quiet machine:
//
//	cd bench && go run ./cmd/benchtable -rounds 5
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
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
	bench string // the -test.bench pattern, one anchored element per level
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

func pattern(parts ...string) string {
	for i, p := range parts {
		parts[i] = "^" + p + "$"
	}
	return strings.Join(parts, "/")
}

func remoteSend(pairs, payload int) []side {
	level := func(impl string) side {
		return side{impl, pattern("BenchmarkRemoteSend", impl, fmt.Sprintf("pairs=%d", pairs), fmt.Sprintf("payload=%d", payload))}
	}
	return []side{level("raw"), level("gotp"), level("protoactor")}
}

func twoProcSend(payload int) []side {
	level := func(impl string) side {
		return side{impl, pattern("BenchmarkTwoProcesses", "send", impl, fmt.Sprintf("payload=%d", payload))}
	}
	return []side{level("raw"), level("gotp")}
}

var (
	remoteCall  = []side{{"raw", pattern("BenchmarkRemoteCall", "raw")}, {"gotp", pattern("BenchmarkRemoteCall", "gotp")}, {"protoactor", pattern("BenchmarkRemoteCall", "protoactor")}}
	twoProcCall = []side{{"raw", pattern("BenchmarkTwoProcesses", "call", "raw")}, {"gotp", pattern("BenchmarkTwoProcesses", "call", "gotp")}}
	localCall   = []side{{"raw", pattern("BenchmarkCall", "chan_roundtrip")}, {"gotp", pattern("BenchmarkCall", "gotp_from_process")}, {"protoactor", pattern("BenchmarkCall", "protoactor_requestfuture")}}
	pingPong    = []side{{"raw", pattern("BenchmarkPingPong", "chan")}, {"gotp", pattern("BenchmarkPingPong", "gotp")}, {"protoactor", pattern("BenchmarkPingPong", "protoactor")}}
	spawn       = []side{{"gotp", pattern("BenchmarkSpawnIdle", "gotp", "n=100000")}, {"protoactor", pattern("BenchmarkSpawnIdle", "protoactor", "n=100000")}}
)

func fanIn(producers int) []side {
	level := func(label, impl string) side {
		return side{label, pattern("BenchmarkFanIn", impl, fmt.Sprintf("producers=%d", producers))}
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

func main() {
	bin := flag.String("bin", "", "the compiled benchmark binary (default: build it with go test -c)")
	rounds := flag.Int("rounds", 5, "rounds; the table shows the medians")
	benchtime := flag.String("benchtime", "1s", "-test.benchtime of each run")
	only := flag.String("rows", "", "run only the rows whose name contains this")
	flag.Parse()
	if *bin == "" {
		dir, err := os.MkdirTemp("", "benchtable")
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(dir)
		*bin = filepath.Join(dir, "bench.test")
		build := exec.Command("go", "test", "-c", "-o", *bin, ".")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fail(fmt.Errorf("build: %w", err))
		}
	}
	selected := slices.DeleteFunc(slices.Clone(rows), func(r row) bool { return !strings.Contains(r.name, *only) })
	// figures[row][side] holds one figure per round.
	figures := make([]map[string][]float64, len(selected))
	cache := map[string]map[string]float64{} // one run serves the rows that share a benchmark
	for round := range *rounds {
		clear(cache)
		for i, r := range selected {
			if figures[i] == nil {
				figures[i] = map[string][]float64{}
			}
			order := slices.Clone(r.sides)
			k := round % len(order)
			order = append(order[k:], order[:k]...) // rotate: no side always runs first
			for _, s := range order {
				bt := *benchtime
				if r.benchtime != "" {
					bt = r.benchtime
				}
				key := s.bench + " " + bt
				metrics, ok := cache[key]
				if !ok {
					var err error
					if metrics, err = run(*bin, s.bench, bt); err != nil {
						fail(fmt.Errorf("%s %s: %w", r.name, s.label, err))
					}
					cache[key] = metrics
				}
				if v, ok := metrics[r.metric]; ok {
					figures[i][s.label] = append(figures[i][s.label], v)
				}
			}
			fmt.Fprintf(os.Stderr, "round %d/%d: %s\n", round+1, *rounds, r.name)
		}
	}
	fmt.Printf("| workload | unit | raw Go | gotp | protoactor-go | gotp vs baseline |\n|---|---|---:|---:|---:|---:|\n")
	for i, r := range selected {
		med := map[string]float64{}
		cells := []string{}
		for _, label := range []string{"raw", "gotp", "protoactor"} {
			if vs := figures[i][label]; len(vs) > 0 {
				med[label] = median(vs)
				cells = append(cells, format(med[label]))
			} else {
				cells = append(cells, "–")
			}
		}
		ratio := "–"
		if g, b := med["gotp"], med[r.baseline]; g > 0 && b > 0 {
			if r.lower {
				ratio = fmt.Sprintf("%.2fx %s's", g/b, r.baseline)
			} else {
				ratio = fmt.Sprintf("%.2f of %s", g/b, r.baseline)
			}
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", r.name, r.metric, cells[0], cells[1], cells[2], ratio)
	}
}

// run runs one benchmark in a process of its own and returns its metrics.
func run(bin, bench, benchtime string) (map[string]float64, error) {
	cmd := exec.Command(bin, "-test.run", "^$", "-test.bench", bench, "-test.benchtime", benchtime, "-test.timeout", "30m")
	cmd.Env = append(os.Environ(), "GOMAXPROCS=2")
	cmd.Dir = filepath.Dir(bin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, out.String())
	}
	metrics := map[string]float64{}
	found := false
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		found = true
		// name, iterations, then value-unit pairs.
		for j := 2; j+1 < len(fields); j += 2 {
			if v, err := strconv.ParseFloat(fields[j], 64); err == nil {
				metrics[fields[j+1]] = v
			}
		}
	}
	if !found {
		// A binary of another version may lack a side: its cell stays empty.
		fmt.Fprintf(os.Stderr, "benchtable: no benchmark matched %q\n", bench)
	}
	return metrics, nil
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
