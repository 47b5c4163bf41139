package cets

import (
	"fmt"

	"github.com/gotp-dev/gotp/actor"
)

// A join moves dumps in chunks, so that no message comes near the
// distribution's frame limit however large the table.

// DefaultChunkBytes is the size a dump chunk aims at.
const DefaultChunkBytes = 1 << 20

// dumpChunk answers the records after r.After, encoded in at most
// r.MaxBytes (halving the count until they fit, down to one record).
func (s *server[K, V]) dumpChunk(r dumpChunkReq) any {
	var after K
	if r.HasAfter {
		var keys []K
		if err := s.opts.Codec.Unmarshal(r.After, &keys); err != nil || len(keys) != 1 {
			return fmt.Errorf("%w: dump cursor: %v", ErrDecode, err)
		}
		after = keys[0]
	}
	maxBytes := r.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultChunkBytes
	}
	// A first guess of the count from the table's average record size,
	// then halve while the encoding is too large.
	count := 4096
	for {
		recs, done := s.collect(after, r.HasAfter, count)
		chunk, err := s.opts.Codec.Marshal(recs)
		if err != nil {
			return err
		}
		if len(chunk) > maxBytes && count > 1 && len(recs) > 1 {
			count /= 2
			continue
		}
		reply := dumpChunkReply{Chunk: chunk, Done: done}
		if len(recs) > 0 {
			last, err := s.opts.Codec.Marshal([]K{s.opts.Key(recs[len(recs)-1])})
			if err != nil {
				return err
			}
			reply.Last = last
		}
		return reply
	}
}

// collect returns the records of up to count keys after after (all of a
// key's records together), and whether they are the last.
func (s *server[K, V]) collect(after K, hasAfter bool, count int) ([]V, bool) {
	var recs []V
	keys := 0
	done := true
	visit := func(it item[K, V]) bool {
		if hasAfter && it.key == after {
			return true
		}
		if keys == count {
			done = false
			return false
		}
		recs = it.records(recs)
		keys++
		return true
	}
	if hasAfter {
		s.core.data.tree.AscendGreaterOrEqual(item[K, V]{key: after}, visit)
	} else {
		s.core.data.tree.Ascend(visit)
	}
	return recs, done
}

// merge inserts a chunk of the other side's dump, resolving keys this
// server holds a different record of with HandleConflict (ordered sets).
func (s *server[K, V]) merge(p *actor.Process, r mergeReq) any {
	var recs []V
	if err := s.opts.Codec.Unmarshal(r.Chunk, &recs); err != nil {
		return fmt.Errorf("%w: %v", ErrDecode, err)
	}
	if s.opts.HandleConflict != nil && s.opts.Type == OrderedSet {
		for i, theirs := range recs {
			it, ok := s.core.data.get(s.opts.Key(theirs))
			if !ok || s.opts.Equal(it.val, theirs) {
				continue
			}
			won, err := s.resolveOne(it.val, theirs, r.Left)
			if err != nil {
				return err
			}
			recs[i] = won
		}
	}
	s.run(p, s.core.joined(nil, s.core.joinRef, recs))
	return true
}

// resolveOne calls HandleConflict with the joining side's record first.
func (s *server[K, V]) resolveOne(mine, theirs V, left bool) (won V, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cets: HandleConflict panicked: %v", r)
		}
	}()
	if left {
		return s.opts.HandleConflict(mine, theirs), nil
	}
	return s.opts.HandleConflict(theirs, mine), nil
}
