package etf

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"unicode/utf8"
)

// Encode encodes v as a term in the external format, starting with the
// version byte 131. See the package documentation for the Go values it
// takes.
func Encode(v any) ([]byte, error) { return Append([]byte{tagVersion}, v) }

// Append appends the encoding of v to dst, without a version byte (as the
// distribution header's messages carry terms).
func Append(dst []byte, v any) ([]byte, error) {
	return appendTerm(dst, v, 0)
}

func appendTerm(b []byte, v any, depth int) ([]byte, error) {
	if depth > defaultMaxDepth {
		return b, fmt.Errorf("%w: nested deeper than %d", ErrLimit, defaultMaxDepth)
	}
	switch v := v.(type) {
	case nil:
		return append(b, tagNil), nil
	case bool:
		if v {
			return appendAtom(b, "true")
		}
		return appendAtom(b, "false")
	case Atom:
		return appendAtom(b, v)
	case int:
		return appendInt(b, int64(v)), nil
	case int8:
		return appendInt(b, int64(v)), nil
	case int16:
		return appendInt(b, int64(v)), nil
	case int32:
		return appendInt(b, int64(v)), nil
	case int64:
		return appendInt(b, v), nil
	case uint:
		return appendUint(b, uint64(v)), nil
	case uint8:
		return appendInt(b, int64(v)), nil
	case uint16:
		return appendInt(b, int64(v)), nil
	case uint32:
		return appendInt(b, int64(v)), nil
	case uint64:
		return appendUint(b, v), nil
	case *big.Int:
		if v == nil {
			return b, fmt.Errorf("%w: a nil *big.Int", ErrUnsupported)
		}
		return appendBig(b, v), nil
	case float64:
		return appendFloat(b, v)
	case float32:
		return appendFloat(b, float64(v))
	case string:
		return appendBinary(b, []byte(v)), nil
	case []byte:
		return appendBinary(b, v), nil
	case Charlist:
		if len(v) <= math.MaxUint16 {
			b = append(b, tagString)
			b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
			return append(b, v...), nil
		}
		b = append(b, tagList)
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		for i := 0; i < len(v); i++ {
			b = append(b, tagSmallInteger, v[i])
		}
		return append(b, tagNil), nil
	case BitBinary:
		if v.Bits < 1 || v.Bits > 8 || len(v.Bytes) == 0 {
			return b, fmt.Errorf("%w: bit binary of %d bytes, %d bits in the last", ErrUnsupported, len(v.Bytes), v.Bits)
		}
		b = append(b, tagBitBinary)
		b = binary.BigEndian.AppendUint32(b, uint32(len(v.Bytes)))
		b = append(b, v.Bits)
		return append(b, v.Bytes...), nil
	case Tuple:
		if len(v) <= math.MaxUint8 {
			b = append(b, tagSmallTuple, byte(len(v)))
		} else {
			b = append(b, tagLargeTuple)
			b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		}
		return appendAll(b, v, depth)
	case List:
		return appendList(b, v, nil, depth)
	case []any:
		return appendList(b, v, nil, depth)
	case ImproperList:
		if len(v.Elems) == 0 {
			return b, fmt.Errorf("%w: an improper list with no elements", ErrUnsupported)
		}
		return appendList(b, v.Elems, v.Tail, depth)
	case Map:
		b = append(b, tagMap)
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		var err error
		for _, p := range v {
			if b, err = appendTerm(b, p.Key, depth+1); err != nil {
				return b, err
			}
			if b, err = appendTerm(b, p.Value, depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	case Pid:
		b = append(b, tagNewPid)
		b, err := appendAtom(b, v.Node)
		if err != nil {
			return b, err
		}
		b = binary.BigEndian.AppendUint32(b, v.ID)
		b = binary.BigEndian.AppendUint32(b, v.Serial)
		return binary.BigEndian.AppendUint32(b, v.Creation), nil
	case Ref:
		if len(v.IDs) == 0 || len(v.IDs) > maxRefWords {
			return b, fmt.Errorf("%w: a reference of %d words", ErrUnsupported, len(v.IDs))
		}
		b = append(b, tagNewerReference)
		b = binary.BigEndian.AppendUint16(b, uint16(len(v.IDs)))
		b, err := appendAtom(b, v.Node)
		if err != nil {
			return b, err
		}
		b = binary.BigEndian.AppendUint32(b, v.Creation)
		for _, id := range v.IDs {
			b = binary.BigEndian.AppendUint32(b, id)
		}
		return b, nil
	case Port:
		tag := byte(tagNewPort)
		if v.ID > math.MaxUint32 {
			tag = tagV4Port
		}
		b = append(b, tag)
		b, err := appendAtom(b, v.Node)
		if err != nil {
			return b, err
		}
		if tag == tagV4Port {
			b = binary.BigEndian.AppendUint64(b, v.ID)
		} else {
			b = binary.BigEndian.AppendUint32(b, uint32(v.ID))
		}
		return binary.BigEndian.AppendUint32(b, v.Creation), nil
	}
	if info := registered(v); info != nil {
		return appendTerm(b, structTerm(info, v), depth)
	}
	// Any other slice is a list, any Go map a map.
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Slice, reflect.Array:
		elems := make([]any, rv.Len())
		for i := range elems {
			elems[i] = rv.Index(i).Interface()
		}
		return appendList(b, elems, nil, depth)
	case reflect.Map:
		m := make(Map, 0, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			m = append(m, Pair{Key: it.Key().Interface(), Value: it.Value().Interface()})
		}
		return appendTerm(b, m, depth)
	}
	return b, fmt.Errorf("%w: Go %T", ErrUnsupported, v)
}

func appendAll(b []byte, elems []any, depth int) ([]byte, error) {
	var err error
	for _, e := range elems {
		if b, err = appendTerm(b, e, depth+1); err != nil {
			return b, err
		}
	}
	return b, nil
}

// appendList writes elems as a list with tail (nil: a proper list).
func appendList(b []byte, elems []any, tail any, depth int) ([]byte, error) {
	if len(elems) == 0 && tail == nil {
		return append(b, tagNil), nil
	}
	b = append(b, tagList)
	b = binary.BigEndian.AppendUint32(b, uint32(len(elems)))
	b, err := appendAll(b, elems, depth)
	if err != nil {
		return b, err
	}
	if tail == nil {
		return append(b, tagNil), nil
	}
	return appendTerm(b, tail, depth+1)
}

func appendAtom(b []byte, a Atom) ([]byte, error) {
	if !utf8.ValidString(string(a)) {
		return b, fmt.Errorf("%w: atom %q is not UTF-8", ErrUnsupported, a)
	}
	if n := utf8.RuneCountInString(string(a)); n > maxAtomChars {
		return b, fmt.Errorf("%w: atom of %d characters (Erlang's limit is %d)", ErrUnsupported, n, maxAtomChars)
	}
	if len(a) <= math.MaxUint8 {
		b = append(b, tagSmallAtomUTF8, byte(len(a)))
	} else {
		b = append(b, tagAtomUTF8)
		b = binary.BigEndian.AppendUint16(b, uint16(len(a)))
	}
	return append(b, a...), nil
}

func appendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0 && v <= math.MaxUint8:
		return append(b, tagSmallInteger, byte(v))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		b = append(b, tagInteger)
		return binary.BigEndian.AppendUint32(b, uint32(int32(v)))
	}
	sign, u := byte(0), uint64(v)
	if v < 0 {
		sign, u = 1, uint64(-(v+1))+1
	}
	return appendSmallBig(b, sign, u)
}

func appendUint(b []byte, v uint64) []byte {
	if v <= math.MaxInt64 {
		return appendInt(b, int64(v))
	}
	return appendSmallBig(b, 0, v)
}

func appendSmallBig(b []byte, sign byte, u uint64) []byte {
	var digits [8]byte
	n := 0
	for ; u > 0; u >>= 8 {
		digits[n] = byte(u)
		n++
	}
	b = append(b, tagSmallBig, byte(n), sign)
	return append(b, digits[:n]...)
}

func appendBig(b []byte, v *big.Int) []byte {
	if v.IsInt64() {
		return appendInt(b, v.Int64())
	}
	be := new(big.Int).Abs(v).Bytes()
	n := len(be)
	if n <= math.MaxUint8 {
		b = append(b, tagSmallBig, byte(n))
	} else {
		b = append(b, tagLargeBig)
		b = binary.BigEndian.AppendUint32(b, uint32(n))
	}
	sign := byte(0)
	if v.Sign() < 0 {
		sign = 1
	}
	b = append(b, sign)
	for i := n - 1; i >= 0; i-- {
		b = append(b, be[i])
	}
	return b
}

func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("%w: Erlang has no float %v", ErrUnsupported, f)
	}
	b = append(b, tagNewFloat)
	return binary.BigEndian.AppendUint64(b, math.Float64bits(f)), nil
}

func appendBinary(b []byte, data []byte) []byte {
	b = append(b, tagBinary)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}
