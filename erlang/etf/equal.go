package etf

import (
	"bytes"
	"math/big"
)

// Equal reports whether a and b are the same term, as Erlang's =:= does: an
// integer never equals a float, a charlist equals the list of its bytes, a
// string equals the binary of its bytes, true equals the atom true, and maps
// are equal whatever the order of their entries.
func Equal(a, b any) bool {
	if x, ok := integer(a); ok {
		y, ok := integer(b)
		return ok && x.Cmp(y) == 0
	}
	switch x := a.(type) {
	case bool:
		x2, ok := boolean(b)
		return ok && x == x2
	case Atom:
		if xb, ok := boolean(x); ok {
			yb, ok := boolean(b)
			return ok && xb == yb
		}
		y, ok := b.(Atom)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case float32:
		return Equal(float64(x), b)
	case string, []byte:
		xb, _ := binaryOf(x)
		yb, ok := binaryOf(b)
		return ok && bytes.Equal(xb, yb)
	case BitBinary:
		y, ok := b.(BitBinary)
		return ok && x.Bits == y.Bits && bytes.Equal(x.Bytes, y.Bytes)
	case Tuple:
		y, ok := b.(Tuple)
		return ok && equalAll(x, y)
	case nil, List, []any, Charlist:
		xl, _ := listOf(x)
		yl, ok := listOf(b)
		return ok && equalAll(xl, yl)
	case ImproperList:
		y, ok := b.(ImproperList)
		return ok && equalAll(x.Elems, y.Elems) && Equal(x.Tail, y.Tail)
	case Map:
		y, ok := b.(Map)
		if !ok || len(x) != len(y) {
			return false
		}
		for _, p := range x {
			v, ok := y.Get(p.Key)
			if !ok || !Equal(p.Value, v) {
				return false
			}
		}
		return true
	case Pid:
		y, ok := b.(Pid)
		return ok && x == y
	case Port:
		y, ok := b.(Port)
		return ok && x == y
	case Ref:
		y, ok := b.(Ref)
		if !ok || x.Node != y.Node || x.Creation != y.Creation || len(x.IDs) != len(y.IDs) {
			return false
		}
		for i := range x.IDs {
			if x.IDs[i] != y.IDs[i] {
				return false
			}
		}
		return true
	}
	return false
}

func equalAll(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func integer(v any) (*big.Int, bool) {
	switch v := v.(type) {
	case int:
		return big.NewInt(int64(v)), true
	case int8:
		return big.NewInt(int64(v)), true
	case int16:
		return big.NewInt(int64(v)), true
	case int32:
		return big.NewInt(int64(v)), true
	case int64:
		return big.NewInt(v), true
	case uint:
		return new(big.Int).SetUint64(uint64(v)), true
	case uint8:
		return big.NewInt(int64(v)), true
	case uint16:
		return big.NewInt(int64(v)), true
	case uint32:
		return big.NewInt(int64(v)), true
	case uint64:
		return new(big.Int).SetUint64(v), true
	case *big.Int:
		return v, v != nil
	}
	return nil, false
}

func boolean(v any) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case Atom:
		switch v {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

func binaryOf(v any) ([]byte, bool) {
	switch v := v.(type) {
	case string:
		return []byte(v), true
	case []byte:
		return v, true
	}
	return nil, false
}

func listOf(v any) ([]any, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case List:
		return v, true
	case []any:
		return v, true
	case Charlist:
		out := make([]any, len(v))
		for i := 0; i < len(v); i++ {
			out[i] = int64(v[i])
		}
		return out, true
	}
	return nil, false
}
