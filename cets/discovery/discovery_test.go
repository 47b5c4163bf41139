package discovery_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets/discovery"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

func newNode(t *testing.T, name string) *actor.Node {
	t.Helper()
	n, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	return n
}

// The backend is called at once, then after each error 1 s later, every
// 5 s in the initial phase, and every 5 min once the initial phase (5 min)
// is over.
func TestRetryIntervalsByPhase(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newNode(t, "a")
		log := newCallLog()
		backend := discovery.BackendFunc(func(ctx context.Context) ([]remote.NodeSpec, error) {
			if log.record() <= 3 {
				return nil, errors.New("simulated error")
			}
			return []remote.NodeSpec{{Name: "a"}}, nil
		})
		d := startDisco(t, n, discovery.Config{Backend: backend})
		time.Sleep(2500 * time.Millisecond)
		si := sysInfo(t, d)
		if si.LastGetNodesRetryType != discovery.RetryAfterError || si.RetryType != discovery.RetryAfterError {
			t.Fatalf("after errors: retry types %s/%s", si.LastGetNodesRetryType, si.RetryType)
		}
		if si.Phase != discovery.PhaseInitial || si.LastGetNodesResult.OK() {
			t.Fatalf("phase %s, last %+v", si.Phase, si.LastGetNodesResult)
		}
		time.Sleep(1000*time.Second - 2500*time.Millisecond)
		got := log.get()
		want := secs(0, 1, 2, 3)
		for s := 8.0; s <= 303; s += 5 {
			want = append(want, secs(s)...)
		}
		want = append(want, secs(603, 903)...)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("backend called at\n%v\nwant\n%v", got, want)
		}
		si = sysInfo(t, d)
		if si.Phase != discovery.PhaseRegular || si.LastGetNodesRetryType != discovery.RetryRegular || si.RetryType != discovery.RetryRegular {
			t.Fatalf("regular phase: %s %s %s", si.Phase, si.LastGetNodesRetryType, si.RetryType)
		}
		if !si.TimerSet || si.TimerDue.Sub(log.start) != 1203*time.Second {
			t.Fatalf("timer %v due %v", si.TimerSet, si.TimerDue.Sub(log.start))
		}
	})
}

// Within NodeDownWindow of a node down the backend is asked again every
// 30 s; after it, every 5 min.
func TestRetryAfterNodeDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(1)
		a := startNode(t, net, "a")
		b := startNode(t, net, "b")
		log := newCallLog()
		backend := discovery.BackendFunc(func(ctx context.Context) ([]remote.NodeSpec, error) {
			log.record()
			return []remote.NodeSpec{{Name: "a"}, {Name: "b"}}, nil
		})
		d := startDisco(t, a.Node, discovery.Config{Backend: backend, Network: discovery.RemoteNetwork(a.r), InitialPhase: 10 * time.Second})
		time.Sleep(time.Second)
		if !a.r.IsConnected("b") {
			t.Fatal("discovery did not connect to b")
		}
		time.Sleep(59 * time.Second)
		si := sysInfo(t, d)
		if si.Phase != discovery.PhaseRegular || si.RetryType != discovery.RetryRegular {
			t.Fatalf("phase %s retry %s", si.Phase, si.RetryType)
		}
		calls := len(log.get())
		// b goes away: within 30 s of it the next wait is 30 s.
		b.r.Stop()
		time.Sleep(time.Second)
		si = sysInfo(t, d)
		if si.RetryType != discovery.RetryAfterNodeDown {
			t.Fatalf("after node down: retry type %s", si.RetryType)
		}
		if _, ok := si.NodeDownTimestamps["b"]; !ok || !slices.Contains(si.UnavailableNodes, "b") {
			t.Fatalf("node down not recorded: %+v", si)
		}
		if err := d.Check(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		si = sysInfo(t, d)
		if si.LastGetNodesRetryType != discovery.RetryAfterNodeDown || si.TimerDue.Sub(time.Now()) != 29*time.Second {
			t.Fatalf("retry %s due in %v", si.LastGetNodesRetryType, si.TimerDue.Sub(time.Now()))
		}
		time.Sleep(29*time.Second + 500*time.Millisecond)
		got := log.get()[calls:]
		if len(got) != 2 || got[1]-got[0] != 30*time.Second {
			t.Fatalf("calls after node down at %v", got)
		}
		// 32 s after the node down the window is over: back to 5 min.
		time.Sleep(500 * time.Millisecond)
		si = sysInfo(t, d)
		if si.LastGetNodesRetryType != discovery.RetryRegular || si.RetryType != discovery.RetryRegular {
			t.Fatalf("after the window: %s %s", si.LastGetNodesRetryType, si.RetryType)
		}
	})
}

// blockingBackend blocks each GetNodes until released.
type blockingBackend struct {
	entered chan int
	release chan struct{}
	calls   atomic.Int32
}

func newBlockingBackend() *blockingBackend {
	return &blockingBackend{entered: make(chan int, 16), release: make(chan struct{})}
}

func (b *blockingBackend) Init(discovery.BackendInfo) error { return nil }

func (b *blockingBackend) GetNodes(ctx context.Context) ([]remote.NodeSpec, error) {
	b.entered <- int(b.calls.Add(1))
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return nil, nil
}

func TestWaitForGetNodes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newNode(t, "a")
		b := newBlockingBackend()
		d := startDisco(t, n, discovery.Config{Backend: b})
		<-b.entered // the first call runs
		done := make(chan error, 1)
		go func() { done <- d.WaitForGetNodes(context.Background()) }()
		synctest.Wait()
		if si := sysInfo(t, d); si.PendingWaitForGetNodes != 1 || si.GetNodesStatus != discovery.Running {
			t.Fatalf("pending %d status %s", si.PendingWaitForGetNodes, si.GetNodesStatus)
		}
		// A check during the call sets the retry flag: the waiter waits for
		// the second call too.
		if err := d.Check(); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if si := sysInfo(t, d); !si.ShouldRetryGetNodes {
			t.Fatal("retry flag not set")
		}
		b.release <- struct{}{}
		if got := <-b.entered; got != 2 {
			t.Fatalf("call %d entered, want 2", got)
		}
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("WaitForGetNodes returned during the retried call: %v", err)
		default:
		}
		if si := sysInfo(t, d); si.ShouldRetryGetNodes || si.GetNodesStatus != discovery.Running {
			t.Fatalf("second call: retry %v status %s", si.ShouldRetryGetNodes, si.GetNodesStatus)
		}
		b.release <- struct{}{}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// With no call running it returns at once.
		if err := d.WaitForGetNodes(t.Context()); err != nil {
			t.Fatal(err)
		}
		// Never two calls at once: the third call came only from the timer.
		time.Sleep(5 * time.Second)
		if got := <-b.entered; got != 3 {
			t.Fatalf("call %d, want 3", got)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		err := d.WaitForGetNodes(ctx)
		if !errors.Is(err, discovery.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WaitForGetNodes past its deadline = %v", err)
		}
		b.release <- struct{}{}
	})
}

func TestTableList(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newNode(t, "a")
		log := newCallLog()
		backend := discovery.BackendFunc(func(ctx context.Context) ([]remote.NodeSpec, error) {
			log.record()
			return nil, nil
		})
		d := startDisco(t, n, discovery.Config{Backend: backend, Tables: []string{"t2"}})
		synctest.Wait()
		for _, op := range []struct {
			add, del string
			want     []string
		}{
			{add: "t1", want: []string{"t1", "t2"}},
			{add: "t1", want: []string{"t1", "t2"}}, // twice
			{del: "t2", want: []string{"t1"}},
			{del: "t2", want: []string{"t1"}},      // twice
			{del: "unknown", want: []string{"t1"}}, // unknown
		} {
			var err error
			if op.add != "" {
				err = d.AddTable(op.add)
			} else {
				err = d.DeleteTable(op.del)
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.Tables(t.Context())
			if err != nil || !reflect.DeepEqual(got, op.want) {
				t.Fatalf("after %+v: tables %v, %v", op, got, err)
			}
		}
		synctest.Wait()
		// Adding a new table asks the backend at once; adding it again does not.
		if got := log.get(); !reflect.DeepEqual(got, secs(0, 0)) {
			t.Fatalf("backend calls %v", got)
		}
		if err := d.AddTable(""); !errors.Is(err, discovery.ErrConfig) {
			t.Fatalf("empty table: %v", err)
		}
	})
}

// Every table is joined with every connected node found, one join at a time,
// and wait-for-ready returns once each pair has a result (a node that does
// not answer is unavailable, not waited for).
func TestJoinsOneAtATimeAndWaitForReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(1)
		a := startNode(t, net, "a")
		b := startNode(t, net, "b")
		c := startNode(t, net, "c")
		for _, n := range []*tnode{a, b, c} {
			spawnTable(t, n, "t1")
			spawnTable(t, n, "t2")
		}
		j := &fakeJoiner{joinTime: 100 * time.Millisecond, fail: map[string]error{"t2:c": errors.New("refused")}}
		d := startDisco(t, a.Node, discovery.Config{
			Backend: discovery.Static("a", "b", "c", "bad"), Tables: []string{"t1", "t2"},
			Joiner: j, Network: discovery.RemoteNetwork(a.r),
		})
		start := time.Now()
		if err := d.WaitForReady(t.Context()); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("ready after %v", time.Since(start))
		}
		si := sysInfo(t, d)
		if !si.VerifyReady.Ready() || !reflect.DeepEqual(si.UnavailableNodes, []string{"bad"}) {
			t.Fatalf("readiness %+v, unavailable %v", si.VerifyReady, si.UnavailableNodes)
		}
		joins, maxActive := j.get()
		if maxActive != 1 {
			t.Fatalf("%d joins ran at once", maxActive)
		}
		for _, want := range []string{"t1:b", "t2:b", "t1:c", "t2:c"} {
			if !slices.Contains(joins, want) {
				t.Fatalf("joins %v lack %s", joins, want)
			}
		}
		byPair := map[string]discovery.JoinResult{}
		for _, r := range si.Results {
			byPair[r.Table+":"+r.Node] = r
		}
		if r := byPair["t2:c"]; r.What != discovery.WhatJoinResult || r.Err != "refused" {
			t.Fatalf("t2:c result %+v", r)
		}
		if r := byPair["t1:b"]; r.What != discovery.WhatJoinResult || r.Err != "" {
			t.Fatalf("t1:b result %+v", r)
		}
		if !reflect.DeepEqual(si.ConnectedNodes, []string{"b", "c"}) {
			t.Fatalf("connected %v", si.ConnectedNodes)
		}
		for _, n := range []string{"b", "c"} {
			if _, ok := si.NodeUpTimestamps[n]; !ok {
				t.Fatalf("no node-up timestamp for %s", n)
			}
		}
	})
}

// A table running on one side only is reported as pid_not_found.
func TestJoinTableMissingOnRemote(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(1)
		a := startNode(t, net, "a")
		startNode(t, net, "b")
		spawnTable(t, a, "t1")
		d := startDisco(t, a.Node, discovery.Config{
			Backend: discovery.Static("a", "b"), Tables: []string{"t1"},
			Joiner: &fakeJoiner{}, Network: discovery.RemoteNetwork(a.r),
		})
		if err := d.WaitForReady(t.Context()); err != nil {
			t.Fatal(err)
		}
		si := sysInfo(t, d)
		if len(si.Results) != 1 || si.Results[0].What != discovery.WhatPIDNotFound || si.Results[0].Node != "b" {
			t.Fatalf("results %+v", si.Results)
		}
	})
}

// WaitForReady does not return while the backend fails, and returns once a
// file appears.
func TestFileAppearsLater(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(1)
		a := startNode(t, net, "a")
		b := startNode(t, net, "b")
		spawnTable(t, a, "t1")
		spawnTable(t, b, "t1")
		path := t.TempDir() + "/nodes.txt"
		j := &fakeJoiner{}
		d := startDisco(t, a.Node, discovery.Config{
			Backend: &discovery.FileBackend{Path: path}, Tables: []string{"t1"},
			Joiner: j, Network: discovery.RemoteNetwork(a.r),
		})
		ready := make(chan error, 1)
		go func() { ready <- d.WaitForReady(context.Background()) }()
		time.Sleep(3500 * time.Millisecond)
		select {
		case err := <-ready:
			t.Fatalf("ready without a file: %v", err)
		default:
		}
		si := sysInfo(t, d)
		if si.LastGetNodesRetryType != discovery.RetryAfterError || si.VerifyReady.BadLastGetNodesResult == "" || si.PendingWaitForReady != 1 {
			t.Fatalf("without file: %+v", si)
		}
		if err := writeFile(path, "a\nb\n"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if err := <-ready; err != nil {
			t.Fatal(err)
		}
		// Joined on b's node-up and again after the backend call, as CETS
		// does; a join of tables already joined is cheap.
		joins, _ := j.get()
		if len(joins) == 0 || slices.ContainsFunc(joins, func(s string) bool { return s != "t1:b" }) {
			t.Fatalf("joins %v", joins)
		}
	})
}

// A node up makes discovery ask the backend and join again.
func TestNodeUpTriggersCheckAndJoin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(1)
		a := startNode(t, net, "a")
		b := startNode(t, net, "b")
		spawnTable(t, a, "t1")
		spawnTable(t, b, "t1")
		log := newCallLog()
		backend := discovery.BackendFunc(func(ctx context.Context) ([]remote.NodeSpec, error) {
			log.record()
			return []remote.NodeSpec{{Name: "a"}, {Name: "b"}}, nil
		})
		j := &fakeJoiner{}
		// b is not listed by a's backend at first: the file-like list is a, b
		// but b refuses connections until healed.
		net.Partition([]string{"a"}, []string{"b"})
		d := startDisco(t, a.Node, discovery.Config{Backend: backend, Tables: []string{"t1"}, Joiner: j,
			Network: discovery.RemoteNetwork(a.r), InitialPhase: time.Second})
		if err := d.WaitForReady(t.Context()); err != nil {
			t.Fatal(err)
		}
		if si := sysInfo(t, d); !reflect.DeepEqual(si.UnavailableNodes, []string{"b"}) {
			t.Fatalf("unavailable %v", si.UnavailableNodes)
		}
		net.Heal()
		calls := len(log.get())
		// b dials a (as after a restart): the node-up checks and joins.
		if err := b.r.Connect(t.Context(), a.r.Spec()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		time.Sleep(10 * time.Millisecond)
		if got := len(log.get()); got != calls+1 {
			t.Fatalf("backend calls after node up: %d, want %d", got, calls+1)
		}
		if joins, _ := j.get(); !slices.Contains(joins, "t1:b") {
			t.Fatalf("no join after node up: %v", joins)
		}
		si := sysInfo(t, d)
		if len(si.UnavailableNodes) != 0 {
			t.Fatalf("unavailable after node up: %v", si.UnavailableNodes)
		}
	})
}
