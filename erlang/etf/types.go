package etf

import (
	"errors"
	"fmt"
	"strings"
)

// Atom is an Erlang atom. The atoms true and false are Go bools both ways.
type Atom string

// Tuple is an Erlang tuple.
type Tuple []any

// List is a proper Erlang list. The empty list ([]) decodes as an empty,
// non-nil List.
type List []any

// ImproperList is a list whose tail is not a list: [Elems... | Tail].
type ImproperList struct {
	Elems []any
	Tail  any
}

// Charlist is a list of bytes as Erlang sends it compactly (STRING_EXT):
// "abc" in Erlang source is one. It encodes back the same way.
type Charlist string

// BitBinary is a bitstring whose length is not a whole number of bytes: the
// last byte holds Bits (1..7) significant bits, the high ones.
type BitBinary struct {
	Bytes []byte
	Bits  uint8
}

// Map is an Erlang map, its entries in the order they arrived. Keys may be
// any term, tuples and lists included, so it is not a Go map.
type Map []Pair

// Pair is one entry of a Map.
type Pair struct {
	Key, Value any
}

// Get returns the value for key (compared with Equal) and whether there is
// one.
func (m Map) Get(key any) (any, bool) {
	for _, p := range m {
		if Equal(p.Key, key) {
			return p.Value, true
		}
	}
	return nil, false
}

// Pid is an Erlang process identifier.
type Pid struct {
	Node     Atom
	ID       uint32
	Serial   uint32
	Creation uint32
}

func (p Pid) String() string { return fmt.Sprintf("<%s.%d.%d>", p.Node, p.ID, p.Serial) }

// Ref is an Erlang reference: up to five 32-bit words (three before OTP 24,
// five for a process alias' reference since).
type Ref struct {
	Node     Atom
	Creation uint32
	IDs      []uint32
}

func (r Ref) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#Ref<%s", r.Node)
	for i := len(r.IDs) - 1; i >= 0; i-- {
		fmt.Fprintf(&b, ".%d", r.IDs[i])
	}
	b.WriteString(">")
	return b.String()
}

// Port is an Erlang port identifier.
type Port struct {
	Node     Atom
	ID       uint64
	Creation uint32
}

// Errors of the codec.
var (
	// ErrMalformed: the bytes are not a well-formed term (cut short, an
	// unknown tag, a length past the end, a bad atom).
	ErrMalformed = errors.New("etf: malformed term")
	// ErrUnsupported: a well-formed term this codec does not carry (funs,
	// export funs, local terms), or a Go value with no Erlang counterpart.
	ErrUnsupported = errors.New("etf: unsupported term")
	// ErrLimit: the term is past a Decoder limit (depth, size).
	ErrLimit = errors.New("etf: term past a limit")
)
