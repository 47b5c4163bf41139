package peerservice

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/remote"
)

// sim drives cores directly: messages are delivered in order, synchronously,
// with drop deciding which to lose. No network, no goroutines, no clock.
type sim struct {
	cores map[string]*core
	now   time.Time
	drop  func(from, to string) bool
	queue []simMsg
	sent  int
	log   map[string][]string // per node: "up n", "down n@t", "disconnect n"
}

type simMsg struct {
	from string
	outMsg
}

func newSim(t *testing.T, n int, topo Topology, servers int) *sim {
	t.Helper()
	s := &sim{cores: map[string]*core{}, now: time.Unix(0, 0), log: map[string][]string{}}
	for i := range n {
		name := fmt.Sprintf("n%03d", i)
		cfg := Config{Topology: topo, Seed: uint64(i + 1)}
		if topo == ClientServer && i >= servers {
			cfg.Role = Client
		}
		cfg = cfg.withDefaults(nil)
		if err := cfg.validate(); err != nil {
			t.Fatal(err)
		}
		spec := remote.NodeSpec{Name: name, Tags: map[string]string{RoleTag: string(cfg.Role)}}
		s.cores[name] = newCore(cfg, spec, name+"/1", s.now)
	}
	return s
}

func (s *sim) names() []string { return sortedKeys(s.cores) }

func (s *sim) apply(from string, eff effects) {
	for _, u := range eff.up {
		s.log[from] = append(s.log[from], "up "+u.Name)
	}
	for _, d := range eff.down {
		s.log[from] = append(s.log[from], fmt.Sprintf("down %s@%ds", d.Name, s.now.Unix()))
	}
	for _, d := range eff.disconnect {
		s.log[from] = append(s.log[from], "disconnect "+d)
	}
	for _, o := range eff.sends {
		s.queue = append(s.queue, simMsg{from, o})
	}
}

// run delivers until no message is left.
func (s *sim) run() {
	for len(s.queue) > 0 {
		m := s.queue[0]
		s.queue = s.queue[1:]
		s.sent++
		c := s.cores[m.to]
		if c == nil || (s.drop != nil && s.drop(m.from, m.to)) {
			continue
		}
		switch msg := m.msg.(type) {
		case heartbeatMsg:
			s.apply(m.to, c.handleHeartbeat(msg, s.now))
		case gossipMsg:
			s.apply(m.to, c.handleGossip(msg, s.now))
		case partitionMsg:
			s.apply(m.to, c.handlePartition(msg))
		case ackMsg:
			c.handleAck(msg)
		case []any:
			p, _ := parseList(msg)
			if f, ok := p.(forwardMsg); ok {
				s.apply(m.to, c.handleForward(f, s.now))
			}
		}
	}
}

func (s *sim) converged() bool {
	var d uint64
	for i, n := range s.names() {
		c := s.cores[n]
		if len(c.members()) != len(s.cores) {
			return false
		}
		if i == 0 {
			d = c.set.Digest()
		} else if c.set.Digest() != d {
			return false
		}
	}
	return true
}

// Gossip alone (no heartbeats) spreads concurrent joins: every node joins
// node 0 at the same moment, then each round every node pushes to
// GossipFanout random peers and answers what it receives.
func TestCoreGossipRounds(t *testing.T) {
	tests := []struct {
		n, servers int
		topo       Topology
		maxRounds  int
	}{
		{10, 0, FullMesh, 10},
		{50, 0, FullMesh, 12},
		{200, 0, FullMesh, 14},
		{200, 8, ClientServer, 14},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v-%d", tt.topo, tt.n), func(t *testing.T) {
			if testing.Short() && tt.n > 50 {
				t.Skip("large cluster under -short")
			}
			s := newSim(t, tt.n, tt.topo, tt.servers)
			names := s.names()
			seed := s.cores[names[0]].self
			for _, n := range names[1:] {
				s.apply(n, s.cores[n].joined(seed, s.now))
			}
			s.run()
			rounds := 0
			for !s.converged() {
				if rounds == tt.maxRounds {
					t.Fatalf("not converged after %d rounds", rounds)
				}
				rounds++
				s.now = s.now.Add(time.Second)
				for _, n := range names {
					s.apply(n, s.cores[n].gossipTick(s.now))
				}
				s.run()
			}
			t.Logf("%v, %d nodes: converged after %d gossip rounds (fanout %d), %d messages", tt.topo, tt.n, rounds, s.cores[names[0]].cfg.GossipFanout, s.sent)
		})
	}
}

func TestCoreFailureDetection(t *testing.T) {
	s := newSim(t, 3, FullMesh, 0)
	names := s.names()
	for _, n := range names[1:] {
		s.apply(n, s.cores[n].joined(s.cores[names[0]].self, s.now))
	}
	s.run()
	a := names[0]
	step := func() {
		s.now = s.now.Add(time.Second)
		for _, n := range names {
			s.apply(n, s.cores[n].heartbeatTick(s.now))
		}
		s.run()
	}
	step()
	if want := []string{"up n001", "up n002"}; !slices.Equal(s.log[a], want) {
		t.Fatalf("n000 log %v, want %v", s.log[a], want)
	}
	// n002 goes silent after 1 s: its last heartbeat was heard at 1 s, so
	// after 3 missed ones it is failed on the tick at 5 s.
	victim := names[2]
	s.drop = func(from, to string) bool { return from == victim }
	for range 4 {
		step()
	}
	want := []string{"up n001", "up n002", "down n002@5s", "disconnect n002"}
	if !slices.Equal(s.log[a], want) {
		t.Fatalf("n000 log %v, want %v", s.log[a], want)
	}
	if got := s.cores[a].members(); len(got) != 3 {
		t.Fatalf("failed node left membership: %v", got)
	}
	// It speaks again; probes find it and it comes up without a join.
	s.drop = nil
	for range 3 {
		step()
	}
	if got := s.log[a][len(s.log[a])-1]; got != "up n002" {
		t.Fatalf("n000 log %v: victim not up again", s.log[a])
	}
}

func TestCorePartitionSpread(t *testing.T) {
	tests := []struct {
		ttl  int
		hold []string // nodes holding the partition, on a line n0-n1-n2-n3
	}{
		{1, []string{"n000", "n001"}},
		{2, []string{"n000", "n001", "n002"}},
		{3, []string{"n000", "n001", "n002", "n003"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.ttl), func(t *testing.T) {
			s := newSim(t, 4, FullMesh, 0)
			names := s.names()
			// A line: each node's only peer is its neighbours.
			for i, n := range names {
				c := s.cores[n]
				c.targets = map[string]remote.NodeSpec{}
				for _, j := range []int{i - 1, i + 1} {
					if j >= 0 && j < len(names) {
						c.targets[names[j]] = s.cores[names[j]].self
					}
				}
			}
			ref, eff := s.cores["n000"].injectPartition("n000", tt.ttl)
			s.apply("n000", eff)
			s.run()
			var hold []string
			for _, n := range names {
				if _, ok := s.cores[n].partitions[ref]; ok {
					hold = append(hold, n)
				}
			}
			if !slices.Equal(hold, tt.hold) {
				t.Fatalf("held by %v, want %v", hold, tt.hold)
			}
			eff, err := s.cores["n001"].resolvePartition(ref)
			if err != nil {
				t.Fatal(err)
			}
			s.apply("n001", eff)
			s.run()
			for _, n := range names {
				if len(s.cores[n].partitions) != 0 {
					t.Fatalf("%s still holds %v", n, s.cores[n].partitions)
				}
			}
		})
	}
}
