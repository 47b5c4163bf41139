package observer_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/observer"
)

func TestNodeEndpoint(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		startTree(t, n)
		h := newHandler(t, n, observer.Options{})
		got := getJSON[observer.NodeInfo](t, h, "/api/node")
		if got.Name != n.Name() || got.Creation != n.Creation() {
			t.Errorf("node %s/%d, want %s/%d", got.Name, got.Creation, n.Name(), n.Creation())
		}
		if got.Processes != len(n.Processes()) || got.Processes < 6 {
			t.Errorf("processes %d, node has %d", got.Processes, len(n.Processes()))
		}
		if got.Goroutines <= 0 || got.Memory.Sys == 0 || got.GoVersion == "" {
			t.Errorf("runtime figures missing: %+v", got)
		}
		if got.Distributed || len(got.Peers) != 0 {
			t.Errorf("a local node reports peers: %+v", got.Peers)
		}
	})
}

// busy spawns a process stuck in its first message until release is
// closed, with more messages queued behind it.
func busy(t *testing.T, n *actor.Node, queued int) actor.PID {
	t.Helper()
	release := make(chan struct{})
	pid, err := n.Spawn(actor.Func(func(*actor.Process, any) error {
		<-release
		return nil
	}), actor.WithName("busy"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { close(release) })
	for i := 0; i <= queued; i++ {
		if err := n.Send(pid, i); err != nil {
			t.Fatal(err)
		}
	}
	synctest.Wait()
	return pid
}

func TestProcessesEndpoint(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		startTree(t, n)
		b := busy(t, n, 5)
		h := newHandler(t, n, observer.Options{})
		all := getJSON[observer.ProcessTable](t, h, "/api/processes")
		if all.Total != len(n.Processes()) || all.Matched != all.Total || len(all.Processes) != all.Total {
			t.Fatalf("table %d/%d/%d, node has %d", all.Total, all.Matched, len(all.Processes), len(n.Processes()))
		}
		if !slices.IsSortedFunc(all.Processes, func(a, b observer.ProcessRow) int { return int(a.ID) - int(b.ID) }) {
			t.Errorf("default order is not spawn order")
		}
		top := getJSON[observer.ProcessTable](t, h, "/api/processes?sort=mailbox&order=desc&limit=1")
		if len(top.Processes) != 1 || top.Processes[0].PID != b.String() || top.Processes[0].MailboxLen < 5 || top.Processes[0].Status != "running" {
			t.Errorf("deepest mailbox: %+v, want %s with at least 5", top.Processes, b)
		}
		if top.Matched != all.Total {
			t.Errorf("limit changed matched: %d", top.Matched)
		}
		named := getJSON[observer.ProcessTable](t, h, "/api/processes?filter=w1")
		if len(named.Processes) != 1 || named.Processes[0].Name != "w1" || named.Processes[0].Links != 1 {
			t.Errorf("filter w1: %+v", named.Processes)
		}
		running := getJSON[observer.ProcessTable](t, h, "/api/processes?status=running")
		if len(running.Processes) != 1 || running.Processes[0].Name != "busy" {
			t.Errorf("status=running: %+v", running.Processes)
		}
		page := getJSON[observer.ProcessTable](t, h, "/api/processes?offset=2&limit=3")
		if len(page.Processes) != 3 || page.Processes[0].PID != all.Processes[2].PID {
			t.Errorf("offset 2 limit 3: %+v", page.Processes)
		}
		past := getJSON[observer.ProcessTable](t, h, "/api/processes?offset=100000")
		if len(past.Processes) != 0 {
			t.Errorf("offset past the end: %+v", past.Processes)
		}
		byName := getJSON[observer.ProcessTable](t, h, "/api/processes?sort=name")
		var names []string
		for _, r := range byName.Processes {
			names = append(names, r.Name)
		}
		if !slices.IsSorted(names) {
			t.Errorf("sort=name: %q", names)
		}
	})
}

func TestMalformedQueriesAre400(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		startTree(t, n)
		h := newHandler(t, n, observer.Options{})
		other := actor.PID{Node: "elsewhere", Creation: n.Creation(), ID: 1}
		for _, target := range []string{
			"/api/processes?sort=bogus",
			"/api/processes?order=sideways",
			"/api/processes?limit=-1",
			"/api/processes?limit=abc",
			"/api/processes?offset=99999999999999999999999",
			"/api/processes?status=zombie",
			"/api/process/notapid",
			"/api/process/" + url.PathEscape("<obs@test.x.1>"),
			"/api/process/" + url.PathEscape("<.1.2>"),
			"/api/process/" + url.PathEscape(other.String()),
			"/api/process/-5",
			"/api/supervisors?root=",
			"/api/supervisors?root=" + url.QueryEscape("<obs@test.1>"),
			"/api/events?view=bogus",
			"/api/events?view=processes&sort=bogus",
			"/api/events?view=process&pid=zzz",
		} {
			rec := do(h, http.MethodGet, target)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"error"`) {
				t.Errorf("GET %s: %d %s, want 400 with an error", target, rec.Code, rec.Body)
			}
		}
		gone := actor.PID{Node: n.Name(), Creation: n.Creation(), ID: 1 << 40}
		if rec := do(h, http.MethodGet, "/api/process/"+url.PathEscape(gone.String())); rec.Code != http.StatusNotFound {
			t.Errorf("a process that never was: %d %s, want 404", rec.Code, rec.Body)
		}
		if rec := do(h, http.MethodGet, "/api/panels/none"); rec.Code != http.StatusNotFound {
			t.Errorf("an unknown panel: %d, want 404", rec.Code)
		}
	})
}

// FuzzQueries throws arbitrary query strings and PIDs at the API: every
// answer is 200, 400 or 404, never a panic.
func FuzzQueries(f *testing.F) {
	for _, s := range []string{"sort=mailbox&order=desc", "limit=1&offset=2", "filter=%00", "status=running", "<a.1.2>", "1", "..", "<>", "a.b.c"} {
		f.Add(s)
	}
	n, err := actor.NewNode(actor.Config{Name: "fuzz@test"})
	if err != nil {
		f.Fatal(err)
	}
	defer func() { _ = n.Stop(context.Background()) }()
	h, err := observer.Handler(n, observer.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, target := range []string{"/api/processes?" + s, "/api/process/" + url.PathEscape(s), "/api/supervisors?root=" + url.QueryEscape(s)} {
			rec := do(h, http.MethodGet, target)
			switch rec.Code {
			case -1: // not a URL at all
			case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusMovedPermanently, http.StatusTemporaryRedirect: // the mux cleans dot segments with a redirect
			default:
				t.Errorf("GET %s: %d %s", target, rec.Code, rec.Body)
			}
		}
	})
}

func TestProcessEndpoint(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		tr := startTree(t, n)
		linked := spawnIdle(t, n, actor.WithName("linked"))
		watched := spawnIdle(t, n)
		tier, err := n.Spawn(actor.Func(func(p *actor.Process, msg any) error {
			if msg == "tie" {
				if err := p.Link(linked); err != nil {
					return err
				}
				p.Monitor(watched)
				p.Monitor(actor.Name{Name: "w1"})
			}
			return nil
		}), actor.WithTrapExit())
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Send(tier, "tie"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		h := newHandler(t, n, observer.Options{Supervisors: []actor.Dest{actor.Name{Name: "top"}}})
		d := getJSON[observer.ProcessDetail](t, h, "/api/process/"+url.PathEscape(tier.String()))
		if d.PID != tier.String() || !d.TrapExit || d.Links != 1 || d.Monitors != 2 {
			t.Errorf("detail %+v", d.ProcessRow)
		}
		if len(d.LinkList) != 1 || d.LinkList[0] != (observer.ProcessRef{PID: linked.String(), Name: "linked"}) {
			t.Errorf("links %+v", d.LinkList)
		}
		if len(d.MonitorList) != 1 || d.MonitorList[0].PID != watched.String() {
			t.Errorf("monitors %+v", d.MonitorList)
		}
		if d.Supervisor != "" || d.IsSupervisor {
			t.Errorf("an unsupervised process has supervisor %q / %v", d.Supervisor, d.IsSupervisor)
		}
		w := getJSON[observer.ProcessDetail](t, h, "/api/process/"+url.PathEscape(watched.String()))
		if len(w.MonitoredList) != 1 || w.MonitoredList[0].PID != tier.String() {
			t.Errorf("monitored by %+v", w.MonitoredList)
		}
		// The bare id and the form without brackets name the same process.
		w1, _ := n.WhereIs("w1")
		for _, form := range []string{strings.Trim(w1.String(), "<>"), url.PathEscape(w1.String())} {
			c := getJSON[observer.ProcessDetail](t, h, "/api/process/"+form)
			if c.Name != "w1" || c.Supervisor != tr.top.String() || c.Parent != tr.top.String() {
				t.Errorf("child w1 via %s: name %q supervisor %q parent %q", form, c.Name, c.Supervisor, c.Parent)
			}
		}
		s := getJSON[observer.ProcessDetail](t, h, "/api/process/"+url.PathEscape(tr.pool.String()))
		if !s.IsSupervisor || s.Supervisor != tr.top.String() {
			t.Errorf("pool: is_supervisor %v supervisor %q", s.IsSupervisor, s.Supervisor)
		}
	})
}

func TestPanels(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		h := newHandler(t, n, observer.Options{Panels: []observer.Panel{
			{Name: "tables", Data: func(context.Context) (any, error) { return map[string]int{"users": 3}, nil }},
			{Name: "broken", Data: func(context.Context) (any, error) { panic("bad panel") }},
		}})
		names := getJSON[[]string](t, h, "/api/panels")
		if !slices.Equal(names, []string{"tables", "broken"}) {
			t.Errorf("panels %q", names)
		}
		if got := getJSON[map[string]int](t, h, "/api/panels/tables"); got["users"] != 3 {
			t.Errorf("panel data %v", got)
		}
		if rec := do(h, http.MethodGet, "/api/panels/broken"); rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), "bad panel") {
			t.Errorf("a panicking panel: %d %s", rec.Code, rec.Body)
		}
		if _, err := observer.Handler(n, observer.Options{Panels: []observer.Panel{{Name: "x"}}}); err == nil {
			t.Error("a panel without Data was accepted")
		}
	})
}

func TestPages(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		h := newHandler(t, n, observer.Options{})
		for path, want := range map[string]string{"/": "text/html", "/app.js": "javascript", "/app.css": "text/css"} {
			rec := do(h, http.MethodGet, path)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Type"), want) {
				t.Errorf("GET %s: %d %q", path, rec.Code, rec.Header().Get("Content-Type"))
			}
		}
		if rec := do(h, http.MethodGet, "/nothing"); rec.Code != http.StatusNotFound {
			t.Errorf("GET /nothing: %d", rec.Code)
		}
	})
}

func TestRoutes(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		extra := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("extra")) })
		h := newHandler(t, n, observer.Options{Token: "t", Routes: map[string]http.Handler{"GET /metrics": extra}})
		if rec := do(h, http.MethodGet, "/metrics"); rec.Code != http.StatusUnauthorized {
			t.Errorf("an extra route without the token: %d", rec.Code)
		}
		if rec := do(h, http.MethodGet, "/metrics", "Authorization", "Bearer t"); rec.Code != http.StatusOK || rec.Body.String() != "extra" {
			t.Errorf("an extra route: %d %q", rec.Code, rec.Body)
		}
		for _, bad := range []map[string]http.Handler{{"GET /api/node": extra}, {"GET /x": nil}, {"BAD PATTERN WITH SPACES": extra}} {
			if _, err := observer.Handler(n, observer.Options{Routes: bad}); !errors.Is(err, observer.ErrInvalidOptions) {
				t.Errorf("routes %v: %v, want ErrInvalidOptions", bad, err)
			}
		}
	})
}
