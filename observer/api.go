package observer

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/supervisor"
)

// tokenCookie keeps a browser's token after it opened a page with ?token=.
const tokenCookie = "gotp_observer_token"

// actionHeader must accompany every write request: a cross-site form or
// image cannot set it, so a page on another origin cannot act through a
// browser that can reach the observer.
const actionHeader = "X-Gotp-Observer"

// Handler returns an http.Handler serving the observer's pages and JSON API
// for node (see the package documentation for the endpoints).
func Handler(node *actor.Node, opts Options) (http.Handler, error) {
	o, err := New(node, opts)
	if err != nil {
		return nil, err
	}
	return o.Handler(), nil
}

// Handler returns the observer's http.Handler.
func (o *Observer) Handler() http.Handler {
	return o.handler(nil)
}

// handler builds the mux; done, when not nil, ends live streams (the
// server is stopping).
func (o *Observer) handler(done <-chan struct{}) http.Handler {
	h := &api{o: o, done: done}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/node", h.view(h.nodeView))
	mux.HandleFunc("GET /api/processes", h.view(h.processesView))
	mux.HandleFunc("GET /api/process/{pid}", h.view(h.processView))
	mux.HandleFunc("GET /api/process/{pid}/state", h.view(h.stateView))
	mux.HandleFunc("GET /api/supervisors", h.view(h.supervisorsView))
	mux.HandleFunc("GET /api/cluster", h.view(h.clusterView))
	mux.HandleFunc("GET /api/rafted", h.view(h.raftedView))
	mux.HandleFunc("GET /api/panels", h.view(h.panelsView))
	mux.HandleFunc("GET /api/panels/{name}", h.view(h.panelView))
	mux.HandleFunc("GET /api/events", h.events)
	mux.HandleFunc("POST /api/process/{pid}/kill", h.kill)
	mux.HandleFunc("POST /api/supervisor/{pid}/restart/{id}", h.restart)
	mux.Handle("GET /", uiHandler())
	for _, pattern := range slices.Sorted(maps.Keys(o.opts.Routes)) {
		mux.Handle(pattern, o.opts.Routes[pattern])
	}
	return h.authenticate(mux)
}

// checkRoutes registers the extra routes beside the observer's own in a
// scratch mux, so that a conflict (which makes ServeMux panic) is an error
// of Options instead.
func checkRoutes(routes map[string]http.Handler) (err error) {
	if len(routes) == 0 {
		return nil
	}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: routes: %v", ErrInvalidOptions, v)
		}
	}()
	for _, pattern := range slices.Sorted(maps.Keys(routes)) {
		if routes[pattern] == nil {
			return fmt.Errorf("%w: nil handler for route %q", ErrInvalidOptions, pattern)
		}
	}
	scratch := &Observer{opts: Options{Routes: routes}}
	scratch.handler(nil)
	return nil
}

type api struct {
	o    *Observer
	done <-chan struct{}
}

// viewFunc produces the JSON of one endpoint from a request; an error
// carries its HTTP status.
type viewFunc func(r *http.Request) (any, error)

type httpError struct {
	status int
	err    error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, err: fmt.Errorf(format, args...)}
}

func statusOf(err error) int {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.status
	case errors.Is(err, ErrActionsDisabled):
		return http.StatusForbidden
	case errors.Is(err, ErrBadPID):
		return http.StatusBadRequest
	case errors.Is(err, actor.ErrNoProc), errors.Is(err, ErrNotFound), errors.Is(err, supervisor.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, supervisor.ErrRunning), errors.Is(err, supervisor.ErrRestarting), errors.Is(err, supervisor.ErrSimpleOneForOne):
		return http.StatusConflict
	}
	return http.StatusBadGateway
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // PIDs print as <node.creation.id>; the type is JSON, never sniffed as HTML
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	writeJSON(w, statusOf(err), map[string]string{"error": err.Error()})
}

func (h *api) view(f viewFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := f(r)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

func (h *api) nodeView(*http.Request) (any, error) { return h.o.NodeInfo(), nil }

// parseProcessQuery reads sort, order, filter, status, offset and limit.
func parseProcessQuery(r *http.Request) (ProcessQuery, error) {
	v := r.URL.Query()
	q := ProcessQuery{Sort: v.Get("sort"), Filter: v.Get("filter"), Status: v.Get("status")}
	switch v.Get("order") {
	case "", "asc":
	case "desc":
		q.Desc = true
	default:
		return q, badRequest("order must be asc or desc, not %q", v.Get("order"))
	}
	var err error
	if q.Offset, err = intParam(v.Get("offset"), "offset"); err != nil {
		return q, err
	}
	if q.Limit, err = intParam(v.Get("limit"), "limit"); err != nil {
		return q, err
	}
	if err := q.validate(); err != nil {
		return q, badRequest("%v", err)
	}
	return q, nil
}

// maxLimit bounds offset and limit, so that a huge number is a 400 rather
// than an allocation.
const maxLimit = 1 << 24

func intParam(s, name string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > maxLimit {
		return 0, badRequest("%s must be an integer from 0 to %d, not %q", name, maxLimit, s)
	}
	return n, nil
}

func (h *api) processesView(r *http.Request) (any, error) {
	q, err := parseProcessQuery(r)
	if err != nil {
		return nil, err
	}
	return h.o.Processes(q)
}

func (h *api) pid(s string) (actor.PID, error) {
	pid, err := h.o.ParsePID(s)
	if err != nil {
		return pid, &httpError{status: http.StatusBadRequest, err: err}
	}
	return pid, nil
}

func (h *api) processView(r *http.Request) (any, error) {
	pid, err := h.pid(pathOrQuery(r, "pid"))
	if err != nil {
		return nil, err
	}
	return h.o.Process(r.Context(), pid)
}

func (h *api) stateView(r *http.Request) (any, error) {
	pid, err := h.pid(r.PathValue("pid"))
	if err != nil {
		return nil, err
	}
	return h.o.State(r.Context(), pid)
}

// pathOrQuery reads a path value, or the query parameter of the same name
// (the events stream takes its view's parameters in the query).
func pathOrQuery(r *http.Request, name string) string {
	if s := r.PathValue(name); s != "" {
		return s
	}
	return r.URL.Query().Get(name)
}

// parseRoots reads the root parameters: PIDs of this node, or registered
// names (of this node, or "name@node" is not accepted: a name is local).
func (h *api) parseRoots(r *http.Request) ([]actor.Dest, error) {
	var out []actor.Dest
	for _, s := range r.URL.Query()["root"] {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, badRequest("empty root")
		}
		if strings.ContainsAny(s, "<.") || isDigits(s) {
			pid, err := h.pid(s)
			if err != nil {
				return nil, err
			}
			out = append(out, pid)
			continue
		}
		out = append(out, actor.Name{Name: s})
	}
	return out, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func (h *api) supervisorsView(r *http.Request) (any, error) {
	roots, err := h.parseRoots(r)
	if err != nil {
		return nil, err
	}
	return h.o.Supervisors(r.Context(), roots...), nil
}

func (h *api) clusterView(r *http.Request) (any, error) { return h.o.Cluster(r.Context()), nil }

func (h *api) raftedView(r *http.Request) (any, error) { return h.o.Rafted(r.Context()), nil }

func (h *api) panelsView(r *http.Request) (any, error) {
	if q := r.URL.Query(); q.Has("kind") {
		return h.o.PanelsOfKind(q.Get("kind")), nil
	}
	return h.o.PanelNames(), nil
}

func (h *api) panelView(r *http.Request) (any, error) {
	return h.o.PanelData(r.Context(), pathOrQuery(r, "name"))
}

// views are what the events stream can follow, by the view parameter.
func (h *api) views() map[string]viewFunc {
	return map[string]viewFunc{
		"node":        h.nodeView,
		"processes":   h.processesView,
		"process":     h.processView,
		"supervisors": h.supervisorsView,
		"cluster":     h.clusterView,
		"rafted":      h.raftedView,
		"panel":       h.panelView,
	}
}

// events streams one view as server-sent events: an "update" event with
// the view's JSON at once and then every RefreshInterval, a "failed" event
// (with {"error": ...}) when the view fails, e.g. a process page whose
// process died. (Not "error": EventSource uses that name for its own
// connection errors.)
func (h *api) events(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("view")
	f, ok := h.views()[name]
	if !ok {
		writeError(w, badRequest("view must be one of node, processes, process, supervisors, cluster, rafted, panel, not %q", name))
		return
	}
	if _, err := f(r); err != nil && statusOf(err) == http.StatusBadRequest {
		writeError(w, err)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, errors.New("streaming unsupported"))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	ticker := time.NewTicker(h.o.opts.RefreshInterval)
	defer ticker.Stop()
	for {
		event, data := "update", []byte(nil)
		v, err := f(r)
		if err != nil {
			event, v = "failed", map[string]string{"error": err.Error()}
		}
		data, err = json.Marshal(v)
		if err != nil {
			event, data = "failed", []byte(`{"error":`+strconv.Quote(err.Error())+`}`)
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return
		}
		flusher.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		case <-ticker.C:
		}
	}
}

func (h *api) checkAction(w http.ResponseWriter, r *http.Request) bool {
	if !h.o.opts.AllowActions {
		writeError(w, ErrActionsDisabled)
		return false
	}
	if r.Header.Get(actionHeader) == "" {
		writeError(w, &httpError{status: http.StatusForbidden, err: fmt.Errorf("actions need the %s header", actionHeader)})
		return false
	}
	return true
}

func (h *api) kill(w http.ResponseWriter, r *http.Request) {
	if !h.checkAction(w, r) {
		return
	}
	pid, err := h.pid(r.PathValue("pid"))
	if err == nil {
		err = h.o.Kill(pid)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"killed": pid.String()})
}

func (h *api) restart(w http.ResponseWriter, r *http.Request) {
	if !h.checkAction(w, r) {
		return
	}
	sup, err := h.pid(r.PathValue("pid"))
	if err != nil {
		writeError(w, err)
		return
	}
	pid, err := h.o.RestartChild(r.Context(), sup, r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"restarted": r.PathValue("id"), "pid": pidString(pid)})
}

// authenticate lets a request through if it carries the token (header,
// cookie, or query, which then sets the cookie), or came over TLS with a
// verified client certificate, or, with no token configured, names a
// loopback host (so that a DNS name rebound to 127.0.0.1 cannot reach an
// unauthenticated observer from a web page).
func (h *api) authenticate(next http.Handler) http.Handler {
	token := h.o.opts.Token
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
			next.ServeHTTP(w, r)
			return
		}
		if token == "" {
			if !loopbackHost(r.Host) {
				writeError(w, &httpError{status: http.StatusForbidden, err: errors.New("an observer without a token answers loopback hosts only")})
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if q := r.URL.Query().Get("token"); q != "" && equal(q, token) {
			http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: q, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
			next.ServeHTTP(w, r)
			return
		}
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && equal(bearer, token) {
			next.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie(tokenCookie); err == nil && equal(c.Value, token) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="gotp observer"`)
		writeError(w, &httpError{status: http.StatusUnauthorized, err: errors.New("missing or wrong token")})
	})
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// loopbackHost reports whether an HTTP Host (with or without a port) is
// localhost or a loopback address.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
