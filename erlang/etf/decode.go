package etf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Tags of the external term format.
const (
	tagVersion        = 131
	tagCompressed     = 80
	tagNewFloat       = 70
	tagBitBinary      = 77
	tagAtomCacheRef   = 82
	tagNewPid         = 88
	tagNewPort        = 89
	tagNewerReference = 90
	tagSmallInteger   = 97
	tagInteger        = 98
	tagFloat          = 99
	tagAtom           = 100
	tagReference      = 101
	tagPort           = 102
	tagPid            = 103
	tagSmallTuple     = 104
	tagLargeTuple     = 105
	tagNil            = 106
	tagString         = 107
	tagList           = 108
	tagBinary         = 109
	tagSmallBig       = 110
	tagLargeBig       = 111
	tagNewFun         = 112
	tagExport         = 113
	tagNewReference   = 114
	tagSmallAtom      = 115
	tagMap            = 116
	tagFun            = 117
	tagAtomUTF8       = 118
	tagSmallAtomUTF8  = 119
	tagV4Port         = 120
	tagLocal          = 121
)

// Decoder decodes terms within limits. The zero value uses the defaults.
type Decoder struct {
	// MaxDepth bounds the nesting of tuples, lists and maps (default 256).
	// A list's tail does not nest: a long improper chain is one level.
	MaxDepth int
	// MaxSize bounds a compressed term's uncompressed size and a big
	// integer's bytes (default 64 MiB and 1 MiB respectively, MaxSize
	// bounding both when set).
	MaxSize int
	// AtomRefs are the atoms a distribution header's atom cache references
	// name, in order: ATOM_CACHE_REF i in a term is AtomRefs[i]. Without a
	// header there are none, and such a reference is malformed.
	AtomRefs []Atom
}

const (
	defaultMaxDepth        = 256
	defaultMaxUncompressed = 64 << 20
	defaultMaxBigBytes     = 1 << 20
)

// Decode decodes one term in the external format (starting with the version
// byte 131) that must fill data.
func Decode(data []byte) (any, error) { return Decoder{}.Decode(data) }

// Decode decodes one term starting with the version byte that must fill
// data.
func (d Decoder) Decode(data []byte) (any, error) {
	t, rest, err := d.DecodePrefix(data)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("%w: %d bytes after the term", ErrMalformed, len(rest))
	}
	return t, nil
}

// DecodePrefix decodes one term starting with the version byte from the
// front of data and returns what follows it.
func (d Decoder) DecodePrefix(data []byte) (any, []byte, error) {
	if len(data) == 0 || data[0] != tagVersion {
		return nil, nil, fmt.Errorf("%w: no version byte", ErrMalformed)
	}
	return d.DecodeTerm(data[1:])
}

// DecodeTerm decodes one term without a version byte (as the distribution
// header's messages carry them) from the front of data and returns what
// follows it.
func (d Decoder) DecodeTerm(data []byte) (any, []byte, error) {
	st := &decodeState{b: data, maxDepth: d.MaxDepth, maxUncompressed: d.MaxSize, maxBig: d.MaxSize, atomRefs: d.AtomRefs}
	if st.maxDepth <= 0 {
		st.maxDepth = defaultMaxDepth
	}
	if st.maxUncompressed <= 0 {
		st.maxUncompressed = defaultMaxUncompressed
	}
	if st.maxBig <= 0 {
		st.maxBig = defaultMaxBigBytes
	}
	if len(st.b) > 0 && st.b[0] == tagCompressed {
		t, err := st.compressed()
		return t, st.b, err
	}
	t, err := st.term(0)
	if err != nil {
		return nil, nil, err
	}
	return t, st.b, nil
}

type decodeState struct {
	b               []byte
	atomRefs        []Atom
	maxDepth        int
	maxUncompressed int
	maxBig          int
}

func (s *decodeState) short(what string) error {
	return fmt.Errorf("%w: cut short in %s", ErrMalformed, what)
}

func (s *decodeState) take(n int, what string) ([]byte, error) {
	if n < 0 || n > len(s.b) {
		return nil, s.short(what)
	}
	out := s.b[:n]
	s.b = s.b[n:]
	return out, nil
}

func (s *decodeState) u8(what string) (uint8, error) {
	b, err := s.take(1, what)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (s *decodeState) u16(what string) (int, error) {
	b, err := s.take(2, what)
	if err != nil {
		return 0, err
	}
	return int(binary.BigEndian.Uint16(b)), nil
}

func (s *decodeState) u32(what string) (uint32, error) {
	b, err := s.take(4, what)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(b), nil
}

// count reads a 32-bit element count and checks that the rest of the input
// can hold that many elements of at least per bytes each, so that no length
// makes the decoder allocate more than the input justifies.
func (s *decodeState) count(per int, what string) (int, error) {
	n, err := s.u32(what)
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(per) > uint64(len(s.b)) {
		return 0, fmt.Errorf("%w: %s of %d elements in %d bytes", ErrMalformed, what, n, len(s.b))
	}
	return int(n), nil
}

func (s *decodeState) compressed() (any, error) {
	s.b = s.b[1:]
	size, err := s.u32("compressed term")
	if err != nil {
		return nil, err
	}
	if int64(size) > int64(s.maxUncompressed) {
		return nil, fmt.Errorf("%w: compressed term of %d bytes uncompressed", ErrLimit, size)
	}
	zr, err := zlib.NewReader(bytes.NewReader(s.b))
	if err != nil {
		return nil, fmt.Errorf("%w: compressed term: %v", ErrMalformed, err)
	}
	// Grown as the data comes, not allocated on the sender's word.
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(zr, int64(size)+1)); err != nil {
		return nil, fmt.Errorf("%w: compressed term: %v", ErrMalformed, err)
	}
	if buf.Len() != int(size) {
		return nil, fmt.Errorf("%w: compressed term: %d bytes, announced %d", ErrMalformed, buf.Len(), size)
	}
	s.b = nil // the compressed data is the rest of the input
	inner := &decodeState{b: buf.Bytes(), maxDepth: s.maxDepth, maxUncompressed: s.maxUncompressed, maxBig: s.maxBig, atomRefs: s.atomRefs}
	t, err := inner.term(0)
	if err != nil {
		return nil, err
	}
	if len(inner.b) > 0 {
		return nil, fmt.Errorf("%w: %d bytes after the compressed term", ErrMalformed, len(inner.b))
	}
	return t, nil
}

func (s *decodeState) term(depth int) (any, error) {
	if depth > s.maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrLimit, s.maxDepth)
	}
	tag, err := s.u8("tag")
	if err != nil {
		return nil, err
	}
	switch tag {
	case tagSmallInteger:
		v, err := s.u8("small integer")
		return int64(v), err
	case tagInteger:
		v, err := s.u32("integer")
		return int64(int32(v)), err
	case tagSmallBig, tagLargeBig:
		return s.bigInt(tag)
	case tagNewFloat:
		b, err := s.take(8, "float")
		if err != nil {
			return nil, err
		}
		return finite(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case tagFloat:
		b, err := s.take(31, "float")
		if err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(strings.TrimRight(string(b), "\x00"), 64)
		if err != nil {
			return nil, fmt.Errorf("%w: float %q", ErrMalformed, b)
		}
		return finite(f)
	case tagAtom, tagSmallAtom, tagAtomUTF8, tagSmallAtomUTF8:
		return atomTerm(s.atomBody(tag))
	case tagSmallTuple, tagLargeTuple:
		var n int
		if tag == tagSmallTuple {
			v, err := s.u8("tuple")
			if err != nil {
				return nil, err
			}
			n = int(v)
			if n > len(s.b) {
				return nil, s.short("tuple")
			}
		} else if n, err = s.count(1, "tuple"); err != nil {
			return nil, err
		}
		t := make(Tuple, n)
		for i := range t {
			if t[i], err = s.term(depth + 1); err != nil {
				return nil, err
			}
		}
		return t, nil
	case tagNil:
		return List{}, nil
	case tagString:
		n, err := s.u16("string")
		if err != nil {
			return nil, err
		}
		b, err := s.take(n, "string")
		if err != nil {
			return nil, err
		}
		return Charlist(b), nil
	case tagList:
		return s.list(depth)
	case tagBinary:
		n, err := s.count(1, "binary")
		if err != nil {
			return nil, err
		}
		b, _ := s.take(n, "binary")
		return bytes.Clone(b), nil
	case tagBitBinary:
		n, err := s.count(1, "bit binary")
		if err != nil {
			return nil, err
		}
		bits, err := s.u8("bit binary")
		if err != nil {
			return nil, err
		}
		b, err := s.take(n, "bit binary")
		if err != nil {
			return nil, err
		}
		if bits < 1 || bits > 8 || n == 0 {
			return nil, fmt.Errorf("%w: bit binary of %d bytes, %d bits in the last", ErrMalformed, n, bits)
		}
		if bits == 8 {
			return bytes.Clone(b), nil
		}
		return BitBinary{Bytes: bytes.Clone(b), Bits: bits}, nil
	case tagMap:
		n, err := s.count(2, "map")
		if err != nil {
			return nil, err
		}
		m := make(Map, n)
		for i := range m {
			if m[i].Key, err = s.term(depth + 1); err != nil {
				return nil, err
			}
			if m[i].Value, err = s.term(depth + 1); err != nil {
				return nil, err
			}
		}
		return m, nil
	case tagNewPid, tagPid:
		return s.pid(tag)
	case tagNewPort, tagV4Port, tagPort:
		return s.port(tag)
	case tagNewerReference, tagNewReference:
		return s.newRef(tag)
	case tagReference:
		node, err := s.atom()
		if err != nil {
			return nil, err
		}
		id, err := s.u32("reference")
		if err != nil {
			return nil, err
		}
		cr, err := s.u8("reference")
		return Ref{Node: node, Creation: uint32(cr), IDs: []uint32{id}}, err
	case tagNewFun, tagFun, tagExport:
		return nil, fmt.Errorf("%w: funs (tag %d) do not cross to Go", ErrUnsupported, tag)
	case tagLocal:
		return nil, fmt.Errorf("%w: a local term (tag %d)", ErrUnsupported, tag)
	case tagAtomCacheRef:
		return atomTerm(s.atomRef())
	case tagCompressed:
		return nil, fmt.Errorf("%w: a compressed term inside a term", ErrMalformed)
	}
	return nil, fmt.Errorf("%w: unknown tag %d", ErrMalformed, tag)
}

// atomTerm is an atom as a term: true and false are Go bools.
func atomTerm(a Atom, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	switch a {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return a, nil
}

// finite refuses what no Erlang float is (NaN, the infinities), as the VM's
// own decoder does.
func finite(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%w: float %v", ErrMalformed, f)
	}
	return f, nil
}

// list decodes a LIST_EXT. A tail that is itself a list continues it: [1|[2]]
// is [1,2], as in Erlang.
func (s *decodeState) list(depth int) (any, error) {
	var elems []any
	for {
		n, err := s.count(1, "list")
		if err != nil {
			return nil, err
		}
		elems = growTo(elems, n)
		for range n {
			e, err := s.term(depth + 1)
			if err != nil {
				return nil, err
			}
			elems = append(elems, e)
		}
		if len(s.b) > 0 && s.b[0] == tagList {
			s.b = s.b[1:]
			continue
		}
		tail, err := s.term(depth + 1)
		if err != nil {
			return nil, err
		}
		switch t := tail.(type) {
		case List:
			return List(append(elems, t...)), nil
		case Charlist:
			for i := 0; i < len(t); i++ {
				elems = append(elems, int64(t[i]))
			}
			return List(elems), nil
		}
		if len(elems) == 0 {
			return tail, nil // no cells: [|T] is T, as the VM reads it
		}
		return ImproperList{Elems: elems, Tail: tail}, nil
	}
}

func growTo(s []any, more int) []any {
	if cap(s)-len(s) >= more {
		return s
	}
	out := make([]any, len(s), len(s)+more)
	copy(out, s)
	return out
}

func (s *decodeState) bigInt(tag uint8) (any, error) {
	var n int
	if tag == tagSmallBig {
		v, err := s.u8("big integer")
		if err != nil {
			return nil, err
		}
		n = int(v)
	} else {
		v, err := s.u32("big integer")
		if err != nil {
			return nil, err
		}
		if int64(v) > int64(s.maxBig) {
			return nil, fmt.Errorf("%w: big integer of %d bytes", ErrLimit, v)
		}
		n = int(v)
	}
	sign, err := s.u8("big integer")
	if err != nil {
		return nil, err
	}
	digits, err := s.take(n, "big integer")
	if err != nil {
		return nil, err
	}
	if sign > 1 {
		return nil, fmt.Errorf("%w: big integer sign %d", ErrMalformed, sign)
	}
	if n <= 8 {
		var u uint64
		for i := n - 1; i >= 0; i-- {
			u = u<<8 | uint64(digits[i])
		}
		switch {
		case sign == 0 && u <= math.MaxInt64:
			return int64(u), nil
		case sign == 1 && u <= 1<<63:
			return -int64(u-1) - 1, nil
		}
	}
	be := make([]byte, n)
	for i, d := range digits {
		be[n-1-i] = d
	}
	v := new(big.Int).SetBytes(be)
	if sign == 1 {
		v.Neg(v)
	}
	return v, nil
}

func (s *decodeState) atomRef() (Atom, error) {
	i, err := s.u8("atom cache reference")
	if err != nil {
		return "", err
	}
	if int(i) >= len(s.atomRefs) {
		return "", fmt.Errorf("%w: atom cache reference %d of %d", ErrMalformed, i, len(s.atomRefs))
	}
	return s.atomRefs[i], nil
}

func (s *decodeState) atom() (Atom, error) {
	tag, err := s.u8("atom")
	if err != nil {
		return "", err
	}
	switch tag {
	case tagAtomCacheRef:
		return s.atomRef()
	case tagAtom, tagSmallAtom, tagAtomUTF8, tagSmallAtomUTF8:
		return s.atomBody(tag)
	}
	return "", fmt.Errorf("%w: tag %d where an atom belongs", ErrMalformed, tag)
}

func (s *decodeState) atomBody(tag uint8) (Atom, error) {
	var n int
	var err error
	if tag == tagSmallAtom || tag == tagSmallAtomUTF8 {
		var v uint8
		v, err = s.u8("atom")
		n = int(v)
	} else {
		n, err = s.u16("atom")
	}
	if err != nil {
		return "", err
	}
	b, err := s.take(n, "atom")
	if err != nil {
		return "", err
	}
	if tag == tagAtom || tag == tagSmallAtom {
		if n > maxAtomChars {
			return "", fmt.Errorf("%w: atom of %d characters", ErrMalformed, n)
		}
		// Latin-1: each byte is its code point.
		if isASCII(b) {
			return Atom(b), nil
		}
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return Atom(string(r)), nil
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%w: atom is not UTF-8", ErrMalformed)
	}
	if utf8.RuneCount(b) > maxAtomChars {
		return "", fmt.Errorf("%w: atom of %d characters", ErrMalformed, utf8.RuneCount(b))
	}
	return Atom(b), nil
}

// maxAtomChars is Erlang's limit on an atom's length in characters.
const maxAtomChars = 255

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func (s *decodeState) pid(tag uint8) (any, error) {
	node, err := s.atom()
	if err != nil {
		return nil, err
	}
	id, err := s.u32("pid")
	if err != nil {
		return nil, err
	}
	serial, err := s.u32("pid")
	if err != nil {
		return nil, err
	}
	var cr uint32
	if tag == tagNewPid {
		cr, err = s.u32("pid")
	} else {
		var c uint8
		c, err = s.u8("pid")
		cr = uint32(c)
	}
	return Pid{Node: node, ID: id, Serial: serial, Creation: cr}, err
}

func (s *decodeState) port(tag uint8) (any, error) {
	node, err := s.atom()
	if err != nil {
		return nil, err
	}
	var id uint64
	if tag == tagV4Port {
		b, err := s.take(8, "port")
		if err != nil {
			return nil, err
		}
		id = binary.BigEndian.Uint64(b)
	} else {
		v, err := s.u32("port")
		if err != nil {
			return nil, err
		}
		id = uint64(v)
	}
	var cr uint32
	if tag == tagPort {
		var c uint8
		c, err = s.u8("port")
		cr = uint32(c)
	} else {
		cr, err = s.u32("port")
	}
	return Port{Node: node, ID: id, Creation: cr}, err
}

func (s *decodeState) newRef(tag uint8) (any, error) {
	n, err := s.u16("reference")
	if err != nil {
		return nil, err
	}
	if n < 1 || n > maxRefWords {
		return nil, fmt.Errorf("%w: reference of %d words", ErrMalformed, n)
	}
	node, err := s.atom()
	if err != nil {
		return nil, err
	}
	var cr uint32
	if tag == tagNewerReference {
		cr, err = s.u32("reference")
	} else {
		var c uint8
		c, err = s.u8("reference")
		cr = uint32(c)
	}
	if err != nil {
		return nil, err
	}
	ids := make([]uint32, n)
	for i := range ids {
		if ids[i], err = s.u32("reference"); err != nil {
			return nil, err
		}
	}
	return Ref{Node: node, Creation: cr, IDs: ids}, nil
}

// maxRefWords is the most words a reference has (five since OTP 24).
const maxRefWords = 5
