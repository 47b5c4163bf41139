package peerservice

import (
	"slices"
	"time"
)

// detector is a heartbeat failure detector with reconnection backoff. It is
// pure: it is told the time, what was heard and when ticks happen, and says
// which peers failed and which to probe. A peer is failed once more than
// missed × interval has passed since it was last heard from; a failed peer is
// probed after backoff, which doubles up to maxBackoff, until it is heard from
// again.
type detector struct {
	interval   time.Duration
	missed     int
	backoff    time.Duration
	maxBackoff time.Duration
	peers      map[string]*watch
	// jitter returns a random extra wait below d, so that two peers that
	// failed each other at once do not probe (and dial) each other at once.
	jitter func(d time.Duration) time.Duration
}

type watch struct {
	lastHeard time.Time
	up        bool // heard from, and not failed since
	failed    bool
	wait      time.Duration
	nextProbe time.Time
}

func newDetector(interval time.Duration, missed int, backoff, maxBackoff time.Duration) *detector {
	return &detector{interval: interval, missed: missed, backoff: backoff, maxBackoff: maxBackoff, peers: map[string]*watch{}}
}

// watch starts watching node; it gets the full bound from now to be heard.
func (d *detector) watch(node string, now time.Time) {
	if _, ok := d.peers[node]; !ok {
		d.peers[node] = &watch{lastHeard: now}
	}
}

func (d *detector) unwatch(node string) { delete(d.peers, node) }

func (d *detector) watching(node string) bool { _, ok := d.peers[node]; return ok }

// heard records a heartbeat (or any sign of life) from node and reports
// whether node just came up.
func (d *detector) heard(node string, now time.Time) (cameUp bool) {
	w, ok := d.peers[node]
	if !ok {
		return false
	}
	w.lastHeard = now
	w.failed = false
	w.wait = 0
	if !w.up {
		w.up = true
		return true
	}
	return false
}

// isUp reports whether node has been heard from and has not failed since.
func (d *detector) isUp(node string) bool {
	w, ok := d.peers[node]
	return ok && w.up
}

// bound is how long a peer may stay silent.
func (d *detector) bound() time.Duration { return time.Duration(d.missed) * d.interval }

// tick returns the peers that failed since the last tick (wentDown: those of
// them that were up) and the failed peers due for a reconnection probe.
func (d *detector) tick(now time.Time) (failed, wentDown, probe []string) {
	for name, w := range d.peers {
		if !w.failed && now.Sub(w.lastHeard) > d.bound() {
			w.failed = true
			if w.up {
				wentDown = append(wentDown, name)
			}
			w.up = false
			w.wait = d.backoff
			w.nextProbe = now.Add(w.wait + d.jitterOf(w.wait))
			failed = append(failed, name)
			continue
		}
		if w.failed && !now.Before(w.nextProbe) {
			probe = append(probe, name)
			w.wait = min(2*w.wait, d.maxBackoff)
			w.nextProbe = now.Add(w.wait + d.jitterOf(w.wait))
		}
	}
	slices.Sort(failed)
	slices.Sort(wentDown)
	slices.Sort(probe)
	return failed, wentDown, probe
}

func (d *detector) jitterOf(wait time.Duration) time.Duration {
	if d.jitter == nil {
		return 0
	}
	return d.jitter(wait / 4)
}
