package cets

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math/rand/v2"

	"github.com/gotp-dev/gotp/actor"
)

// With the default codec, batches to a peer form one gob stream per
// (sender, receiver) pair: the type descriptions go once, in a stream's
// first batch, and each later batch carries only its values. Messages between
// two processes arrive in order and are lost only with the connection (which
// takes the peer down and ends the stream on both sides), so the receiver's
// decoder sees the stream whole. A batch numbered 0 starts a new stream; a
// batch of a stream the receiver does not hold is dropped (and acknowledged)
// with a warning.

type encStream struct {
	id  uint64
	seq uint64
	buf bytes.Buffer
	enc *gob.Encoder
}

type decStream struct {
	id   uint64
	next uint64
	buf  bytes.Buffer
	dec  *gob.Decoder
}

// streams holds a server's gob streams, by peer.
type streams struct {
	out map[actor.PID]*encStream
	in  map[actor.PID]*decStream
}

func newStreams() *streams {
	return &streams{out: map[actor.PID]*encStream{}, in: map[actor.PID]*decStream{}}
}

// encode encodes v as the next message of the stream to peer, returning the
// stream id, the message's number and its bytes.
func (s *streams) encode(peer actor.PID, v any) (id, seq uint64, payload []byte, err error) {
	st := s.out[peer]
	if st == nil {
		st = &encStream{id: rand.Uint64()}
		st.enc = gob.NewEncoder(&st.buf)
		s.out[peer] = st
	}
	st.buf.Reset()
	if err := st.enc.Encode(v); err != nil {
		// The encoder's state is unknown now: start over next time.
		delete(s.out, peer)
		return 0, 0, nil, err
	}
	seq = st.seq
	st.seq++
	return st.id, seq, bytes.Clone(st.buf.Bytes()), nil
}

// decode decodes message seq of stream id from peer into v.
func (s *streams) decode(peer actor.PID, id, seq uint64, payload []byte, v any) error {
	st := s.in[peer]
	if seq == 0 {
		st = &decStream{id: id}
		st.dec = gob.NewDecoder(&st.buf)
		s.in[peer] = st
	}
	if st == nil || st.id != id || st.next != seq {
		return fmt.Errorf("batch %d of stream %x from %s is not the next of a stream held here", seq, id, peer)
	}
	st.next++
	st.buf.Reset()
	st.buf.Write(payload)
	if err := st.dec.Decode(v); err != nil {
		delete(s.in, peer)
		return err
	}
	return nil
}

// drop ends both streams with peer.
func (s *streams) drop(peer actor.PID) {
	delete(s.out, peer)
	delete(s.in, peer)
}
