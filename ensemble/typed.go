package ensemble

import (
	"context"
	"errors"
	"fmt"
)

// Typed is a Client for values of one Go type, with their encoding: the
// generic helper that spares user code the []byte round trips.
//
//	counters := ensemble.Typed[int64]{Client: svc.Client(), Encode: encodeInt, Decode: decodeInt}
//	n, err := counters.Modify(ctx, "stats", "hits", func(n int64, _ bool) int64 { return n + 1 })
type Typed[T any] struct {
	Client Client
	Encode func(T) ([]byte, error)
	Decode func([]byte) (T, error)
}

// Get reads key: its value (the zero T when NotFound), whether it has one,
// and the object (for a later conditional update).
func (t Typed[T]) Get(ctx context.Context, ens, key string) (T, bool, Object, error) {
	var zero T
	o, err := t.Client.KGet(ctx, ens, key)
	if err != nil || o.NotFound {
		return zero, false, o, err
	}
	v, err := t.Decode(o.Value)
	if err != nil {
		return zero, false, o, fmt.Errorf("ensemble: decode %s/%s: %w", ens, key, err)
	}
	return v, true, o, nil
}

// Put writes v whatever key holds (KOver).
func (t Typed[T]) Put(ctx context.Context, ens, key string, v T) (Object, error) {
	b, err := t.Encode(v)
	if err != nil {
		return Object{}, err
	}
	return t.Client.KOver(ctx, ens, key, b)
}

// Modify reads key, computes its new value with fn (given the current
// value and whether there is one) and writes it with KUpdate, reading
// again while another writer got in between (ErrFailed), until ctx ends.
// It returns the value written.
func (t Typed[T]) Modify(ctx context.Context, ens, key string, fn func(cur T, found bool) T) (T, error) {
	for {
		cur, found, o, err := t.Get(ctx, ens, key)
		if err != nil {
			return cur, err
		}
		next := fn(cur, found)
		b, err := t.Encode(next)
		if err != nil {
			return next, err
		}
		_, err = t.Client.KUpdate(ctx, ens, key, o, b)
		if !errors.Is(err, ErrFailed) {
			return next, err
		}
		if ctx.Err() != nil {
			return next, fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
		}
	}
}
