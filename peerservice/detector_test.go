package peerservice

import (
	"reflect"
	"testing"
	"time"
)

func TestDetector(t *testing.T) {
	const interval = time.Second
	t0 := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	type step struct {
		at       time.Duration
		heard    bool // heard from "p" at this time
		cameUp   bool
		wentDown []string
		failed   []string
		probe    []string
		upAfter  bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"alive while heard", []step{
			{at: 0, heard: true, cameUp: true, upAfter: true},
			{at: 2 * interval, heard: true, upAfter: true},
			{at: 4 * interval, heard: true, upAfter: true},
			{at: 7 * interval, upAfter: true},
		}},
		{"fails after missed heartbeats, then probes with backoff", []step{
			{at: 0, heard: true, cameUp: true, upAfter: true},
			{at: 3 * interval, upAfter: true},
			{at: 3*interval + 1, wentDown: []string{"p"}, failed: []string{"p"}},
			{at: 4*interval + 1, probe: []string{"p"}},  // after 1 s
			{at: 5*interval + 1},                        // next wait 2 s
			{at: 6*interval + 1, probe: []string{"p"}},  // then 4 s
			{at: 10*interval + 1, probe: []string{"p"}}, // then 4 s (max)
			{at: 14*interval + 1, probe: []string{"p"}},
			{at: 15 * interval, heard: true, cameUp: true, upAfter: true},
		}},
		{"never heard: failed without a down", []step{
			{at: 3*interval + 1, failed: []string{"p"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDetector(interval, 3, interval, 4*interval)
			d.watch("p", t0)
			for i, s := range tt.steps {
				now := at(s.at)
				if s.heard {
					if got := d.heard("p", now); got != s.cameUp {
						t.Fatalf("step %d: cameUp = %v, want %v", i, got, s.cameUp)
					}
					continue
				}
				failed, down, probe := d.tick(now)
				if !reflect.DeepEqual(failed, s.failed) || !reflect.DeepEqual(down, s.wentDown) || !reflect.DeepEqual(probe, s.probe) {
					t.Fatalf("step %d: tick = failed %v down %v probe %v, want %v %v %v", i, failed, down, probe, s.failed, s.wentDown, s.probe)
				}
				if got := d.isUp("p"); got != s.upAfter {
					t.Fatalf("step %d: up = %v, want %v", i, got, s.upAfter)
				}
			}
		})
	}
}
