// Package etf is Erlang's external term format: the bytes term_to_binary
// writes and the distribution protocol carries. It decodes what a real VM
// sends and encodes Go values a VM reads back as the terms they stand for
// (its tests check both directions against erl).
//
// # Go values and Erlang terms
//
//	Erlang                      Go (decoded)                 Go (encoded from)
//	integer                     int64, *big.Int past int64   any Go integer, *big.Int
//	float                       float64                      float64, float32 (not NaN or ±Inf)
//	atom                        Atom                         Atom
//	true, false                 bool                         bool
//	binary                      []byte                       []byte, string (as UTF-8 bytes)
//	bitstring                   BitBinary                    BitBinary
//	tuple                       Tuple                        Tuple
//	list                        List ([] is an empty List)   List, []any, nil (as [])
//	improper list               ImproperList                 ImproperList
//	charlist sent compactly     Charlist                     Charlist
//	map                         Map (entries in order)       Map
//	pid, reference, port        Pid, Ref, Port               Pid, Ref, Port
//	fun, export fun             ErrUnsupported               -
//	record, map (registered)    the struct, with ToGo        a registered struct
//	list, map                   -                            any other Go slice, any Go map
//
// A Go string is a binary, as in Elixir and modern Erlang APIs; Erlang's
// "abc" (a list of character codes) arrives as a Charlist when the VM sent it
// compactly, or as a List of integers otherwise; Equal treats the two alike.
// A list whose tail is a list is one list ([1|[2]] is [1,2]), and a list of
// no cells is its tail, as the VM reads them.
//
// # Hostile input
//
// A Decoder never allocates more than its input justifies: every announced
// length is checked against the bytes that remain before anything is made, a
// compressed term is inflated as its data comes (bounded by Decoder.MaxSize,
// default 64 MiB), big integers are bounded (1 MiB by default), and nesting
// is bounded (Decoder.MaxDepth, default 256). What is not a term is
// ErrMalformed (floats that are NaN or infinite, atoms over 255 characters
// or not UTF-8, references of no words included); what is a term but does
// not cross to Go is ErrUnsupported. FuzzDecode holds the decoder to this.
//
// # Where it differs from the VM
//
//   - A reference of zero words is refused; the VM reads one.
//   - Atoms are always written as UTF-8 (SMALL_ATOM_UTF8_EXT), which every
//     VM since OTP 20 reads; latin-1 atoms are read.
//   - The atom cache of the distribution header is not used.
package etf
