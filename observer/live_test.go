package observer_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/observer"
)

// streamWriter is a ResponseWriter whose body is read as it is written.
type streamWriter struct {
	header http.Header
	status int
	w      *io.PipeWriter
}

func (s *streamWriter) Header() http.Header         { return s.header }
func (s *streamWriter) WriteHeader(code int)        { s.status = code }
func (s *streamWriter) Write(b []byte) (int, error) { return s.w.Write(b) }
func (s *streamWriter) Flush()                      {}

// stream opens the events stream at target and returns a function that
// reads the next event (its name and data).
func stream(t *testing.T, h http.Handler, target string) func() (string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1"+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	sw := &streamWriter{header: http.Header{}, w: pw}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(sw, req)
		_ = pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		_ = pr.Close()
		<-done
	})
	r := bufio.NewReader(pr)
	return func() (string, string) {
		t.Helper()
		var event, data string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("stream %s: %v", target, err)
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "" && event != "":
				return event, data
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data += strings.TrimPrefix(line, "data: ")
			}
		}
	}
}

// The process table streams: a new snapshot every RefreshInterval, in
// which processes that spawned appear and those that died are gone.
func TestEventsFollowProcesses(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		h := newHandler(t, n, observer.Options{RefreshInterval: 500 * time.Millisecond})
		next := stream(t, h, "/api/events?view=processes&sort=id")
		table := func() observer.ProcessTable {
			t.Helper()
			event, data := next()
			if event != "update" {
				t.Fatalf("event %q: %s", event, data)
			}
			var tab observer.ProcessTable
			if err := json.Unmarshal([]byte(data), &tab); err != nil {
				t.Fatal(err)
			}
			return tab
		}
		start := time.Now()
		if got := table(); got.Total != 0 {
			t.Fatalf("first snapshot %+v", got)
		}
		pid := spawnIdle(t, n, actor.WithName("newcomer"))
		got := table()
		if got.Total != 1 || got.Processes[0].Name != "newcomer" {
			t.Fatalf("after a spawn: %+v", got)
		}
		if d := time.Since(start); d != 500*time.Millisecond {
			t.Errorf("second snapshot after %v, want the refresh interval", d)
		}
		if err := n.Exit(pid, actor.Kill); err != nil {
			t.Fatal(err)
		}
		if got := table(); got.Total != 0 {
			t.Fatalf("after a kill: %+v", got)
		}
	})
}

// A process page's stream reports the process's mailbox, then an error
// event once it is gone.
func TestEventsFollowOneProcess(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		h := newHandler(t, n, observer.Options{RefreshInterval: time.Second})
		pid := busy(t, n, 3)
		next := stream(t, h, "/api/events?view=process&pid="+strings.Trim(pid.String(), "<>"))
		event, data := next()
		var d observer.ProcessDetail
		if err := json.Unmarshal([]byte(data), &d); err != nil || event != "update" || d.MailboxLen < 3 {
			t.Fatalf("first event %s %s (%v)", event, data, err)
		}
		if err := n.Exit(pid, actor.Kill); err != nil {
			t.Fatal(err)
		}
		if event, data := next(); event != "failed" || !strings.Contains(data, "noproc") {
			t.Errorf("after the kill: %s %s", event, data)
		}
	})
}
