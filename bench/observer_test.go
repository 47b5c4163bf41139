package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/observer"
)

// Observer: the cost of one read of the process table through the JSON
// API, on a node of idle processes, as a page refresh makes it. One op is
// one GET /api/processes?sort=mailbox&order=desc&limit=100 (every process
// is read, sorted, and the top 100 encoded). The baseline is
// node_processes_info: Node.Processes and Node.Info for each, which the
// table cannot do with less.
func BenchmarkObserver(b *testing.B) {
	for _, procs := range []int{1000, 10000} {
		node, err := actor.NewNode(actor.Config{Name: "bench@observer"})
		if err != nil {
			b.Fatal(err)
		}
		for range procs {
			if _, err := node.Spawn(actor.Func(func(*actor.Process, any) error { return nil })); err != nil {
				b.Fatal(err)
			}
		}
		h, err := observer.Handler(node, observer.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run("process_table/"+strconv.Itoa(procs), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "http://localhost/api/processes?sort=mailbox&order=desc&limit=100", nil)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
			b.ReportMetric(float64(procs)*float64(b.N)/b.Elapsed().Seconds(), "procs/s")
		})
		b.Run("node_processes_info/"+strconv.Itoa(procs), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, pid := range node.Processes() {
					if _, err := node.Info(pid); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(procs)*float64(b.N)/b.Elapsed().Seconds(), "procs/s")
		})
		_ = node.Stop(context.Background())
	}
}
