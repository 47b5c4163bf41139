package wire

import (
	"encoding"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"hash/fnv"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// The encoding of types registered with Register: the value's fields in
// their order, with no names and no type description, behind four bytes of
// the type's layout fingerprint (field names, kinds and their order,
// recursively), so that two nodes whose definitions of a type differ get
// an error rather than each other's fields in the wrong places.
//
//	bool            one byte, 0 or 1
//	signed ints     zigzag varint
//	unsigned ints   varint
//	float32/64      4/8 bytes, little endian, IEEE 754
//	complex64/128   two floats
//	string, []byte  varint length, bytes
//	slice           varint length, elements
//	array           elements
//	map             varint length, key and value pairs
//	struct          exported fields in order (func, chan and unsafe
//	                pointer fields are left out, as gob leaves them; a
//	                struct whose state is all unexported is refused)
//	pointer         0 for nil, else 1 and the value pointed to
//	interface       0 for nil, else 1 and the value as a message body
//	                (anything a message may be: builtin, registered, proto)
//	self-encoding   varint length, then the bytes of GobEncode, else
//	                MarshalBinary, else MarshalText, on T or *T
//	                (time.Time, math/big's numbers)
//
// Decoding allocates in proportion to the input: every length is checked
// against the bytes left before anything is made for it.

// maxZeroSizeElems bounds a slice or map whose elements encode to no bytes
// (structs of left-out fields), which the input length cannot bound.
const maxZeroSizeElems = 1 << 16

// errStructDepth: nesting beyond maxDepth, which also ends a cyclic value
// (a pointer back into itself) at encode.
var errStructDepth = fmt.Errorf("wire: value nested more than %d deep (a cycle?): %w", maxDepth, ErrMalformed)

type structCodec struct {
	enc func(b []byte, v reflect.Value, depth int) ([]byte, error)
	dec func(b []byte, v reflect.Value, depth int) ([]byte, error) // v is settable
	min int                                                        // fewest bytes a value encodes to
}

var (
	binaryMarshaler   = reflect.TypeFor[encoding.BinaryMarshaler]()
	binaryUnmarshaler = reflect.TypeFor[encoding.BinaryUnmarshaler]()
)

// compiler builds codecs, sharing one per type (recursive types refer to
// the codec being built). What it builds joins the shared table only when
// the whole type compiled.
type compiler struct {
	done   map[reflect.Type]*structCodec // the shared table, read only here
	codecs map[reflect.Type]*structCodec // built by this compilation
	layout map[reflect.Type]int          // types being described: their position
}

var (
	codecsMu sync.Mutex
	codecs   = map[reflect.Type]*structCodec{}
)

// codecFor returns t's codec and its layout fingerprint, or why t cannot
// be encoded.
func codecFor(t reflect.Type) (*structCodec, uint32, error) {
	codecsMu.Lock()
	defer codecsMu.Unlock()
	c := &compiler{done: codecs, codecs: map[reflect.Type]*structCodec{}}
	sc, err := c.compile(t)
	if err != nil {
		return nil, 0, err
	}
	for t, sc := range c.codecs {
		codecs[t] = sc
	}
	var sb strings.Builder
	c.layout = map[reflect.Type]int{}
	c.describe(&sb, t)
	h := fnv.New32a()
	h.Write([]byte(sb.String()))
	return sc, h.Sum32(), nil
}

// marshaler is how a type that encodes itself does it: gob's interface
// first (math/big's types have only it and text), then binary, then text.
type marshaler struct {
	enc func(any) ([]byte, error)
	dec func(any, []byte) error
}

var marshalers = []struct {
	out, in reflect.Type
	m       marshaler
}{
	{reflect.TypeFor[gob.GobEncoder](), reflect.TypeFor[gob.GobDecoder](), marshaler{
		func(x any) ([]byte, error) { return x.(gob.GobEncoder).GobEncode() },
		func(x any, b []byte) error { return x.(gob.GobDecoder).GobDecode(b) }}},
	{binaryMarshaler, binaryUnmarshaler, marshaler{
		func(x any) ([]byte, error) { return x.(encoding.BinaryMarshaler).MarshalBinary() },
		func(x any, b []byte) error { return x.(encoding.BinaryUnmarshaler).UnmarshalBinary(b) }}},
	{reflect.TypeFor[encoding.TextMarshaler](), reflect.TypeFor[encoding.TextUnmarshaler](), marshaler{
		func(x any) ([]byte, error) { return x.(encoding.TextMarshaler).MarshalText() },
		func(x any, b []byte) error { return x.(encoding.TextUnmarshaler).UnmarshalText(b) }}},
}

// marshalerOf returns how t encodes itself (on a T or a *T), if it does.
func marshalerOf(t reflect.Type) (marshaler, bool) {
	if t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface {
		return marshaler{}, false // the pointer's codec reaches the type itself
	}
	pt := reflect.PointerTo(t)
	for _, m := range marshalers {
		if pt.Implements(m.out) && pt.Implements(m.in) {
			return m.m, true
		}
	}
	return marshaler{}, false
}

func marshals(t reflect.Type) bool {
	_, ok := marshalerOf(t)
	return ok
}

func leftOut(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return true
	}
	return false
}

// describe writes t's layout: what the fingerprint is made of.
func (c *compiler) describe(sb *strings.Builder, t reflect.Type) {
	if i, ok := c.layout[t]; ok {
		fmt.Fprintf(sb, "@%d", i)
		return
	}
	if marshals(t) {
		sb.WriteString("bin")
		return
	}
	c.layout[t] = len(c.layout)
	switch t.Kind() {
	case reflect.Struct:
		sb.WriteString("{")
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || leftOut(f.Type) {
				continue
			}
			sb.WriteString(f.Name)
			sb.WriteString(":")
			c.describe(sb, f.Type)
			sb.WriteString(";")
		}
		sb.WriteString("}")
	case reflect.Slice:
		sb.WriteString("[]")
		c.describe(sb, t.Elem())
	case reflect.Array:
		sb.WriteString("[" + strconv.Itoa(t.Len()) + "]")
		c.describe(sb, t.Elem())
	case reflect.Map:
		sb.WriteString("map[")
		c.describe(sb, t.Key())
		sb.WriteString("]")
		c.describe(sb, t.Elem())
	case reflect.Pointer:
		sb.WriteString("*")
		c.describe(sb, t.Elem())
	default:
		sb.WriteString(t.Kind().String())
	}
}

func (c *compiler) compile(t reflect.Type) (*structCodec, error) {
	if sc, ok := c.done[t]; ok {
		return sc, nil
	}
	if sc, ok := c.codecs[t]; ok {
		return sc, nil
	}
	if m, ok := marshalerOf(t); ok {
		sc := marshalerCodec(t, m)
		c.codecs[t] = sc
		return sc, nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return c.keep(t, &structCodec{enc: encBool, dec: decBool, min: 1}), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return c.keep(t, &structCodec{enc: encInt, dec: decInt, min: 1}), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return c.keep(t, &structCodec{enc: encUint, dec: decUint, min: 1}), nil
	case reflect.Float32, reflect.Float64:
		return c.keep(t, floatCodec(t.Bits())), nil
	case reflect.Complex64, reflect.Complex128:
		return c.keep(t, complexCodec(t.Bits())), nil
	case reflect.String:
		return c.keep(t, &structCodec{enc: encString, dec: decString, min: 1}), nil
	case reflect.Interface:
		return c.keep(t, &structCodec{enc: encIface, dec: decIface, min: 1}), nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return c.keep(t, &structCodec{enc: encBytes, dec: decBytes, min: 1}), nil
		}
		sc := c.keep(t, &structCodec{min: 1})
		elem, err := c.compile(t.Elem())
		if err != nil {
			return nil, err
		}
		sc.enc, sc.dec = sliceCodec(t, elem)
		return sc, nil
	case reflect.Array:
		sc := c.keep(t, &structCodec{})
		elem, err := c.compile(t.Elem())
		if err != nil {
			return nil, err
		}
		sc.enc, sc.dec, sc.min = arrayCodec(t, elem)
		return sc, nil
	case reflect.Map:
		sc := c.keep(t, &structCodec{min: 1})
		key, err := c.compile(t.Key())
		if err != nil {
			return nil, err
		}
		elem, err := c.compile(t.Elem())
		if err != nil {
			return nil, err
		}
		sc.enc, sc.dec = mapCodec(t, key, elem)
		return sc, nil
	case reflect.Pointer:
		sc := c.keep(t, &structCodec{min: 1})
		elem, err := c.compile(t.Elem())
		if err != nil {
			return nil, err
		}
		sc.enc, sc.dec = pointerCodec(t, elem)
		return sc, nil
	case reflect.Struct:
		sc := c.keep(t, &structCodec{})
		var fields []int
		var fcs []*structCodec
		hidden := false
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || leftOut(f.Type) {
				hidden = hidden || !f.IsExported()
				continue
			}
			fc, err := c.compile(f.Type)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			fields, fcs = append(fields, i), append(fcs, fc)
		}
		if len(fields) == 0 && hidden {
			// Its state is all in unexported fields (a sync.Mutex, say):
			// it would arrive empty. gob refuses it too.
			return nil, fmt.Errorf("wire: %s has no exported fields", t)
		}
		sc.enc, sc.dec, sc.min = structFieldsCodec(fields, fcs)
		return sc, nil
	}
	return nil, fmt.Errorf("wire: %s values cannot be encoded", t)
}

func (c *compiler) keep(t reflect.Type, sc *structCodec) *structCodec {
	c.codecs[t] = sc
	return sc
}

func need(b []byte, n int) error {
	if len(b) < n {
		return fmt.Errorf("wire: value cut short: %w", ErrMalformed)
	}
	return nil
}

func readLen(b []byte, min int, elemSize uintptr) (int, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return 0, b, fmt.Errorf("wire: bad length: %w", ErrMalformed)
	}
	b = b[k:]
	switch {
	case min > 0 && n > uint64(len(b)/min):
		return 0, b, fmt.Errorf("wire: length %d exceeds the %d bytes left: %w", n, len(b), ErrMalformed)
	case min == 0 && elemSize > 0 && n > maxZeroSizeElems:
		return 0, b, fmt.Errorf("wire: length %d of elements with no encoding: %w", n, ErrMalformed)
	case n > math.MaxInt32:
		return 0, b, fmt.Errorf("wire: length %d: %w", n, ErrMalformed)
	}
	return int(n), b, nil
}

func encBool(b []byte, v reflect.Value, _ int) ([]byte, error) {
	if v.Bool() {
		return append(b, 1), nil
	}
	return append(b, 0), nil
}

func decBool(b []byte, v reflect.Value, _ int) ([]byte, error) {
	if err := need(b, 1); err != nil {
		return b, err
	}
	if b[0] > 1 {
		return b, fmt.Errorf("wire: bool %d: %w", b[0], ErrMalformed)
	}
	v.SetBool(b[0] == 1)
	return b[1:], nil
}

func encInt(b []byte, v reflect.Value, _ int) ([]byte, error) {
	return binary.AppendVarint(b, v.Int()), nil
}

func decInt(b []byte, v reflect.Value, _ int) ([]byte, error) {
	x, k := binary.Varint(b)
	if k <= 0 {
		return b, fmt.Errorf("wire: bad integer: %w", ErrMalformed)
	}
	if v.OverflowInt(x) {
		return b, fmt.Errorf("wire: %d overflows %s: %w", x, v.Type(), ErrMalformed)
	}
	v.SetInt(x)
	return b[k:], nil
}

func encUint(b []byte, v reflect.Value, _ int) ([]byte, error) {
	return binary.AppendUvarint(b, v.Uint()), nil
}

func decUint(b []byte, v reflect.Value, _ int) ([]byte, error) {
	x, k := binary.Uvarint(b)
	if k <= 0 {
		return b, fmt.Errorf("wire: bad integer: %w", ErrMalformed)
	}
	if v.OverflowUint(x) {
		return b, fmt.Errorf("wire: %d overflows %s: %w", x, v.Type(), ErrMalformed)
	}
	v.SetUint(x)
	return b[k:], nil
}

// appendFloat appends f in bits (32 or 64) bits, little endian.
func appendFloat(b []byte, f float64, bits int) []byte {
	if bits == 32 {
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(f)))
	}
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

// readFloat reads what appendFloat appends.
func readFloat(b []byte, bits int) (float64, []byte, error) {
	n := bits / 8
	if err := need(b, n); err != nil {
		return 0, b, err
	}
	if bits == 32 {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), b[n:], nil
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b)), b[n:], nil
}

// floatCodec is the codec of a float of bits bits.
func floatCodec(bits int) *structCodec {
	return &structCodec{min: bits / 8,
		enc: func(b []byte, v reflect.Value, _ int) ([]byte, error) { return appendFloat(b, v.Float(), bits), nil },
		dec: func(b []byte, v reflect.Value, _ int) ([]byte, error) {
			f, b, err := readFloat(b, bits)
			if err == nil {
				v.SetFloat(f)
			}
			return b, err
		},
	}
}

// complexCodec is the codec of a complex of bits bits: its two halves.
func complexCodec(bits int) *structCodec {
	half := bits / 2
	return &structCodec{min: bits / 8,
		enc: func(b []byte, v reflect.Value, _ int) ([]byte, error) {
			c := v.Complex()
			return appendFloat(appendFloat(b, real(c), half), imag(c), half), nil
		},
		dec: func(b []byte, v reflect.Value, _ int) ([]byte, error) {
			re, b, err := readFloat(b, half)
			if err != nil {
				return b, err
			}
			im, b, err := readFloat(b, half)
			if err == nil {
				v.SetComplex(complex(re, im))
			}
			return b, err
		},
	}
}

func encString(b []byte, v reflect.Value, _ int) ([]byte, error) {
	s := v.String()
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...), nil
}

func decString(b []byte, v reflect.Value, _ int) ([]byte, error) {
	n, b, err := readLen(b, 1, 1)
	if err != nil {
		return b, err
	}
	v.SetString(string(b[:n]))
	return b[n:], nil
}

func encBytes(b []byte, v reflect.Value, _ int) ([]byte, error) {
	p := v.Bytes()
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...), nil
}

func decBytes(b []byte, v reflect.Value, _ int) ([]byte, error) {
	n, b, err := readLen(b, 1, 1)
	if err != nil {
		return b, err
	}
	if n > 0 {
		p := reflect.MakeSlice(v.Type(), n, n)
		copy(p.Bytes(), b[:n])
		v.Set(p)
	}
	return b[n:], nil
}

// An interface holds any message body: builtin, registered or proto.
func encIface(b []byte, v reflect.Value, depth int) ([]byte, error) {
	if v.IsNil() {
		return append(b, 0), nil
	}
	var x valueEncoding
	if err := x.prepareAt(v.Elem().Interface(), depth+1); err != nil {
		return b, err
	}
	body, err := x.append(nil)
	if err != nil {
		return b, err
	}
	b = append(b, 1)
	b = binary.AppendUvarint(b, uint64(len(body)))
	return append(b, body...), nil
}

func decIface(b []byte, v reflect.Value, depth int) ([]byte, error) {
	if err := need(b, 1); err != nil {
		return b, err
	}
	if b[0] == 0 {
		return b[1:], nil
	}
	n, b, err := readLen(b[1:], 1, 1)
	if err != nil {
		return b, err
	}
	x, ok, err := decodeValueAt(b[:n], depth+1)
	if err == nil && !ok {
		x, ok, err = valueSlowAt(b[:n], depth+1)
	}
	if err != nil {
		return b, err
	}
	if !ok {
		return b, fmt.Errorf("wire: bad interface value: %w", ErrMalformed)
	}
	if x == nil {
		return b[n:], nil
	}
	xv := reflect.ValueOf(x)
	if !xv.Type().AssignableTo(v.Type()) {
		return b, fmt.Errorf("wire: a %T does not fit a %s: %w", x, v.Type(), ErrMalformed)
	}
	v.Set(xv)
	return b[n:], nil
}

func marshalerCodec(t reflect.Type, m marshaler) *structCodec {
	return &structCodec{min: 1,
		enc: func(b []byte, v reflect.Value, _ int) ([]byte, error) {
			// The methods may want a pointer: a map's values are not
			// addressable, so those are copied.
			if !v.CanAddr() {
				c := reflect.New(t).Elem()
				c.Set(v)
				v = c
			}
			p, err := m.enc(v.Addr().Interface())
			if err != nil {
				return b, err
			}
			b = binary.AppendUvarint(b, uint64(len(p)))
			return append(b, p...), nil
		},
		dec: func(b []byte, v reflect.Value, _ int) ([]byte, error) {
			n, b, err := readLen(b, 1, 1)
			if err != nil {
				return b, err
			}
			if err := m.dec(v.Addr().Interface(), b[:n]); err != nil {
				return b, fmt.Errorf("wire: %s: %w", t, err)
			}
			return b[n:], nil
		},
	}
}

func sliceCodec(t reflect.Type, elem *structCodec) (encFn, decFn) {
	size := t.Elem().Size()
	return func(b []byte, v reflect.Value, depth int) ([]byte, error) {
			if depth > maxDepth {
				return b, errStructDepth
			}
			n := v.Len()
			b = binary.AppendUvarint(b, uint64(n))
			var err error
			for i := range n {
				if b, err = elem.enc(b, v.Index(i), depth+1); err != nil {
					return b, err
				}
			}
			return b, nil
		}, func(b []byte, v reflect.Value, depth int) ([]byte, error) {
			if depth > maxDepth {
				return b, errStructDepth
			}
			n, b, err := readLen(b, elem.min, size)
			if err != nil || n == 0 {
				return b, err
			}
			s := reflect.MakeSlice(t, n, n)
			for i := range n {
				if b, err = elem.dec(b, s.Index(i), depth+1); err != nil {
					return b, err
				}
			}
			v.Set(s)
			return b, nil
		}
}

type (
	encFn = func(b []byte, v reflect.Value, depth int) ([]byte, error)
	decFn = func(b []byte, v reflect.Value, depth int) ([]byte, error)
)

func arrayCodec(t reflect.Type, elem *structCodec) (encFn, decFn, int) {
	n := t.Len()
	return func(b []byte, v reflect.Value, depth int) ([]byte, error) {
			var err error
			for i := range n {
				if b, err = elem.enc(b, v.Index(i), depth+1); err != nil {
					return b, err
				}
			}
			return b, nil
		}, func(b []byte, v reflect.Value, depth int) ([]byte, error) {
			if depth > maxDepth {
				return b, errStructDepth
			}
			var err error
			for i := range n {
				if b, err = elem.dec(b, v.Index(i), depth+1); err != nil {
					return b, err
				}
			}
			return b, nil
		}, min(n*elem.min, math.MaxInt32)
}

func mapCodec(t reflect.Type, key, elem *structCodec) (encFn, decFn) {
	size := t.Key().Size() + t.Elem().Size()
	return func(b []byte, v reflect.Value, depth int) ([]byte, error) {
			if depth > maxDepth {
				return b, errStructDepth
			}
			b = binary.AppendUvarint(b, uint64(v.Len()))
			it := v.MapRange()
			var err error
			for it.Next() {
				if b, err = key.enc(b, it.Key(), depth+1); err != nil {
					return b, err
				}
				if b, err = elem.enc(b, it.Value(), depth+1); err != nil {
					return b, err
				}
			}
			return b, nil
		}, func(b []byte, v reflect.Value, depth int) ([]byte, error) {
			if depth > maxDepth {
				return b, errStructDepth
			}
			n, b, err := readLen(b, key.min+elem.min, size)
			if err != nil || n == 0 {
				return b, err
			}
			m := reflect.MakeMapWithSize(t, n)
			k, e := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
			for range n {
				k.SetZero()
				e.SetZero()
				if b, err = key.dec(b, k, depth+1); err != nil {
					return b, err
				}
				if b, err = elem.dec(b, e, depth+1); err != nil {
					return b, err
				}
				m.SetMapIndex(k, e)
			}
			v.Set(m)
			return b, nil
		}
}

func pointerCodec(t reflect.Type, elem *structCodec) (encFn, decFn) {
	return func(b []byte, v reflect.Value, depth int) ([]byte, error) {
			if v.IsNil() {
				return append(b, 0), nil
			}
			if depth > maxDepth {
				return b, errStructDepth
			}
			return elem.enc(append(b, 1), v.Elem(), depth+1)
		}, func(b []byte, v reflect.Value, depth int) ([]byte, error) {
			if err := need(b, 1); err != nil {
				return b, err
			}
			switch b[0] {
			case 0:
				return b[1:], nil
			case 1:
			default:
				return b, fmt.Errorf("wire: pointer mark %d: %w", b[0], ErrMalformed)
			}
			if depth > maxDepth {
				return b, errStructDepth
			}
			p := reflect.New(t.Elem())
			b, err := elem.dec(b[1:], p.Elem(), depth+1)
			if err != nil {
				return b, err
			}
			v.Set(p)
			return b, nil
		}
}

func structFieldsCodec(fields []int, fcs []*structCodec) (encFn, decFn, int) {
	n := 0
	for _, fc := range fcs {
		n = min(n+fc.min, math.MaxInt32)
	}
	return func(b []byte, v reflect.Value, depth int) ([]byte, error) {
			if depth > maxDepth {
				return b, errStructDepth
			}
			var err error
			for i, f := range fields {
				if b, err = fcs[i].enc(b, v.Field(f), depth+1); err != nil {
					return b, err
				}
			}
			return b, nil
		}, func(b []byte, v reflect.Value, depth int) ([]byte, error) {
			if depth > maxDepth {
				return b, errStructDepth
			}
			var err error
			for i, f := range fields {
				if b, err = fcs[i].dec(b, v.Field(f), depth+1); err != nil {
					return b, err
				}
			}
			return b, nil
		}, n
}

// fieldsCodec is Register's codec for T, or why T cannot have one.
func fieldsCodec[T any]() (func(T, int) ([]byte, error), func([]byte, int) (T, error), error) {
	t := reflect.TypeFor[T]()
	sc, print, err := codecFor(t)
	if err != nil {
		return nil, nil, err
	}
	enc := func(v T, depth int) ([]byte, error) {
		b := binary.LittleEndian.AppendUint32(make([]byte, 0, 64), print)
		return sc.enc(b, reflect.ValueOf(&v).Elem(), depth)
	}
	dec := func(data []byte, depth int) (T, error) {
		var v T
		if len(data) < 4 || binary.LittleEndian.Uint32(data) != print {
			return v, fmt.Errorf("wire: %s: the sender's definition of the type differs from this node's (its fields, their types or their order): %w", t, ErrMalformed)
		}
		rest, err := sc.dec(data[4:], reflect.ValueOf(&v).Elem(), depth)
		if err != nil {
			return v, err
		}
		if len(rest) > 0 {
			return v, fmt.Errorf("wire: %s: %d bytes after the value: %w", t, len(rest), ErrMalformed)
		}
		return v, nil
	}
	return enc, dec, nil
}
