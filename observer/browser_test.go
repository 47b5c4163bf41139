package observer_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/ensemble"
	"github.com/gotp-dev/gotp/observer"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/plumtree"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// browser starts headless Chromium for the test, or skips it with the
// reason when there is none or it cannot start.
func browser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("no Chromium found (install Debian's chromium package to run the browser test)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Skipf("Chromium at %s cannot start: %v", path, err)
	}
	return ctx
}

// screenshots returns the directory screenshots go to:
// $GOTP_OBSERVER_SCREENSHOTS, or a temporary directory of the test.
func screenshots(t *testing.T) string {
	dir := os.Getenv("GOTP_OBSERVER_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func shoot(t *testing.T, dir, name string) chromedp.Action[chromedp.Void] {
	return save(t, dir, name, chromedp.CaptureScreenshot())
}

// shootFull saves the whole page, beyond the window, for a long page.
func shootFull(t *testing.T, dir, name string) chromedp.Action[chromedp.Void] {
	return save(t, dir, name, chromedp.FullScreenshot(100))
}

func save(t *testing.T, dir, name string, capture chromedp.Action[[]byte]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		png, err := capture(ctx, tg)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, name+".png")
		t.Logf("screenshot %s", path)
		return os.WriteFile(path, png, 0o644)
	})
}

// browse runs browser actions, failing the test with the step that failed.
func browse(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// read runs one browser action that returns a value.
func read[T any](t *testing.T, ctx context.Context, step string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	return v
}

// textOf reads an element's text in one step in the page (a live page may
// replace the element between a query and a read).
func textOf(sel string) chromedp.Action[string] {
	return chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).textContent`, sel))
}

// until waits in the page for a JavaScript condition.
func until(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))(ctx, tg)
		return err
	})
}

// TestBrowser loads every page in headless Chromium against a live node
// and cluster: the process table follows spawns and exits, a row leads to
// its process page, and a supervision tree is redrawn after a crash and
// after a restart from its button.
func TestBrowser(t *testing.T) {
	ctx := browser(t)
	dir := screenshots(t)

	net := transport.NewNetwork(1)
	names := []string{"web", "peer", "third"}
	members := make([]*actor.Node, 0, len(names))
	var services []*peerservice.Service
	for _, name := range names {
		n, err := actor.NewNode(actor.Config{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := peerservice.StartNode(n, remote.Config{Cookie: "c", Transport: net.Transport(name), Listen: []string{name}},
			peerservice.Config{HeartbeatInterval: 100 * time.Millisecond, GossipInterval: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, n)
		services = append(services, svc)
		t.Cleanup(func() {
			_ = svc.Stop(context.Background())
			_ = n.Stop(context.Background())
		})
	}
	for _, svc := range services[1:] {
		if err := svc.SyncJoin(context.Background(), services[0].Myself()); err != nil {
			t.Fatal(err)
		}
	}
	trees, ens := startBroadcastAndEnsembles(t, members, services)
	n := members[0]
	tr := startTree(t, n)
	thirdTree := observer.PlumtreePanel(trees[0], "third")
	thirdTree.Name = "plumtree third"
	srv, err := observer.Start(n, "", observer.Options{
		Remote: services[0].Remote(), Peers: services[0],
		Supervisors:  []actor.Dest{actor.Name{Name: "top"}},
		AllowActions: true, RefreshInterval: 100 * time.Millisecond,
		Panels: []observer.Panel{
			{Name: "demo", Data: func(context.Context) (any, error) { return map[string]string{"panel": "works"}, nil }},
			observer.PlumtreePanel(trees[0], "web"), thirdTree, observer.EnsemblePanel(ens[0]),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	base := srv.URL()

	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	// Node page.
	browse(t, ctx, "node page",
		chromedp.Navigate(base+"#/node"),
		chromedp.WaitVisible(css(`#peer-table td`)),
		shoot(t, dir, "node"))
	if shown := read(t, ctx, "node name", textOf(`[data-card="name"]`)); shown != "web" {
		t.Errorf("node page shows name %q", shown)
	}

	// Processes page: a spawn appears, an exit disappears.
	browse(t, ctx, "process table",
		chromedp.Navigate(base+"#/processes"),
		chromedp.WaitVisible(css(`#proc-body tr[data-name="w1"]`)))
	newcomer := spawnIdle(t, n, actor.WithName("newcomer"))
	browse(t, ctx, "a spawned process appears",
		chromedp.WaitVisible(css(`#proc-body tr[data-name="newcomer"]`)),
		shoot(t, dir, "processes"))
	if err := n.Exit(newcomer, actor.Kill); err != nil {
		t.Fatal(err)
	}
	browse(t, ctx, "a killed process disappears",
		chromedp.WaitNotPresent(css(`#proc-body tr[data-name="newcomer"]`)))
	browse(t, ctx, "sort by mailbox",
		chromedp.Click(css(`th[data-sort="mailbox"]`)),
		chromedp.WaitVisible(css(`th.sorted.desc[data-sort="mailbox"]`)))
	browse(t, ctx, "filter",
		chromedp.SendKeys(css(`#proc-filter`), "pool"),
		chromedp.WaitNotPresent(css(`#proc-body tr[data-name="w1"]`)),
		chromedp.WaitVisible(css(`#proc-body tr[data-name="pool"]`)))

	// Click into a process.
	browse(t, ctx, "click into a process",
		chromedp.Click(css(`#proc-body tr[data-name="pool"] td:nth-child(2)`)),
		chromedp.WaitVisible(css(`#links-list`)),
		chromedp.WaitVisible(css(`#mailbox-chart polyline`)),
		shoot(t, dir, "process"))
	name := read(t, ctx, "process name", textOf(`[data-card="name"]`))
	hash := read(t, ctx, "location", chromedp.Evaluate[string](`location.hash`))
	if name != "pool" || !strings.Contains(hash, "process/") {
		t.Errorf("process page shows %q at %s", name, hash)
	}
	if links := read(t, ctx, "links", textOf(`#links-list`)); !strings.Contains(links, tr.top.String()) {
		t.Errorf("pool's links %q do not name its supervisor %s", links, tr.top)
	}

	// An inspectable process shows its state on request.
	cachePID, err := n.Spawn(observer.Inspectable("cache", &cache{}), actor.WithName("cache"))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Cast(cachePID, "hits"); err != nil {
		t.Fatal(err)
	}
	browse(t, ctx, "process state",
		chromedp.Navigate(base+"#/process/"+strings.Trim(cachePID.String(), "<>")),
		chromedp.WaitVisible(css(`#show-state`)),
		chromedp.Click(css(`#show-state`)),
		until(`document.getElementById('state-data').textContent.includes('"hits": 1')`),
		shoot(t, dir, "process-state"))
	if b := read(t, ctx, "behaviour card", textOf(`[data-card="behaviour"]`)); b != "cache" {
		t.Errorf("behaviour card %q", b)
	}

	// Applications: the tree is redrawn after a crash and after a restart.
	pidOf := func(id string) string {
		return fmt.Sprintf(`document.querySelector('svg.tree a[data-id="%s"]').dataset.pid`, id)
	}
	browse(t, ctx, "supervision tree",
		chromedp.Navigate(base+"#/apps"),
		chromedp.WaitVisible(css(`svg.tree a[data-id="w1"]`)),
		chromedp.WaitVisible(css(`svg.tree a[data-id="p2"]`)))
	before := read(t, ctx, "w1's pid", chromedp.Evaluate[string](pidOf("w1")))
	if err := n.Exit(actor.Name{Name: "w1"}, actor.Kill); err != nil {
		t.Fatal(err)
	}
	browse(t, ctx, "the tree redraws after a crash",
		until(fmt.Sprintf(`%s !== %q`, pidOf("w1"), before)),
		shoot(t, dir, "applications"))
	w2 := read(t, ctx, "w2's pid", chromedp.Evaluate[string](pidOf("w2")))
	browse(t, ctx, "restart button",
		chromedp.Click(css(`button[data-restart="w2"]`)),
		until(fmt.Sprintf(`%s !== %q`, pidOf("w2"), w2)))

	// Cluster page: the members, the peers up, the edges from this node;
	// the ensemble with its leader and its followers caught up; the
	// broadcast tree of root web.
	browse(t, ctx, "cluster graph",
		chromedp.Navigate(base+"#/cluster"),
		chromedp.WaitVisible(css(`[data-member="peer"][data-verdict="up"]`)),
		chromedp.WaitVisible(css(`[data-member="third"][data-verdict="up"]`)),
		chromedp.WaitVisible(css(`[data-member="web"][data-verdict="self"]`)),
		chromedp.WaitVisible(css(`line[data-edge="web-peer"]`)),
		chromedp.WaitVisible(css(`line[data-edge="web-third"]`)))
	browse(t, ctx, "ensemble table",
		until(`!!(document.querySelector('#ensemble-table tr[data-ensemble="users"]') || {dataset: {}}).dataset.leader`),
		until(`/: 0 .*: 0$/.test(document.querySelector('#ensemble-table tr[data-ensemble="users"] td:nth-child(7)').textContent)`))
	leader := read(t, ctx, "ensemble leader", chromedp.Evaluate[string](`document.querySelector('#ensemble-table tr[data-ensemble="users"]').dataset.leader`))
	if shown := read(t, ctx, "leader cell", textOf(`#ensemble-table tr[data-ensemble="users"] td.leader`)); !slices.Contains(names, leader) || shown != leader {
		t.Errorf("ensemble row: leader %q, shown %q", leader, shown)
	}
	if got, ok := ens[0].GetLeader("users"); !ok || got != leader {
		t.Errorf("the ensemble row shows leader %q, the service knows %q", leader, got)
	}
	treeEdges := `[...document.querySelectorAll('#plumtree-svg [data-edge]')].map(l => l.dataset.edge + ':' + l.dataset.kind).sort().join(' ')`
	browse(t, ctx, "broadcast tree",
		until(`!!document.querySelector('#plumtree-svg[data-root="web"]') && document.querySelectorAll('#plumtree-svg [data-edge]').length === 3`),
		shootFull(t, dir, "cluster"))
	if got, want := read(t, ctx, "tree edges", chromedp.Evaluate[string](treeEdges)), "peer-third:eager peer-web:eager third-web:lazy"; got != want {
		t.Errorf("tree edges %q, want %q", got, want)
	}
	// The other root's tree, picked from the selector; then a member's
	// broadcast server stops and the tree marks it down.
	browse(t, ctx, "another root",
		chromedp.Evaluate[chromedp.Void](`(s => { s.value = 'plumtree third'; s.dispatchEvent(new Event('change')); })(document.getElementById('plumtree-root'))`),
		until(`!!document.querySelector('#plumtree-svg[data-root="third"]')`))
	if err := trees[1].Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	browse(t, ctx, "a member down",
		until(`!!document.querySelector('#plumtree-svg [data-tree-node="peer"][data-down="true"]')`),
		shootFull(t, dir, "cluster-tree-down"))

	// Panels.
	browse(t, ctx, "panels",
		chromedp.Navigate(base+"#/panels"),
		until(`!!document.getElementById('panel-data') && document.getElementById('panel-data').textContent.includes('works')`),
		shoot(t, dir, "panels"))
}

// startBroadcastAndEnsembles starts a broadcast server on each member, with
// fixed peers so that the tree of root web is web -eager- peer -eager-
// third and web -lazy- third, and an ensemble service on each, with the
// ensemble users on all of them.
func startBroadcastAndEnsembles(t *testing.T, members []*actor.Node, services []*peerservice.Service) ([]*plumtree.Server, []*ensemble.Service) {
	t.Helper()
	names := make([]string, len(members))
	for i, m := range members {
		names[i] = m.Name()
	}
	peers := map[string][2][]string{ // eagers, lazys
		"web":   {{"peer"}, {"third"}},
		"peer":  {{"web", "third"}, {}},
		"third": {{"peer"}, {"web"}},
	}
	var trees []*plumtree.Server
	var svcs []*ensemble.Service
	for i, m := range members {
		p := peers[m.Name()]
		tr, err := plumtree.Start(m, services[i], plumtree.Config{Members: names, Eagers: p[0], Lazys: p[1], NoMembershipUpdates: true})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := ensemble.Start(m, services[i], ensemble.Config{Tick: 50 * time.Millisecond, Lease: 150 * time.Millisecond, FollowerTimeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		trees, svcs = append(trees, tr), append(svcs, svc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := svcs[0].Enable(ctx); err != nil {
		t.Fatal(err)
	}
	for _, svc := range svcs[1:] {
		if err := svc.Join(ctx, names[0]); err != nil {
			t.Fatal(err)
		}
	}
	if err := svcs[0].CreateEnsemble(ctx, "users", names, ensemble.MemoryBackend); err != nil {
		t.Fatal(err)
	}
	return trees, svcs
}
