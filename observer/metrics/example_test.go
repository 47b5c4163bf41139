package metrics_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/observer"
	"github.com/gotp-dev/gotp/observer/metrics"
	"github.com/gotp-dev/gotp/supervisor"
)

// A node's supervision tree and mailboxes as Prometheus scrapes them: the
// handler goes where the program serves /metrics; here a request is made
// by hand and the lines of a few metrics are printed.
func Example() {
	ctx := context.Background()
	node, _ := actor.NewNode(actor.Config{Name: "shop@host"})
	defer func() { _ = node.Stop(ctx) }()
	newEcho := func() actor.GenServer { return echo{} }
	app, _ := supervisor.Start(node, supervisor.Spec{Children: []supervisor.ChildSpec{
		supervisor.Worker("cart", newEcho, actor.WithName("cart")),
		supervisor.Worker("payments", newEcho),
	}}, actor.WithName("app"))

	// A busy process: it is stuck on its first message (which counts until
	// it is handled) and five more wait behind it.
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	busy, _ := node.Spawn(actor.Func(func(*actor.Process, any) error {
		close(started)
		<-release
		return nil
	}))
	_ = node.Send(busy, "first")
	<-started
	for i := range 5 {
		_ = node.Send(busy, i)
	}

	obs, _ := observer.New(node, observer.Options{Supervisors: []actor.Dest{app}})
	h, err := metrics.Handler(obs, metrics.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	scrape := func(prefixes ...string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		sc := bufio.NewScanner(rec.Body)
		for sc.Scan() {
			for _, p := range prefixes {
				if strings.HasPrefix(sc.Text(), p) {
					fmt.Println(sc.Text())
				}
			}
		}
	}
	scrape("gotp_mailbox_messages", "gotp_supervisor_")

	// A child restarted by hand between two scrapes: the observer sees its
	// new PID; the supervisor counts only the restarts it makes itself.
	_ = supervisor.TerminateChild(ctx, node, app, "cart")
	_, _ = supervisor.RestartChild(ctx, node, app, "cart")
	scrape("gotp_supervisor_restarts")
	// Output:
	// gotp_mailbox_messages{node="shop@host"} 6
	// gotp_supervisor_children{node="shop@host",supervisor="app"} 2
	// gotp_supervisor_children_active{node="shop@host",supervisor="app"} 2
	// gotp_supervisor_restarts_observed_total{node="shop@host",supervisor="app"} 0
	// gotp_supervisor_restarts_total{node="shop@host",supervisor="app"} 0
	// gotp_supervisor_up{node="shop@host",supervisor="app"} 1
	// gotp_supervisor_restarts_observed_total{node="shop@host",supervisor="app"} 1
	// gotp_supervisor_restarts_total{node="shop@host",supervisor="app"} 0
}
