package observer_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/observer"
	"github.com/gotp-dev/gotp/supervisor"
)

func TestToken(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		h := newHandler(t, n, observer.Options{Token: "s3cret"})
		cases := []struct {
			name   string
			target string
			header []string
			want   int
		}{
			{"none", "/api/node", nil, http.StatusUnauthorized},
			{"wrong bearer", "/api/node", []string{"Authorization", "Bearer nope"}, http.StatusUnauthorized},
			{"bearer", "/api/node", []string{"Authorization", "Bearer s3cret"}, http.StatusOK},
			{"wrong query", "/api/node?token=nope", nil, http.StatusUnauthorized},
			{"query", "/api/node?token=s3cret", nil, http.StatusOK},
			{"cookie", "/api/node", []string{"Cookie", "gotp_observer_token=s3cret"}, http.StatusOK},
			{"wrong cookie", "/api/node", []string{"Cookie", "gotp_observer_token=x"}, http.StatusUnauthorized},
			{"page without token", "/", nil, http.StatusUnauthorized},
		}
		for _, c := range cases {
			rec := do(h, http.MethodGet, c.target, c.header...)
			if rec.Code != c.want {
				t.Errorf("%s: %d, want %d", c.name, rec.Code, c.want)
			}
		}
		rec := do(h, http.MethodGet, "/?token=s3cret")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Set-Cookie"), "gotp_observer_token=s3cret") || !strings.Contains(rec.Header().Get("Set-Cookie"), "HttpOnly") {
			t.Errorf("a page opened with the token: %d, cookie %q", rec.Code, rec.Header().Get("Set-Cookie"))
		}
	})
}

// Without a token the handler answers loopback hosts only, so a web page
// whose DNS name was rebound to 127.0.0.1 cannot read or act through it.
func TestNoTokenAnswersLoopbackOnly(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		h := newHandler(t, n, observer.Options{})
		for host, want := range map[string]int{"127.0.0.1:80": 200, "localhost:4000": 200, "[::1]:1": 200, "evil.example:4000": 403, "10.0.0.1": 403} {
			req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/api/node", nil)
			rec := httptestRecorder(h, req)
			if rec != want {
				t.Errorf("host %s: %d, want %d", host, rec, want)
			}
		}
	})
}

func httptestRecorder(h http.Handler, req *http.Request) int {
	rw := &statusWriter{header: http.Header{}}
	h.ServeHTTP(rw, req)
	return rw.status
}

type statusWriter struct {
	header http.Header
	status int
}

func (w *statusWriter) Header() http.Header { return w.header }
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(b), nil
}
func (w *statusWriter) WriteHeader(s int) { w.status = s }

func TestStartRefusesInsecureBind(t *testing.T) {
	n, err := actor.NewNode(actor.Config{Name: "bind@test"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = n.Stop(context.Background()) }()
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:80", "example.com:80"} {
		if _, err := observer.Start(n, addr, observer.Options{}); !errors.Is(err, observer.ErrInsecureBind) {
			t.Errorf("Start on %s without a token: %v, want ErrInsecureBind", addr, err)
		}
		if _, _, err := observer.ChildSpec("obs", n, addr, observer.Options{}); !errors.Is(err, observer.ErrInsecureBind) {
			t.Errorf("ChildSpec on %s without a token: %v, want ErrInsecureBind", addr, err)
		}
	}
	// A token or mutual TLS makes any address acceptable (checked, not
	// bound: ChildSpec does not listen).
	if _, _, err := observer.ChildSpec("obs", n, "0.0.0.0:0", observer.Options{Token: "t"}); err != nil {
		t.Errorf("with a token: %v", err)
	}
	mtls := &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert}
	if _, _, err := observer.ChildSpec("obs", n, "0.0.0.0:0", observer.Options{TLS: mtls}); err != nil {
		t.Errorf("with mutual TLS: %v", err)
	}
	weak := &tls.Config{ClientAuth: tls.RequestClientCert}
	if _, _, err := observer.ChildSpec("obs", n, "0.0.0.0:0", observer.Options{TLS: weak}); !errors.Is(err, observer.ErrInsecureBind) {
		t.Errorf("with TLS that does not verify clients: %v", err)
	}
	if _, err := observer.Start(n, "no-port", observer.Options{}); !errors.Is(err, observer.ErrInvalidOptions) {
		t.Errorf("a malformed address: %v", err)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestStartServesAndStops(t *testing.T) {
	n, err := actor.NewNode(actor.Config{Name: "start@test"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = n.Stop(context.Background()) }()
	s, err := observer.Start(n, "", observer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("default address %q", s.Addr())
	}
	if code, body := get(t, s.URL()+"api/node"); code != 200 || !strings.Contains(body, `"name": "start@test"`) {
		t.Errorf("node over TCP: %d %s", code, body)
	}
	if _, err := n.Info(s.PID()); err != nil {
		t.Errorf("the server's process: %v", err)
	}
	url := s.URL()
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(url + "api/node"); err == nil {
		t.Error("the server still answers after Stop")
	}
	if s.Addr() != "" {
		t.Errorf("a stopped server has address %q", s.Addr())
	}
}

// Under a supervisor the observer is a worker: killed, it is restarted and
// serves again, and the handle follows it.
func TestChildSpecRestart(t *testing.T) {
	n, err := actor.NewNode(actor.Config{Name: "child@test"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = n.Stop(context.Background()) }()
	spec, s, err := observer.ChildSpec("observer", n, "", observer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sup, err := supervisor.Start(n, supervisor.Spec{Children: []supervisor.ChildSpec{spec}})
	if err != nil {
		t.Fatal(err)
	}
	first := s.PID()
	if code, _ := get(t, s.URL()+"api/node"); code != 200 {
		t.Fatalf("first life: %d", code)
	}
	if err := n.Exit(first, actor.Kill); err != nil {
		t.Fatal(err)
	}
	children, err := supervisor.WhichChildren(context.Background(), n, sup)
	if err != nil || len(children) != 1 || children[0].PID == first || children[0].PID != s.PID() {
		t.Fatalf("after the kill: %+v (%v), handle says %s", children, err, s.PID())
	}
	if code, _ := get(t, s.URL()+"api/node"); code != 200 {
		t.Errorf("second life: %d", code)
	}
	if err := supervisor.Stop(context.Background(), n, sup); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != "" {
		t.Errorf("stopped with its supervisor, the server has address %q", s.Addr())
	}
}
