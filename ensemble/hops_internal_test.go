package ensemble

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// TestHopLimit: two nodes whose directories each name the other as an
// ensemble's leader bounce a request between them until the hop limit,
// and the caller gets ErrTimeout at once instead of at its deadline.
func TestHopLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(1)
		svcs := map[string]*Service{}
		for _, name := range []string{"a", "b"} {
			n, err := actor.NewNode(actor.Config{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			r, err := remote.Start(n, remote.Config{Cookie: "hops", Transport: net.Transport(name), Listen: []string{name},
				Resolve: func(_ context.Context, node string) ([]string, error) { return []string{node}, nil }})
			if err != nil {
				t.Fatal(err)
			}
			s, err := Start(n, nil, Config{})
			if err != nil {
				t.Fatal(err)
			}
			svcs[name] = s
			t.Cleanup(func() {
				r.Stop()
				_ = n.Stop(context.Background())
			})
		}
		svcs["a"].dir.publish(map[string]View{"ghost": {Ensemble: "ghost", Leader: "b", Term: 1, Members: []string{"b"}}}, nil)
		svcs["b"].dir.publish(map[string]View{"ghost": {Ensemble: "ghost", Leader: "a", Term: 1, Members: []string{"a"}}}, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		_, err := svcs["a"].Client().KGet(ctx, "ghost", "k")
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("bounced request: %v", err)
		}
		if time.Since(start) >= time.Second {
			t.Fatalf("bounced request ended after %v", time.Since(start))
		}
	})
}
