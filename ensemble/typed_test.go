package ensemble_test

import (
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/ensemble"
)

// TestTypedModify: concurrent read-modify-write increments from three
// nodes lose none.
func TestTypedModify(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 15, 3, ensemble.Config{})
		c.form()
		c.create("e1", c.names...)
		typed := func(n string) ensemble.Typed[int] {
			return ensemble.Typed[int]{
				Client: c.svc(n).Client(),
				Encode: func(v int) ([]byte, error) { return []byte(strconv.Itoa(v)), nil },
				Decode: func(b []byte) (int, error) { return strconv.Atoi(string(b)) },
			}
		}
		var wg sync.WaitGroup
		for _, n := range c.names {
			wg.Go(func() {
				for range 10 {
					ctx, cancel := ctxT(10 * time.Second)
					_, err := typed(n).Modify(ctx, "e1", "counter", func(v int, _ bool) int { return v + 1 })
					cancel()
					if err != nil {
						t.Errorf("modify from %s: %v", n, err)
					}
				}
			})
		}
		wg.Wait()
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()
		v, found, _, err := typed("n1").Get(ctx, "e1", "counter")
		if err != nil || !found || v != 30 {
			t.Fatalf("counter %d %v %v, want 30", v, found, err)
		}
	})
}
