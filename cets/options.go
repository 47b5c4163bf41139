package cets

import (
	"bytes"
	"cmp"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

// Type is the kind of a table.
type Type uint8

const (
	// OrderedSet keeps one record per key, in key order (the default).
	OrderedSet Type = iota
	// Bag keeps any number of distinct records per key.
	Bag
)

func (t Type) String() string {
	if t == Bag {
		return "bag"
	}
	return "ordered_set"
}

// DownInfo is what HandleDown is told when a peer server is lost.
type DownInfo struct {
	Table    string
	Remote   actor.PID // the server that went down
	IsLeader bool      // whether this server is the leader after the loss
	Reason   error
}

// WrongLeaderInfo is what HandleWrongLeader is told when a leader operation
// reached a server that is no longer the leader (and will be retried).
type WrongLeaderInfo struct {
	Table     string
	Asked     actor.PID // the server that refused
	Leader    actor.PID // the leader it named
	Attempt   int       // 1 for the first refusal
	NextDelay time.Duration
}

// Codec encodes records and keys for other nodes. Marshal and Unmarshal
// work on pointers to slices of records or keys.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// GobCodec is the default Codec: encoding/gob.
type GobCodec struct{}

// Marshal encodes v with gob.
func (GobCodec) Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Unmarshal decodes data into v with gob.
func (GobCodec) Unmarshal(data []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(data)).Decode(v)
}

// DefaultLeaderRetry is CETS's schedule of waits between retries of a leader
// operation that found a server which is not the leader.
var DefaultLeaderRetry = []time.Duration{
	10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	500 * time.Millisecond, time.Second, 5 * time.Second, 5 * time.Second,
}

// Options configure a table. Key is the only required field.
type Options[K cmp.Ordered, V any] struct {
	// Type is OrderedSet (default) or Bag.
	Type Type
	// Key returns a record's key (CETS's keypos). Required; KeyAt builds one
	// for records that are tuples ([]any).
	Key func(V) K
	// Equal tells whether two records are the same object (for a bag's
	// duplicates and DeleteObject). Default reflect.DeepEqual.
	Equal func(a, b V) bool
	// HandleDown is called once each time a peer server is lost, after the
	// table dropped it, in a short-lived process of its own (so it may use
	// the table). A panic in it is logged.
	HandleDown func(DownInfo)
	// HandleConflict resolves a key present on both sides of a join with
	// different records (ordered sets only; a bag with it is refused at
	// start). It must be deterministic: its result goes to both sides.
	// Without it each side takes the other side's record (as CETS does).
	HandleConflict func(local, remote V) V
	// HandleWrongLeader is called each time a leader operation is refused
	// by a server that is no longer the leader, before the retry.
	HandleWrongLeader func(WrongLeaderInfo)
	// LeaderRetry is the wait before each retry of a leader operation
	// refused for a wrong leader; once it is used up the operation fails
	// with ErrWrongLeader. Default DefaultLeaderRetry.
	LeaderRetry []time.Duration
	// Codec encodes records and keys for other nodes. Default GobCodec.
	Codec Codec
	// Logger receives the table's logs. Default: discard.
	Logger *slog.Logger
}

func (o Options[K, V]) withDefaults() Options[K, V] {
	if o.Equal == nil {
		o.Equal = func(a, b V) bool { return reflect.DeepEqual(a, b) }
	}
	if o.LeaderRetry == nil {
		o.LeaderRetry = DefaultLeaderRetry
	}
	if o.Codec == nil {
		o.Codec = GobCodec{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

func (o Options[K, V]) validate() error {
	if o.Key == nil {
		return fmt.Errorf("%w: Key is required", ErrBadOptions)
	}
	if o.Type != OrderedSet && o.Type != Bag {
		return fmt.Errorf("%w: unknown type %d", ErrBadOptions, o.Type)
	}
	if o.Type == Bag && o.HandleConflict != nil {
		return ErrBagWithConflictHandler
	}
	return nil
}

// KeyAt returns a key function for tuple records: element pos (1-based, as
// Erlang's keypos) of the []any, which must hold a K.
func KeyAt[K cmp.Ordered](pos int) func([]any) K {
	return func(rec []any) K {
		k, _ := rec[pos-1].(K)
		return k
	}
}

var (
	// ErrBadOptions: the table's options are invalid.
	ErrBadOptions = errors.New("cets: bad options")
	// ErrBagWithConflictHandler: a bag cannot have HandleConflict.
	ErrBagWithConflictHandler = errors.New("cets: bag_with_conflict_handler")
)
