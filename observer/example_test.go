package observer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/observer"
	"github.com/gotp-dev/gotp/supervisor"
)

// The JSON API answers scripts as it answers the pages: here, the
// supervision tree of a small application.
func Example() {
	node, _ := actor.NewNode(actor.Config{Name: "demo@host"})
	defer func() { _ = node.Stop(context.Background()) }()
	newEcho := func() actor.GenServer { return echo{} }
	_, _ = supervisor.Start(node, supervisor.Spec{Children: []supervisor.ChildSpec{
		supervisor.Worker("cache", newEcho, actor.WithName("cache")),
		supervisor.Worker("mailer", newEcho),
	}}, actor.WithName("app"))

	h, err := observer.Handler(node, observer.Options{Supervisors: []actor.Dest{actor.Name{Name: "app"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	req := httptest.NewRequest(http.MethodGet, "http://localhost/api/supervisors", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var trees []observer.SupervisorTree
	_ = json.Unmarshal(rec.Body.Bytes(), &trees)
	for _, t := range trees {
		fmt.Printf("%s: %d of %d children up\n", t.Name, t.Counts.Active, t.Counts.Specs)
		for _, c := range t.Children {
			fmt.Printf("  %s %s %s %s\n", c.ID, c.Type, c.Restart, c.Status)
		}
	}
	// Output:
	// app: 2 of 2 children up
	//   cache worker permanent waiting
	//   mailer worker permanent waiting
}
