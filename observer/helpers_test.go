package observer_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/observer"
	"github.com/gotp-dev/gotp/supervisor"
)

// bubble runs f in a synctest bubble with a node made inside it, stopped
// before the bubble ends.
func bubble(t *testing.T, f func(t *testing.T, n *actor.Node)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		n, err := actor.NewNode(actor.Config{Name: "obs@test"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := n.Stop(context.Background()); err != nil {
				t.Errorf("stop node: %v", err)
			}
		})
		f(t, n)
	})
}

// echo is a gen_server child: it answers "ping" and crashes on "crash".
type echo struct{}

var errCrash = errors.New("crash requested")

func (echo) HandleCall(_ *actor.Process, _ actor.From, req any) (any, error) {
	if req == "crash" {
		return nil, errCrash
	}
	return req, nil
}

// tree is the supervision tree the tests observe:
//
//	top (one_for_one, registered "top")
//	├── w1 (registered "w1")
//	├── w2
//	└── pool (supervisor, registered "pool")
//	    ├── p1
//	    └── p2
type tree struct {
	top, pool actor.PID
}

func startTree(t *testing.T, n *actor.Node) tree {
	t.Helper()
	newEcho := func() actor.GenServer { return echo{} }
	pool := supervisor.Spec{Intensity: 10, Children: []supervisor.ChildSpec{
		supervisor.Worker("p1", newEcho),
		supervisor.Worker("p2", newEcho),
	}}
	top, err := supervisor.Start(n, supervisor.Spec{Intensity: 10, Children: []supervisor.ChildSpec{
		supervisor.Worker("w1", newEcho, actor.WithName("w1")),
		supervisor.Worker("w2", newEcho),
		supervisor.ChildSupervisor("pool", pool, actor.WithName("pool")),
	}}, actor.WithName("top"))
	if err != nil {
		t.Fatal(err)
	}
	poolPID, ok := n.WhereIs("pool")
	if !ok {
		t.Fatal("pool not registered")
	}
	return tree{top: top, pool: poolPID}
}

// newHandler builds the observer's handler, failing the test on error.
func newHandler(t *testing.T, n *actor.Node, opts observer.Options) http.Handler {
	t.Helper()
	h, err := observer.Handler(n, opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// do sends one request to h as a browser on loopback would and returns the
// recorded response.
func do(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	req, err := http.NewRequest(method, "http://127.0.0.1:4000"+target, nil)
	if err != nil {
		rec := httptest.NewRecorder()
		rec.Code = -1 // the target is no URL: nothing reached the handler
		return rec
	}
	req.RemoteAddr = "127.0.0.1:50000"
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// getJSON GETs target, expects 200 and decodes the body into a T.
func getJSON[T any](t *testing.T, h http.Handler, target string) T {
	t.Helper()
	rec := do(h, http.MethodGet, target)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET %s: content type %q", target, ct)
	}
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("GET %s: %v in %s", target, err, rec.Body)
	}
	return v
}

// spawnIdle spawns a process that does nothing with its messages.
func spawnIdle(t *testing.T, n *actor.Node, opts ...actor.SpawnOption) actor.PID {
	t.Helper()
	pid, err := n.Spawn(actor.Func(func(*actor.Process, any) error { return nil }), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}
