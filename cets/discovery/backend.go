package discovery

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
)

// Backend finds the nodes of the cluster: cets_discovery's backend
// behaviour. The discovery process calls Init once, when it starts, and then
// GetNodes whenever it checks, never two GetNodes at once, so a backend may
// keep state between calls without locking it against itself.
//
// GetNodes returns the nodes the cluster should have, this node usually among
// them (it is ignored when joining). A spec without addresses is reached
// through the remote layer's own knowledge (Learn, earlier handshakes,
// remote.Config.Resolve). An error makes discovery retry soon
// (Config.RetryAfterError) and keeps the nodes found last.
type Backend interface {
	Init(info BackendInfo) error
	GetNodes(ctx context.Context) ([]remote.NodeSpec, error)
}

// BackendInfo is what a backend learns about the node it serves in Init.
type BackendInfo struct {
	// Node is this node's name.
	Node string
	// Logger is the discovery process's logger.
	Logger *slog.Logger
}

// Describer is implemented by backends that report their state; SystemInfo
// shows what Describe returned after the last GetNodes (CETS's
// backend_state). Describe is called right after GetNodes, never concurrently
// with it.
type Describer interface {
	Describe() any
}

// StaticBackend returns the same nodes every time.
type StaticBackend struct {
	Nodes []remote.NodeSpec
}

var _ Backend = (*StaticBackend)(nil)

// Static returns a StaticBackend of nodes known by name only.
func Static(names ...string) *StaticBackend {
	b := &StaticBackend{}
	for _, n := range names {
		b.Nodes = append(b.Nodes, remote.NodeSpec{Name: n})
	}
	return b
}

// Init implements Backend.
func (b *StaticBackend) Init(BackendInfo) error { return nil }

// GetNodes implements Backend.
func (b *StaticBackend) GetNodes(context.Context) ([]remote.NodeSpec, error) {
	return slices.Clone(b.Nodes), nil
}

// FileBackend reads node names from a file on every GetNodes
// (cets_discovery_file): names are separated by spaces, carriage returns or
// line feeds, and empty names are skipped. A file that cannot be read is an
// error, so discovery retries soon: a file written later (by an
// orchestrator, a start script) is picked up within Config.RetryAfterError.
type FileBackend struct {
	// Path is the file to read.
	Path string
}

var _ Backend = (*FileBackend)(nil)

// Init implements Backend.
func (b *FileBackend) Init(BackendInfo) error {
	if b.Path == "" {
		return fmt.Errorf("%w: file backend without a path", ErrConfig)
	}
	return nil
}

// GetNodes implements Backend.
func (b *FileBackend) GetNodes(context.Context) ([]remote.NodeSpec, error) {
	text, err := os.ReadFile(b.Path)
	if err != nil {
		return nil, fmt.Errorf("discovery: read node list: %w", err)
	}
	return ParseNodeList(text), nil
}

// ParseNodeList splits text on spaces, carriage returns and line feeds, as
// the file backend does, and returns the non-empty names as specs.
func ParseNodeList(text []byte) []remote.NodeSpec {
	var out []remote.NodeSpec
	for _, f := range bytes.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == '\r' || r == '\n' }) {
		out = append(out, remote.NodeSpec{Name: string(f)})
	}
	return out
}

// PeerServiceBackend takes the nodes from the peer service's membership
// (MembersForOrchestration): every member the service knows, with its
// addresses, is a node of the cluster.
type PeerServiceBackend struct {
	Service peerservice.Manager
}

var _ Backend = (*PeerServiceBackend)(nil)

// Init implements Backend.
func (b *PeerServiceBackend) Init(BackendInfo) error {
	if b.Service == nil {
		return fmt.Errorf("%w: peer service backend without a service", ErrConfig)
	}
	return nil
}

// GetNodes implements Backend.
func (b *PeerServiceBackend) GetNodes(ctx context.Context) ([]remote.NodeSpec, error) {
	return b.Service.MembersForOrchestration(ctx)
}

// BackendFunc adapts a function to a Backend, for tests and small programs.
type BackendFunc func(ctx context.Context) ([]remote.NodeSpec, error)

var _ Backend = BackendFunc(nil)

// Init implements Backend.
func (f BackendFunc) Init(BackendInfo) error { return nil }

// GetNodes implements Backend.
func (f BackendFunc) GetNodes(ctx context.Context) ([]remote.NodeSpec, error) { return f(ctx) }

// backendName names a backend in SystemInfo (CETS's backend_module).
func backendName(b Backend) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", b), "*")
}
