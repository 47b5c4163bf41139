package observer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/rafted"
	"github.com/gotp-dev/gotp/remote"
)

// Errors of the observer. Compare with errors.Is.
var (
	// ErrInsecureBind: Start was asked to listen on an address that is not
	// loopback with neither a Token nor a TLS config that requires and
	// verifies client certificates.
	ErrInsecureBind = errors.New("observer: non-loopback address needs a token or mutual TLS")
	// ErrInvalidOptions: Options failed validation.
	ErrInvalidOptions = errors.New("observer: invalid options")
	// ErrTimeout: the observer did not get an answer (from a supervisor,
	// the peer service, a raft member) in time. It matches
	// context.DeadlineExceeded too.
	ErrTimeout error = timeoutError{}
	// ErrBadPID: a PID in a request does not parse or names another node.
	ErrBadPID = errors.New("observer: malformed pid")
	// ErrNotFound: no such panel.
	ErrNotFound = errors.New("observer: not found")
)

type timeoutError struct{}

func (timeoutError) Error() string        { return "observer: timeout" }
func (timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }
func (timeoutError) Timeout() bool        { return true }

// Panel is a page of data a component adds to the observer (a broadcast
// tree, an ensemble's leaders, a table's sizes): Name is its title and its
// path under /api/panels/, and Data returns what it shows, as a value
// encoding/json can marshal. Data is called for every request and every
// live update, with the request's context; it must be safe for concurrent
// use and should answer quickly.
//
// Kind says what shape Data has, for pages that draw it: the cluster page
// draws the panels of kind KindPlumtree (Data a BroadcastTree) as a graph
// and those of kind KindEnsembles (Data a []EnsembleRow) as a table. Any
// other kind, or none, is shown as JSON on the panels page only.
type Panel struct {
	Name string
	Kind string
	Data func(ctx context.Context) (any, error)
}

// Options configures an observer. The zero value works: a read-only
// observer of the node alone.
type Options struct {
	// Remote, when set, adds the node's connections to the node and cluster
	// pages.
	Remote *remote.Remote
	// Channels are the remote channels whose connections are counted per
	// peer. Default: remote.DefaultChannel.
	Channels []string
	// Peers, when set, adds membership, failure detector verdicts and
	// partitions to the cluster page.
	Peers *peerservice.Service
	// Supervisors are the roots of the supervision trees on the
	// applications page (PIDs or registered names). Nested supervisors are
	// found by walking down from them. The supervisor of Peers, if set, is
	// added.
	Supervisors []actor.Dest
	// Rafted lists raft members (one per group is enough) whose group
	// status is shown.
	Rafted []rafted.Server
	// Panels are extra pages, shown in the order given. Names must be
	// unique and non-empty.
	Panels []Panel
	// Routes are extra handlers the observer serves behind its own
	// authentication, by http.ServeMux pattern: {"GET /metrics":
	// metricsHandler} serves Prometheus metrics beside the pages. A pattern
	// that conflicts with the observer's own is refused.
	Routes map[string]http.Handler
	// AllowActions enables the write endpoints: killing a process and
	// restarting a supervisor's child. Off by default: read-only.
	AllowActions bool
	// Token, when set, must accompany every request: as the header
	// "Authorization: Bearer <token>", as the query parameter token (which
	// sets a cookie so a browser keeps it), or as that cookie.
	Token string
	// TLS, when set, makes Start serve HTTPS. With ClientAuth
	// tls.RequireAndVerifyClientCert it counts as authentication for a
	// non-loopback address.
	TLS *tls.Config
	// RefreshInterval is how often live pages (server-sent events) get new
	// data. Default 1 s.
	RefreshInterval time.Duration
	// CallTimeout bounds each call the observer makes to a process
	// (supervisors, the peer service, raft members) when the request's
	// context has no earlier deadline. Default 2 s.
	CallTimeout time.Duration
	// Logger receives the observer's logs. Default: discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if len(o.Channels) == 0 {
		o.Channels = []string{remote.DefaultChannel}
	}
	if o.RefreshInterval == 0 {
		o.RefreshInterval = time.Second
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

func (o Options) validate() error {
	if o.RefreshInterval < 0 {
		return fmt.Errorf("%w: negative RefreshInterval", ErrInvalidOptions)
	}
	if o.CallTimeout < 0 {
		return fmt.Errorf("%w: negative CallTimeout", ErrInvalidOptions)
	}
	seen := map[string]bool{}
	for _, p := range o.Panels {
		if p.Name == "" || p.Data == nil {
			return fmt.Errorf("%w: a panel needs a name and a Data func", ErrInvalidOptions)
		}
		if seen[p.Name] {
			return fmt.Errorf("%w: two panels named %q", ErrInvalidOptions, p.Name)
		}
		seen[p.Name] = true
	}
	if err := checkRoutes(o.Routes); err != nil {
		return err
	}
	for _, d := range o.Supervisors {
		if d == nil {
			return fmt.Errorf("%w: nil supervisor", ErrInvalidOptions)
		}
	}
	return nil
}
