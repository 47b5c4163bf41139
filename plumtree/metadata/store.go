package metadata

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/plumtree"
	"github.com/gotp-dev/gotp/remote/wire"
)

// Config configures a Store. The zero value works.
type Config struct {
	// Name is the handler's name (the same on every node) and, prefixed,
	// the registered name of the store's exchange process. Default
	// "metadata".
	Name string
	// OnChange, when set, is called after a key changed here, by a local
	// write, a broadcast or an exchange, with the winning value. It runs on
	// the goroutine that made the change and must not block for long.
	OnChange func(key string, value []byte, deleted bool)
	// ExchangeTimeout bounds one anti-entropy exchange. Default 5 s.
	ExchangeTimeout time.Duration
	// Now is the physical clock of the hybrid logical clock. Default
	// time.Now.
	Now func() time.Time
	// Logger receives the store's logs. Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = "metadata"
	}
	if c.ExchangeTimeout == 0 {
		c.ExchangeTimeout = 5 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

func (c Config) validate() error {
	if c.ExchangeTimeout < 0 {
		return fmt.Errorf("%w: negative ExchangeTimeout", ErrInvalidConfig)
	}
	return nil
}

var (
	// ErrInvalidConfig is returned for a configuration that cannot work.
	ErrInvalidConfig = errors.New("metadata: invalid configuration")
	// ErrNotBound: the store was not yet given its broadcast server.
	ErrNotBound = errors.New("metadata: no broadcast server bound")
)

// Update is one write as it travels: a key's value (or its deletion) with
// the clock of the write.
type Update struct {
	Key     string
	Value   []byte
	Deleted bool
	Clock   Clock
}

// MessageID names a write in the broadcast: the key and the clock of the
// write.
type MessageID struct {
	Key   string
	Clock Clock
}

type exchangeReq struct {
	Digest uint64
}

type exchangeReply struct {
	Same    bool
	Entries []Update
}

type exchangePush struct {
	Entries []Update
}

func init() {
	wire.MustRegister[Update]("gotp.plumtree.metadata.update")
	wire.MustRegister[MessageID]("gotp.plumtree.metadata.id")
	wire.MustRegister[exchangeReq]("gotp.plumtree.metadata.exchange_req")
	wire.MustRegister[exchangeReply]("gotp.plumtree.metadata.exchange_reply")
	wire.MustRegister[exchangePush]("gotp.plumtree.metadata.exchange_push")
}

// Store is a replicated, eventually consistent key/value store and the
// plumtree.Handler that replicates it.
type Store struct {
	node  *actor.Node
	cfg   Config
	clock *hlc
	log   *slog.Logger

	mu      sync.Mutex
	entries map[string]Update
	srv     *plumtree.Server
	pid     actor.PID
}

var _ plumtree.Handler = (*Store)(nil)

// Start makes the store of node and spawns its exchange process (which
// answers other nodes' anti-entropy exchanges), registered as
// "gotp_metadata_" + Name. Give the store to a broadcast server in
// plumtree.Config.Handlers, then Bind the server to it.
func Start(node *actor.Node, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Store{node: node, cfg: cfg, log: cfg.Logger.With("node", node.Name()),
		clock: &hlc{node: node.Name(), now: cfg.Now}, entries: map[string]Update{}}
	pid, err := node.Spawn(actor.Server(&responder{s: s}), actor.WithName(s.responderName()))
	if err != nil {
		return nil, fmt.Errorf("metadata: start exchange process: %w", err)
	}
	s.pid = pid
	return s, nil
}

// Stop stops the store's exchange process.
func (s *Store) Stop(ctx context.Context) error {
	err := s.node.StopProcess(ctx, s.pid, actor.Shutdown)
	if errors.Is(err, actor.ErrNoProc) {
		return nil
	}
	return err
}

func (s *Store) responderName() string { return "gotp_metadata_" + s.cfg.Name }

// Bind gives the store the broadcast server its writes go out through.
func (s *Store) Bind(srv *plumtree.Server) {
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
}

// Put writes value under key here and broadcasts the write. The write wins
// over every write to key this node had seen (its clock is newer); among
// concurrent writes on different nodes the one with the newest clock wins
// everywhere.
func (s *Store) Put(key string, value []byte) error {
	return s.write(Update{Key: key, Value: slices.Clone(value)})
}

// Delete removes key (leaving a tombstone, so that the deletion wins over
// older writes arriving late) and broadcasts the deletion.
func (s *Store) Delete(key string) error {
	return s.write(Update{Key: key, Deleted: true})
}

func (s *Store) write(u Update) error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return ErrNotBound
	}
	u.Clock = s.clock.tick()
	s.merge(u)
	return srv.Broadcast(u, s.cfg.Name)
}

// Get returns the value of key, and whether it is there.
func (s *Store) Get(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.entries[key]
	if !ok || u.Deleted {
		return nil, false
	}
	return slices.Clone(u.Value), true
}

// Keys returns the keys present (not deleted), sorted.
func (s *Store) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k, u := range s.entries {
		if !u.Deleted {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// merge keeps u if it is newer than what the store holds for its key, and
// reports whether it did.
func (s *Store) merge(u Update) bool {
	s.mu.Lock()
	cur, ok := s.entries[u.Key]
	if ok && cur.Clock.Compare(u.Clock) >= 0 {
		s.mu.Unlock()
		return false
	}
	s.entries[u.Key] = u
	s.mu.Unlock()
	s.clock.observe(u.Clock)
	if s.cfg.OnChange != nil {
		s.cfg.OnChange(u.Key, slices.Clone(u.Value), u.Deleted)
	}
	return true
}

// Name implements plumtree.Handler.
func (s *Store) Name() string { return s.cfg.Name }

// BroadcastData implements plumtree.Handler: msg is an Update.
func (s *Store) BroadcastData(msg any) (any, any, error) {
	u, ok := msg.(Update)
	if !ok {
		return nil, nil, fmt.Errorf("metadata: broadcast of %T, want an Update", msg)
	}
	return MessageID{Key: u.Key, Clock: u.Clock}, u, nil
}

// Merge implements plumtree.Handler.
func (s *Store) Merge(id, payload any) bool {
	u, ok := payload.(Update)
	if !ok {
		return false
	}
	return s.merge(u)
}

// IsStale implements plumtree.Handler: the store has this write or a newer
// one of its key.
func (s *Store) IsStale(id any) bool {
	mid, ok := id.(MessageID)
	if !ok {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.entries[mid.Key]
	return ok && cur.Clock.Compare(mid.Clock) >= 0
}

// Graft implements plumtree.Handler.
func (s *Store) Graft(id any) (any, error) {
	mid, ok := id.(MessageID)
	if !ok {
		return nil, fmt.Errorf("metadata: graft of %T", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.entries[mid.Key]
	switch {
	case !ok || cur.Clock.Compare(mid.Clock) < 0:
		return nil, fmt.Errorf("metadata: no write %v of %q", mid.Clock, mid.Key)
	case cur.Clock.Compare(mid.Clock) > 0:
		return nil, plumtree.ErrStale
	}
	return cur, nil
}

// Exchange implements plumtree.Handler: a process that compares digests
// with peer's store and, if they differ, takes the peer's entries and
// gives it its own; each side keeps the newer write of every key.
func (s *Store) Exchange(p *actor.Process, peer string) (actor.PID, error) {
	to := actor.Name{Node: peer, Name: s.responderName()}
	pid, err := p.Spawn(actor.Func(func(q *actor.Process, _ any) error {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ExchangeTimeout)
		defer cancel()
		v, err := q.Call(ctx, to, exchangeReq{Digest: s.digest()})
		if err != nil {
			s.log.Debug("metadata: exchange failed", "peer", peer, "err", err)
			return actor.Normal
		}
		r, ok := v.(exchangeReply)
		if !ok || r.Same {
			return actor.Normal
		}
		for _, u := range r.Entries {
			s.merge(u)
		}
		_ = q.Send(to, exchangePush{Entries: s.snapshot()})
		return actor.Normal
	}))
	if err != nil {
		return actor.PID{}, err
	}
	return pid, p.Send(pid, "start")
}

// snapshot returns every entry, tombstones too, sorted by key.
func (s *Store) snapshot() []Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Update, 0, len(s.entries))
	for _, u := range s.entries {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b Update) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// digest hashes every key with the clock of its write.
func (s *Store) digest() uint64 {
	h := fnv.New64a()
	for _, u := range s.snapshot() {
		fmt.Fprintf(h, "%q %d %d %q\n", u.Key, u.Clock.Wall, u.Clock.Logical, u.Clock.Node)
	}
	return h.Sum64()
}

// responder answers other nodes' exchanges.
type responder struct{ s *Store }

func (r *responder) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	q, ok := req.(exchangeReq)
	if !ok {
		return nil, fmt.Errorf("metadata: unknown call %T", req)
	}
	if q.Digest == r.s.digest() {
		return exchangeReply{Same: true}, nil
	}
	return exchangeReply{Entries: r.s.snapshot()}, nil
}

func (r *responder) HandleInfo(p *actor.Process, msg any) error {
	if push, ok := msg.(exchangePush); ok {
		for _, u := range push.Entries {
			r.s.merge(u)
		}
	}
	return nil
}
