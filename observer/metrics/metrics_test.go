package metrics_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/observer"
	"github.com/gotp-dev/gotp/observer/metrics"
	"github.com/gotp-dev/gotp/rafted"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/supervisor"
)

// scrape GETs the handler and parses the text exposition format into
// "name{labels}" -> value, labels sorted as the format writes them.
func scrape(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	out := map[string]float64{}
	types := map[string]string{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# TYPE ") {
			f := strings.Fields(line)
			types[f[2]] = f[3]
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("malformed line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("malformed value in %q: %v", line, err)
		}
		key := line[:i]
		if _, dup := out[key]; dup {
			t.Fatalf("sample %s twice", key)
		}
		out[key] = v
	}
	for name, typ := range types {
		if strings.HasPrefix(name, "gotp_") && typ != "gauge" && typ != "counter" && typ != "histogram" {
			t.Errorf("%s has type %s", name, typ)
		}
	}
	return out
}

type echo struct{}

func (echo) HandleCall(_ *actor.Process, _ actor.From, req any) (any, error) { return req, nil }

type counter struct{ n int64 }

func (c *counter) Command(arg any) any          { c.n += arg.(int64); return c.n }
func (c *counter) Query(any) any                { return c.n }
func (c *counter) Snapshot() ([]byte, error)    { return nil, nil }
func (c *counter) Restore(b []byte) (err error) { return nil }

func TestScrape(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, err := actor.NewNode(actor.Config{Name: "m@test"})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = n.Stop(context.Background()) }()
		newEcho := func() actor.GenServer { return echo{} }
		top, err := supervisor.Start(n, supervisor.Spec{Intensity: 10, Children: []supervisor.ChildSpec{
			supervisor.Worker("w1", newEcho, actor.WithName("w1")), supervisor.Worker("w2", newEcho),
		}}, actor.WithName("top"))
		if err != nil {
			t.Fatal(err)
		}
		release := make(chan struct{})
		defer close(release)
		stuck, err := n.Spawn(actor.Func(func(*actor.Process, any) error { <-release; return nil }))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			_ = n.Send(stuck, i)
		}
		m, err := rafted.Start(t.Context(), n, rafted.Options{NewData: func() rafted.Data { return &counter{} }, Create: &rafted.Config{}, Name: "kv"})
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		obs, err := observer.New(n, observer.Options{Supervisors: []actor.Dest{top}, Rafted: []rafted.Server{m.Server()}})
		if err != nil {
			t.Fatal(err)
		}
		h, err := metrics.Handler(obs, metrics.Options{})
		if err != nil {
			t.Fatal(err)
		}
		// A call made once the collector watches the node's calls.
		if _, err := supervisor.WhichChildren(t.Context(), n, top); err != nil {
			t.Fatal(err)
		}
		got := scrape(t, h)
		procs := got[`gotp_processes{node="m@test",status="running"}`] + got[`gotp_processes{node="m@test",status="waiting"}`]
		if int(procs) != len(n.Processes()) || got[`gotp_processes{node="m@test",status="running"}`] < 1 {
			t.Errorf("processes %v, node has %d", procs, len(n.Processes()))
		}
		if got[`gotp_mailbox_depth_count{node="m@test"}`] != procs || got[`gotp_mailbox_depth_sum{node="m@test"}`] < 19 {
			t.Errorf("mailbox histogram count %v sum %v", got[`gotp_mailbox_depth_count{node="m@test"}`], got[`gotp_mailbox_depth_sum{node="m@test"}`])
		}
		if got[`gotp_mailbox_depth_bucket{node="m@test",le="10"}`] != procs-1 || got[`gotp_mailbox_depth_bucket{node="m@test",le="+Inf"}`] != procs {
			t.Errorf("buckets: le=10 %v, +Inf %v, of %v", got[`gotp_mailbox_depth_bucket{node="m@test",le="10"}`], got[`gotp_mailbox_depth_bucket{node="m@test",le="+Inf"}`], procs)
		}
		sup := `{node="m@test",supervisor="top"}`
		if got["gotp_supervisor_up"+sup] != 1 || got["gotp_supervisor_children"+sup] != 2 || got["gotp_supervisor_children_active"+sup] != 2 || got["gotp_supervisor_restarts_observed_total"+sup] != 0 ||
			got["gotp_supervisor_restarts_total"+sup] != 0 {
			t.Errorf("supervisor metrics: %v", got)
		}
		group := `{group="` + m.Server().String() + `",node="m@test"}`
		if got["gotp_rafted_is_leader"+group] != 1 || got["gotp_rafted_term"+group] < 1 || got["gotp_rafted_members"+group] != 1 || got["gotp_rafted_commit_index"+group] < 1 || got["gotp_rafted_applied_index"+group] < 1 {
			t.Errorf("raft metrics: term %v leader %v", got["gotp_rafted_term"+group], got["gotp_rafted_is_leader"+group])
		}
		if got[`gotp_call_duration_seconds_count{node="m@test"}`] < 1 {
			t.Errorf("calls observed: %v", got[`gotp_call_duration_seconds_count{node="m@test"}`])
		}
		if got[`gotp_messages_handled_total{node="m@test"}`] < 1 {
			t.Errorf("messages handled %v", got[`gotp_messages_handled_total{node="m@test"}`])
		}
		if _, ok := got[`gotp_remote_peers{node="m@test"}`]; ok {
			t.Error("a local node reports remote metrics")
		}

		if err := n.Exit(actor.Name{Name: "w1"}, actor.Kill); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		got = scrape(t, h)
		if got["gotp_supervisor_restarts_observed_total"+sup] != 1 || got["gotp_supervisor_restarts_total"+sup] != 1 {
			t.Errorf("restarts after a kill: observed %v, the supervisor's count %v", got["gotp_supervisor_restarts_observed_total"+sup], got["gotp_supervisor_restarts_total"+sup])
		}
		// Two crashes between scrapes: the supervisor counts both, the
		// observer sees one PID change.
		for range 2 {
			if err := n.Exit(actor.Name{Name: "w1"}, actor.Kill); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
		}
		if got := scrape(t, h); got["gotp_supervisor_restarts_total"+sup] != 3 || got["gotp_supervisor_restarts_observed_total"+sup] != 2 {
			t.Errorf("two restarts between scrapes: the supervisor's count %v, observed %v", got["gotp_supervisor_restarts_total"+sup], got["gotp_supervisor_restarts_observed_total"+sup])
		}
	})
}

func TestOptions(t *testing.T) {
	n, err := actor.NewNode(actor.Config{Name: "o@test"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = n.Stop(context.Background()) }()
	obs, err := observer.New(n, observer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.NewCollector(obs, metrics.Options{MailboxBuckets: []float64{5, 1}}); err == nil {
		t.Error("descending buckets accepted")
	}
	if _, err := metrics.NewCollector(nil, metrics.Options{}); err == nil {
		t.Error("nil observer accepted")
	}
	h, err := metrics.Handler(obs, metrics.Options{Namespace: "app", GoCollector: true})
	if err != nil {
		t.Fatal(err)
	}
	got := scrape(t, h)
	if _, ok := got[`app_mailbox_messages{node="o@test"}`]; !ok {
		t.Error("namespace not applied")
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("no Go collector")
	}
}

// A distributed node exports its peers' traffic, queues and round trips:
// the handshake's, and the live connection's once a probe has measured it.
func TestScrapeRemote(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(3)
		start := func(name string) (*actor.Node, *remote.Remote) {
			n, err := actor.NewNode(actor.Config{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			r, err := remote.Start(n, remote.Config{Cookie: "c", Transport: net.Transport(name), Listen: []string{name}, NetTickTime: 4 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = n.Stop(context.Background()) })
			return n, r
		}
		a, ra := start("a")
		_, rb := start("b")
		net.SetDelay("a", "b", 20*time.Millisecond, 0)
		net.SetDelay("b", "a", 20*time.Millisecond, 0)
		if err := ra.Connect(t.Context(), rb.Spec()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // a probe every quarter of the net tick time
		synctest.Wait()
		obs, err := observer.New(a, observer.Options{Remote: ra})
		if err != nil {
			t.Fatal(err)
		}
		h, err := metrics.Handler(obs, metrics.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := scrape(t, h)
		peer := `{node="a",peer="b"}`
		if got[`gotp_remote_peers{node="a"}`] != 1 || got[`gotp_remote_bytes_total{direction="in",node="a",peer="b"}`] == 0 ||
			got[`gotp_remote_frames_total{direction="out",node="a",peer="b"}`] == 0 {
			t.Errorf("peer traffic: %v", got)
		}
		if got["gotp_remote_handshake_rtt_seconds"+peer] != 0.04 || got["gotp_remote_rtt_seconds"+peer] != 0.04 {
			t.Errorf("round trips: handshake %v, live %v, want 0.04 both", got["gotp_remote_handshake_rtt_seconds"+peer], got["gotp_remote_rtt_seconds"+peer])
		}
	})
}
