// Command sim runs the Plumtree and HyParView experiments of Leitão,
// Pereira and Rodrigues (2007) on the simulator of package plumtree/sim and
// writes their tables and plots:
//
//	go run ./plumtree/cmd/sim                    # 10,000 nodes, as the papers
//	go run ./plumtree/cmd/sim -nodes 1000 -jobs 2
//	go run ./plumtree/cmd/sim -nodes 1000 -latency link -doc /tmp/x.md -img /tmp/img
//
// -latency picks the simulator's latency model for every run: unit (one
// time unit per message, the default), message (each message uniform in
// [1, -max-latency]) or link (a fixed random latency per pair of nodes).
//
// The tables go between the results markers of -doc (the prose around them
// is kept; a new file gets the markers), the plots as SVG into -img.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gotp-dev/gotp/plumtree/sim"
)

const (
	beginMarker = "<!-- results:begin (written by go run ./plumtree/cmd/sim) -->"
	endMarker   = "<!-- results:end -->"
)

func main() {
	nodes := flag.Int("nodes", 10_000, "number of nodes")
	seed := flag.Uint64("seed", 1, "random seed")
	jobs := flag.Int("jobs", 2, "networks simulated at once")
	doc := flag.String("doc", "docs/plumtree-experiments.md", "markdown file to write the tables into")
	img := flag.String("img", "docs/img", "directory for the SVG plots")
	latency := flag.String("latency", "unit", "latency model: unit, message or link")
	maxLatency := flag.Int("max-latency", 10, "largest latency of the message and link models, in time units")
	flag.Parse()

	p := sim.Params{MaxLatency: *maxLatency}
	switch *latency {
	case "unit":
	case "message":
		p.Latency = sim.MessageLatency
	case "link":
		p.Latency = sim.LinkLatency
	default:
		log.Fatalf("unknown latency model %q (unit, message or link)", *latency)
	}
	rep, err := sim.RunAll(*nodes, *seed, p, *jobs, func(s string) { log.Print(s) })
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(*img, 0o755); err != nil {
		log.Fatal(err)
	}
	charts := rep.Charts()
	names := make([]string, 0, len(charts))
	for name := range charts {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		path := filepath.Join(*img, name)
		if err := os.WriteFile(path, []byte(charts[name].SVG()), 0o644); err != nil {
			log.Fatal(err)
		}
		log.Printf("wrote %s", path)
	}
	rel, err := filepath.Rel(filepath.Dir(*doc), *img)
	if err != nil {
		rel = *img
	}
	if err := writeDoc(*doc, rep.Markdown(filepath.ToSlash(rel))); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s", *doc)
}

// writeDoc puts results between the markers of the file at path, keeping
// the text around them.
func writeDoc(path, results string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(old)
	block := beginMarker + "\n\n" + results + endMarker
	i, j := strings.Index(text, beginMarker), strings.Index(text, endMarker)
	switch {
	case i >= 0 && j > i:
		text = text[:i] + block + text[j+len(endMarker):]
	case text == "":
		text = "# Plumtree and HyParView experiments\n\n" + block + "\n"
	default:
		text = strings.TrimRight(text, "\n") + "\n\n" + block + "\n"
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

func init() {
	log.SetFlags(0)
	log.SetPrefix("sim: ")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: sim [flags]\n")
		flag.PrintDefaults()
	}
}
