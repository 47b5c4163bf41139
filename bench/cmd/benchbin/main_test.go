package main

import (
	"strings"
	"testing"
	"time"
)

func TestResultLine(t *testing.T) {
	r := testing.BenchmarkResult{
		N: 1000, T: 2 * time.Millisecond, MemAllocs: 3000, MemBytes: 64000,
		Extra: map[string]float64{"msgs/s": 500000, "p50-ns": 1500},
	}
	got := strings.Fields(resultLine("RemoteSend/gotp/pairs=1/payload=64", 2, r))
	want := []string{"BenchmarkRemoteSend/gotp/pairs=1/payload=64-2", "1000",
		"2000", "ns/op", "500000", "msgs/s", "1500", "p50-ns", "64", "B/op", "3", "allocs/op"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := strings.Fields(resultLine("PingPong/gotp", 1, r))[0]; got != "BenchmarkPingPong/gotp" {
		t.Errorf("name with GOMAXPROCS=1: %q", got)
	}
}
