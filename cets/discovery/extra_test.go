package discovery_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets/discovery"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/supervisor"
)

// Every wait is a Config field.
func TestRetryIntervalsConfigurable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newNode(t, "a")
		log := newCallLog()
		backend := discovery.BackendFunc(func(ctx context.Context) ([]remote.NodeSpec, error) {
			if log.record() == 1 {
				return nil, errors.New("first call fails")
			}
			return nil, nil
		})
		startDisco(t, n, discovery.Config{Backend: backend, RetryAfterError: 3 * time.Second,
			RetryInitial: 7 * time.Second, InitialPhase: 20 * time.Second, RetryRegular: time.Minute})
		time.Sleep(100*time.Second + time.Millisecond)
		// 0 fails; 3 (+7) 10, 17, 24 (phase over at 20) and then every minute.
		if got, want := log.get(), secs(0, 3, 10, 17, 24, 84); !reflect.DeepEqual(got, want) {
			t.Fatalf("calls at %v, want %v", got, want)
		}
	})
}

// However often a check is asked for, one backend call runs at a time.
func TestNeverTwoGetNodesAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newNode(t, "a")
		var mu sync.Mutex
		active, maxActive, calls := 0, 0, 0
		backend := discovery.BackendFunc(func(ctx context.Context) ([]remote.NodeSpec, error) {
			mu.Lock()
			active++
			calls++
			maxActive = max(maxActive, active)
			mu.Unlock()
			time.Sleep(time.Second)
			mu.Lock()
			active--
			mu.Unlock()
			return nil, nil
		})
		d := startDisco(t, n, discovery.Config{Backend: backend})
		for range 20 {
			if err := d.Check(); err != nil {
				t.Fatal(err)
			}
			if err := d.AddTable("t"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(3 * time.Second)
		mu.Lock()
		defer mu.Unlock()
		// The first call (0-1 s), the one asked for during it (1-2 s) and
		// the one asked for during that (2-3 s); the checks of the same call
		// fold into one.
		if maxActive != 1 || calls != 3 {
			t.Fatalf("max %d at once, %d calls", maxActive, calls)
		}
	})
}

func TestWaitForReadyDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newNode(t, "a")
		backend := discovery.BackendFunc(func(ctx context.Context) ([]remote.NodeSpec, error) {
			return nil, errors.New("down")
		})
		d := startDisco(t, n, discovery.Config{Backend: backend})
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		err := d.WaitForReady(ctx)
		if !errors.Is(err, discovery.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WaitForReady = %v", err)
		}
	})
}

func TestBackendPanicIsAnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newNode(t, "a")
		backend := discovery.BackendFunc(func(ctx context.Context) ([]remote.NodeSpec, error) { panic("bug") })
		d := startDisco(t, n, discovery.Config{Backend: backend})
		synctest.Wait()
		si := sysInfo(t, d)
		if si.LastGetNodesResult.Err == "" || si.LastGetNodesRetryType != discovery.RetryAfterError {
			t.Fatalf("after a panic: %+v", si.LastGetNodesResult)
		}
	})
}

func TestChildSpecInUsersTree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newNode(t, "a")
		spec, d, err := discovery.ChildSpec("disco", n, discovery.Config{Name: "my_disco", Backend: discovery.Static("a")})
		if err != nil {
			t.Fatal(err)
		}
		sup, err := supervisor.Start(n, supervisor.Spec{Children: []supervisor.ChildSpec{spec}})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.WaitForReady(t.Context()); err != nil {
			t.Fatal(err)
		}
		pid, ok := n.WhereIs("my_disco")
		if !ok {
			t.Fatal("not registered under its name")
		}
		// Killed, it is restarted by the user's supervisor, and the handle
		// reaches the new process.
		if err := n.Exit(pid, actor.Kill); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if err := d.WaitForReady(t.Context()); err != nil {
			t.Fatal(err)
		}
		if pid2, _ := n.WhereIs("my_disco"); pid2 == pid {
			t.Fatal("not restarted")
		}
		if err := supervisor.Stop(t.Context(), n, sup); err != nil {
			t.Fatal(err)
		}
		if _, err := d.SystemInfo(t.Context()); !errors.Is(err, discovery.ErrStopped) {
			t.Fatalf("after stop: %v", err)
		}
	})
}

func TestConfigValidation(t *testing.T) {
	n := newNode(t, "a")
	for _, cfg := range []discovery.Config{
		{RetryRegular: -1},
		{Tables: []string{""}},
		{JoinTimeout: -time.Second},
	} {
		if _, err := discovery.Start(n, cfg); !errors.Is(err, discovery.ErrConfig) {
			t.Errorf("Start(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
	if _, err := discovery.Start(n, discovery.Config{Backend: &discovery.FileBackend{}}); !errors.Is(err, discovery.ErrConfig) {
		t.Errorf("backend Init error not returned: %v", err)
	}
}

// The zero Config works: no nodes, no tables, ready after the first call.
func TestZeroConfig(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newNode(t, "a")
		d := startDisco(t, n, discovery.Config{})
		if err := d.WaitForReady(t.Context()); err != nil {
			t.Fatal(err)
		}
		si := sysInfo(t, d)
		if si.BackendModule != "discovery.StaticBackend" || si.Phase != discovery.PhaseInitial || !si.VerifyReady.Ready() {
			t.Fatalf("%+v", si)
		}
	})
}
