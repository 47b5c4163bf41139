package observer_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/observer"
)

func child(t *testing.T, tr observer.SupervisorTree, id string) observer.ChildNode {
	t.Helper()
	for _, c := range tr.Children {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no child %q in %+v", id, tr.Children)
	return observer.ChildNode{}
}

func TestSupervisorsEndpoint(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		tr := startTree(t, n)
		h := newHandler(t, n, observer.Options{Supervisors: []actor.Dest{actor.Name{Name: "top"}}})
		trees := getJSON[[]observer.SupervisorTree](t, h, "/api/supervisors")
		if len(trees) != 1 {
			t.Fatalf("trees %+v", trees)
		}
		top := trees[0]
		if top.PID != tr.top.String() || top.Name != "top" || top.Root != "top" || top.Error != "" {
			t.Errorf("root %+v", top)
		}
		if top.Counts.Specs != 3 || top.Counts.Active != 3 || top.Counts.Supervisors != 1 || top.Counts.Workers != 2 {
			t.Errorf("counts %+v", top.Counts)
		}
		var ids []string
		for _, c := range top.Children {
			ids = append(ids, c.ID)
		}
		if strings.Join(ids, ",") != "w1,w2,pool" {
			t.Errorf("children %q, want start order", ids)
		}
		w1 := child(t, top, "w1")
		if w1.Name != "w1" || w1.Type != "worker" || w1.Restart != "permanent" || w1.Status != "waiting" || w1.Supervisor != nil {
			t.Errorf("w1 %+v", w1)
		}
		pool := child(t, top, "pool")
		if pool.Type != "supervisor" || pool.Supervisor == nil || pool.Supervisor.PID != tr.pool.String() || len(pool.Supervisor.Children) != 2 {
			t.Fatalf("pool %+v", pool)
		}

		// A crash is seen as a restart: the child has a new PID.
		if err := n.Exit(actor.Name{Name: "w1"}, actor.Kill); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		after := getJSON[[]observer.SupervisorTree](t, h, "/api/supervisors")[0]
		w1b := child(t, after, "w1")
		if w1b.PID == w1.PID || w1b.PID == "" || w1b.RestartsSeen != 1 || after.RestartsSeen != 1 {
			t.Errorf("after a kill: w1 %+v, tree restarts %d", w1b, after.RestartsSeen)
		}
		// The supervisor's own account, by Inspect.
		if after.Strategy != "one_for_one" || after.Intensity != 10 || after.Restarts != 1 || after.RecentRestarts != 1 || w1b.Restarts != 1 {
			t.Errorf("supervisor state: %s intensity %d restarts %d (recent %d), w1 restarts %d", after.Strategy, after.Intensity, after.Restarts, after.RecentRestarts, w1b.Restarts)
		}
		state := getJSON[observer.ProcessState](t, h, "/api/process/"+url.PathEscape(tr.top.String())+"/state")
		var sup struct {
			Strategy string
			Restarts int
		}
		if err := json.Unmarshal(state.State, &sup); err != nil || state.Behaviour != "supervisor" || sup.Strategy != "one_for_one" || sup.Restarts != 1 {
			t.Errorf("the supervisor's state page: %+v %s (%v)", state, state.State, err)
		}
		if child(t, after, "w2").RestartsSeen != 0 {
			t.Errorf("w2 counted a restart")
		}

		// An extra root by PID, and one that is not a supervisor.
		idle := spawnIdle(t, n)
		extra := getJSON[[]observer.SupervisorTree](t, h, "/api/supervisors?root="+url.QueryEscape(tr.pool.String())+"&root=nobody")
		if len(extra) != 3 || extra[1].PID != tr.pool.String() || len(extra[1].Children) != 2 {
			t.Fatalf("extra roots %+v", extra)
		}
		if extra[2].Error == "" {
			t.Errorf("an unregistered root has no error: %+v", extra[2])
		}
		_ = idle
	})
}

func TestActions(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		tr := startTree(t, n)
		victim := spawnIdle(t, n)
		kill := "/api/process/" + url.PathEscape(victim.String()) + "/kill"
		restart := "/api/supervisor/" + url.PathEscape(tr.top.String()) + "/restart/w2"

		ro := newHandler(t, n, observer.Options{})
		for _, target := range []string{kill, restart} {
			if rec := do(ro, http.MethodPost, target, "X-Gotp-Observer", "1"); rec.Code != http.StatusForbidden {
				t.Errorf("read-only POST %s: %d %s", target, rec.Code, rec.Body)
			}
		}
		if rec := do(ro, http.MethodGet, kill); rec.Code == http.StatusOK {
			t.Errorf("GET of an action: %d", rec.Code)
		}
		synctest.Wait()
		if _, err := n.Info(victim); err != nil {
			t.Fatalf("a read-only observer killed: %v", err)
		}

		rw := newHandler(t, n, observer.Options{AllowActions: true, Supervisors: []actor.Dest{tr.top}})
		if rec := do(rw, http.MethodPost, kill); rec.Code != http.StatusForbidden {
			t.Errorf("an action without its header: %d", rec.Code)
		}
		if rec := do(rw, http.MethodPost, kill, "X-Gotp-Observer", "1"); rec.Code != http.StatusOK {
			t.Errorf("kill: %d %s", rec.Code, rec.Body)
		}
		synctest.Wait()
		if _, err := n.Info(victim); err == nil {
			t.Error("the victim lives")
		}
		if rec := do(rw, http.MethodPost, kill, "X-Gotp-Observer", "1"); rec.Code != http.StatusNotFound {
			t.Errorf("killing the dead: %d", rec.Code)
		}

		before := child(t, getJSON[[]observer.SupervisorTree](t, rw, "/api/supervisors")[0], "w2")
		rec := do(rw, http.MethodPost, restart, "X-Gotp-Observer", "1")
		if rec.Code != http.StatusOK {
			t.Fatalf("restart: %d %s", rec.Code, rec.Body)
		}
		after := child(t, getJSON[[]observer.SupervisorTree](t, rw, "/api/supervisors")[0], "w2")
		if after.PID == before.PID || after.Status != "waiting" || !strings.Contains(rec.Body.String(), after.PID) {
			t.Errorf("restart: before %s after %+v, answer %s", before.PID, after, rec.Body)
		}
		missing := "/api/supervisor/" + url.PathEscape(tr.top.String()) + "/restart/nope"
		if rec := do(rw, http.MethodPost, missing, "X-Gotp-Observer", "1"); rec.Code != http.StatusNotFound {
			t.Errorf("restart of an unknown child: %d %s", rec.Code, rec.Body)
		}
	})
}

// With no roots configured, the trees are found: every supervisor whose
// parent is not a supervisor is the root of one.
func TestSupervisorsAreFound(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		tr := startTree(t, n)
		h := newHandler(t, n, observer.Options{})
		trees := getJSON[[]observer.SupervisorTree](t, h, "/api/supervisors")
		if len(trees) != 1 || trees[0].PID != tr.top.String() || len(trees[0].Children) != 3 {
			t.Fatalf("trees %+v, want the one rooted at top", trees)
		}
		page := getJSON[struct {
			Processes []observer.ProcessRow `json:"processes"`
		}](t, h, "/api/processes?filter=top")
		if rows := page.Processes; len(rows) != 1 || rows[0].Behaviour != "supervisor" || rows[0].Started == "" || rows[0].Handled == 0 {
			t.Fatalf("rows %+v, want top as a supervisor that handled its children's starts", rows)
		}
	})
}
