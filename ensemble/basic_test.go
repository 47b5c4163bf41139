package ensemble_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/ensemble"
)

func TestBasicKV(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 1, 3, ensemble.Config{})
		c.form()
		c.create("e1", "n1", "n2", "n3")
		cl := c.svc("n1").Client()
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()

		got, err := cl.KGet(ctx, "e1", "k")
		if err != nil || !got.NotFound || got.Version() != (ensemble.Version{}) {
			t.Fatalf("kget of a missing key: %+v, %v", got, err)
		}
		o1, err := cl.KOver(ctx, "e1", "k", []byte("v1"))
		if err != nil || string(o1.Value) != "v1" || o1.Epoch == 0 || o1.Seq == 0 {
			t.Fatalf("kover: %+v, %v", o1, err)
		}
		got, err = cl.KGet(ctx, "e1", "k")
		if err != nil || string(got.Value) != "v1" || got.Version() != o1.Version() {
			t.Fatalf("kget: %+v, %v", got, err)
		}
		if _, err := cl.KPutOnce(ctx, "e1", "k", []byte("x")); !errors.Is(err, ensemble.ErrFailed) {
			t.Fatalf("kput_once of a set key: %v", err)
		}
		o2, err := cl.KUpdate(ctx, "e1", "k", got, []byte("v2"))
		if err != nil || string(o2.Value) != "v2" || !o1.Version().Less(o2.Version()) {
			t.Fatalf("kupdate: %+v, %v", o2, err)
		}
		if _, err := cl.KUpdate(ctx, "e1", "k", got, []byte("v3")); !errors.Is(err, ensemble.ErrFailed) {
			t.Fatalf("kupdate with a stale object: %v", err)
		}
		if _, err := cl.KSafeDelete(ctx, "e1", "k", o1); !errors.Is(err, ensemble.ErrFailed) {
			t.Fatalf("ksafe_delete with a stale object: %v", err)
		}
		d, err := cl.KSafeDelete(ctx, "e1", "k", o2)
		if err != nil || !d.NotFound {
			t.Fatalf("ksafe_delete: %+v, %v", d, err)
		}
		// read_tombstone: a deleted key reads as notfound with the
		// delete's version, and put_once may set it again.
		got, err = cl.KGet(ctx, "e1", "k")
		if err != nil || !got.NotFound || got.Version() != d.Version() {
			t.Fatalf("kget of a tombstone: %+v, %v", got, err)
		}
		if _, err := cl.KPutOnce(ctx, "e1", "k", []byte("again")); err != nil {
			t.Fatalf("kput_once on a tombstone: %v", err)
		}
		if _, err := cl.KDelete(ctx, "e1", "k"); err != nil {
			t.Fatal(err)
		}
		if got, err := cl.KGet(ctx, "e1", "k", ensemble.ReadRepair()); err != nil || !got.NotFound {
			t.Fatalf("kget with read repair: %+v, %v", got, err)
		}
		// Every node answers, leader or not.
		for _, n := range []string{"n2", "n3"} {
			if _, err := c.svc(n).Client().KOver(ctx, "e1", "from-"+n, []byte(n)); err != nil {
				t.Fatalf("kover from %s: %v", n, err)
			}
			if got, err := c.svc(n).Client().KGet(ctx, "e1", "from-"+n); err != nil || string(got.Value) != n {
				t.Fatalf("kget from %s: %+v, %v", n, got, err)
			}
		}
	})
}

// TestFileBackendEnsemble: an ensemble whose peers keep their objects in
// files under each node's DataDir.
func TestFileBackendEnsemble(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 14, 3, ensemble.Config{DataDir: dir})
		c.form()
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()
		if err := c.svc("n1").CreateEnsemble(ctx, "durable", c.names, ensemble.FileBackend); err != nil {
			t.Fatal(err)
		}
		c.waitLeader("durable", c.names)
		ctx, cancel = ctxT(5 * time.Second) // waitLeader waited in fake time
		defer cancel()
		if _, err := c.svc("n2").Client().KOver(ctx, "durable", "k", []byte("on disk")); err != nil {
			t.Fatal(err)
		}
		if got, err := c.svc("n3").Client().KGet(ctx, "durable", "k"); err != nil || string(got.Value) != "on disk" {
			t.Fatalf("kget: %+v, %v", got, err)
		}
	})
	for _, n := range []string{"n1", "n2", "n3"} {
		if _, err := os.Stat(filepath.Join(dir, n, "durable", "objects.log")); err != nil {
			t.Fatalf("no backend file on %s: %v", n, err)
		}
	}
}
