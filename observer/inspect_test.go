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

// cache is an inspectable gen_server: its state is a map.
type cache struct {
	entries map[string]int
	panics  bool
}

func (c *cache) Init(*actor.Process) error {
	c.entries = map[string]int{}
	return nil
}

func (c *cache) HandleCall(_ *actor.Process, _ actor.From, req any) (any, error) {
	return c.entries[req.(string)], nil
}

func (c *cache) HandleCast(_ *actor.Process, msg any) error {
	c.entries[msg.(string)]++
	return nil
}

func (c *cache) Inspect() any {
	if c.panics {
		panic("cannot show")
	}
	return c.entries
}

func TestInspect(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		pid, err := n.Spawn(observer.Inspectable("cache", &cache{}), actor.WithName("cache"))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"a", "b", "a"} {
			if err := n.Cast(pid, k); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := n.Call(t.Context(), pid, "a"); err != nil || got != 2 {
			t.Fatalf("the wrapped server answers %v, %v", got, err)
		}
		h := newHandler(t, n, observer.Options{})
		path := "/api/process/" + url.PathEscape(pid.String())
		st := getJSON[observer.ProcessState](t, h, path+"/state")
		var entries map[string]int
		if err := json.Unmarshal(st.State, &entries); err != nil || entries["a"] != 2 || entries["b"] != 1 || st.Behaviour != "cache" {
			t.Errorf("state %+v (%v)", st, err)
		}
		if d := getJSON[observer.ProcessDetail](t, h, path); !d.Inspectable || d.Behaviour != "cache" {
			t.Errorf("detail: inspectable %v behaviour %q", d.Inspectable, d.Behaviour)
		}
		if tab := getJSON[observer.ProcessTable](t, h, "/api/processes?filter=cache"); len(tab.Processes) != 1 || tab.Processes[0].Behaviour != "cache" {
			t.Errorf("table %+v", tab.Processes)
		}

		// A process not started by Inspectable is never asked.
		var got []any
		plain, err := n.Spawn(actor.Func(func(_ *actor.Process, msg any) error { got = append(got, msg); return nil }))
		if err != nil {
			t.Fatal(err)
		}
		if rec := do(h, http.MethodGet, "/api/process/"+url.PathEscape(plain.String())+"/state"); rec.Code != http.StatusNotFound {
			t.Errorf("state of a plain process: %d %s", rec.Code, rec.Body)
		}
		synctest.Wait()
		if len(got) != 0 {
			t.Errorf("the plain process was sent %v", got)
		}

		// A panicking Inspect is an error, not a crash.
		bad, err := n.Spawn(observer.Inspectable("bad", &cache{panics: true}))
		if err != nil {
			t.Fatal(err)
		}
		if rec := do(h, http.MethodGet, "/api/process/"+url.PathEscape(bad.String())+"/state"); rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), "cannot show") {
			t.Errorf("a panicking Inspect: %d %s", rec.Code, rec.Body)
		}
		if _, err := n.Info(bad); err != nil {
			t.Errorf("Inspect's panic ended the process: %v", err)
		}
	})
}

// Processes killed without Terminate leave registry entries, which a
// later look at the process table sweeps once they pile up.
func TestInspectableRegistrySweep(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		before := observer.RegistrySize()
		var pids []actor.PID
		for range 1500 {
			pid, err := n.Spawn(observer.Inspectable("cache", &cache{}))
			if err != nil {
				t.Fatal(err)
			}
			pids = append(pids, pid)
		}
		for _, pid := range pids {
			if err := n.Exit(pid, actor.Kill); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if got := observer.RegistrySize() - before; got != 1500 {
			t.Fatalf("registry grew by %d, want 1500 (killed processes run no Terminate)", got)
		}
		h := newHandler(t, n, observer.Options{})
		getJSON[observer.ProcessTable](t, h, "/api/processes")
		if got := observer.RegistrySize() - before; got != 0 {
			t.Errorf("after a sweep the registry holds %d dead processes", got)
		}
		// A stopped one leaves at once.
		pid, err := n.Spawn(observer.Inspectable("cache", &cache{}))
		if err != nil {
			t.Fatal(err)
		}
		if err := n.StopProcess(t.Context(), pid, actor.Normal); err != nil {
			t.Fatal(err)
		}
		if got := observer.RegistrySize() - before; got != 0 {
			t.Errorf("a stopped process stays in the registry")
		}
	})
}
