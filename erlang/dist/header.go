package dist

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/gotp-dev/gotp/erlang/etf"
)

// The distribution header (erl_ext_dist's "Distribution Header"): what an
// Erlang node puts before the control message and the message once
// DFLAG_DIST_HDR_ATOM_CACHE is negotiated, and the fragment headers of a
// message it sends in parts (DFLAG_FRAGMENTS). The header names the atoms
// the terms after it refer to with ATOM_CACHE_REF, and fills the
// connection's atom cache (8 segments of 256) with new ones.

const (
	distHeader         = 68 // 'D'
	distFragHeader     = 69 // 'E'
	distFragCont       = 70 // 'F'
	atomCacheSize      = 2048
	maxFragmentsInHand = 64 // messages being reassembled at once per connection
)

// atomCache is the atoms the peer cached on this connection (” is an atom
// too: set says which entries hold one).
type atomCache struct {
	atoms [atomCacheSize]etf.Atom
	set   [atomCacheSize]bool
}

// readHeader parses the atom cache references of a header at b (just after
// its tag) and returns the atoms they name, in order, and what follows.
func (ac *atomCache) readHeader(b []byte) ([]etf.Atom, []byte, error) {
	if len(b) < 1 {
		return nil, nil, fmt.Errorf("%w: header cut short", errMalformed)
	}
	n := int(b[0])
	b = b[1:]
	if n == 0 {
		return nil, b, nil
	}
	flagBytes := n/2 + 1
	if len(b) < flagBytes {
		return nil, nil, fmt.Errorf("%w: header flags cut short", errMalformed)
	}
	flags := b[:flagBytes]
	b = b[flagBytes:]
	nibble := func(i int) byte {
		f := flags[i/2]
		if i%2 == 1 {
			f >>= 4
		}
		return f & 0x0f
	}
	long := nibble(n)&0x01 != 0
	refs := make([]etf.Atom, n)
	for i := range n {
		f := nibble(i)
		segment := int(f & 0x07)
		if len(b) < 1 {
			return nil, nil, fmt.Errorf("%w: atom cache reference cut short", errMalformed)
		}
		index := segment*256 + int(b[0])
		b = b[1:]
		if f&0x08 != 0 {
			var l int
			if long {
				if len(b) < 2 {
					return nil, nil, fmt.Errorf("%w: atom cut short", errMalformed)
				}
				l = int(binary.BigEndian.Uint16(b))
				b = b[2:]
			} else {
				if len(b) < 1 {
					return nil, nil, fmt.Errorf("%w: atom cut short", errMalformed)
				}
				l = int(b[0])
				b = b[1:]
			}
			if l > len(b) || l > 255*4 || !utf8.Valid(b[:l]) {
				return nil, nil, fmt.Errorf("%w: atom of %d bytes in the header", errMalformed, l)
			}
			ac.atoms[index], ac.set[index] = etf.Atom(b[:l]), true
			b = b[l:]
		}
		if !ac.set[index] {
			return nil, nil, fmt.Errorf("%w: reference to an empty atom cache entry %d", errMalformed, index)
		}
		refs[i] = ac.atoms[index]
	}
	return refs, b, nil
}

// fragments reassembles messages the peer sends in parts: by sequence id,
// the atoms of the first fragment and the data so far.
type fragments struct {
	bySeq map[uint64]*fragment
	bytes int
}

type fragment struct {
	refs []etf.Atom
	data []byte
	next uint64 // the fragment id expected next (they count down to 1)
}

// handleHeader acts on a packet that starts with a distribution header of
// kind tag (b is what follows the tag).
func (c *conn) handleHeader(tag byte, b []byte) error {
	switch tag {
	case distHeader:
		refs, rest, err := c.atoms.readHeader(b)
		if err != nil {
			return err
		}
		return c.decodeAndDispatch(rest, refs, false)
	case distFragHeader, distFragCont:
		if len(b) < 16 {
			return fmt.Errorf("%w: fragment header cut short", errMalformed)
		}
		seq, id := binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])
		b = b[16:]
		if c.frags.bySeq == nil {
			c.frags.bySeq = make(map[uint64]*fragment)
		}
		f := c.frags.bySeq[seq]
		if tag == distFragHeader {
			if f != nil || id == 0 {
				return fmt.Errorf("%w: fragment %d of message %d starts again", errMalformed, id, seq)
			}
			refs, rest, err := c.atoms.readHeader(b)
			if err != nil {
				return err
			}
			if id == 1 {
				return c.decodeAndDispatch(rest, refs, false)
			}
			if len(c.frags.bySeq) >= maxFragmentsInHand {
				return fmt.Errorf("%w: more than %d fragmented messages at once", errMalformed, maxFragmentsInHand)
			}
			f = &fragment{refs: refs, next: id - 1}
			c.frags.bySeq[seq] = f
			b = rest
		} else {
			if f == nil || id != f.next {
				return fmt.Errorf("%w: fragment %d of message %d out of turn", errMalformed, id, seq)
			}
			f.next--
		}
		if c.frags.bytes+len(b) > maxPacket {
			return fmt.Errorf("%w: fragmented messages past %d bytes", errMalformed, maxPacket)
		}
		f.data = append(f.data, b...)
		c.frags.bytes += len(b)
		if tag == distFragCont && id == 1 {
			delete(c.frags.bySeq, seq)
			c.frags.bytes -= len(f.data)
			return c.decodeAndDispatch(f.data, f.refs, false)
		}
		return nil
	}
	return fmt.Errorf("%w: header kind %d", errMalformed, tag)
}
