package wire

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/gotp-dev/gotp/actor"
)

// typeEntry is one registered Go type.
type typeEntry struct {
	name string
	typ  reflect.Type
	// depth is how deep in lists, casts and registered values the value
	// sits, for codecs that nest values (Register's): cycles end in an
	// error, not a stack overflow.
	encode func(v any, depth int) ([]byte, error) // v holds a T or a non-nil *T
	decode func(data []byte, depth int) (any, error)
}

// registry is an immutable snapshot of what is registered; writers copy it.
type registry struct {
	byType    map[reflect.Type]*typeEntry
	byName    map[string]*typeEntry
	errs      []error // in registration order: the first match wins at encode
	errByName map[string]error
}

var (
	registryMu sync.Mutex // serializes writers
	// current is set up by a variable initializer, not init, because other
	// files' init functions register errors.
	current = func() *atomic.Pointer[registry] {
		var p atomic.Pointer[registry]
		p.Store(&registry{
			byType:    map[reflect.Type]*typeEntry{},
			byName:    map[string]*typeEntry{},
			errByName: map[string]error{},
		})
		return &p
	}()
)

func loadRegistry() *registry { return current.Load() }

// update applies change to a copy of the registry and publishes the copy if
// change returns nil.
func update(change func(r *registry) error) error {
	registryMu.Lock()
	defer registryMu.Unlock()
	old := current.Load()
	r := &registry{
		byType:    make(map[reflect.Type]*typeEntry, len(old.byType)+2),
		byName:    make(map[string]*typeEntry, len(old.byName)+1),
		errs:      append([]error(nil), old.errs...),
		errByName: make(map[string]error, len(old.errByName)+1),
	}
	for k, v := range old.byType {
		r.byType[k] = v
	}
	for k, v := range old.byName {
		r.byName[k] = v
	}
	for k, v := range old.errByName {
		r.errByName[k] = v
	}
	if err := change(r); err != nil {
		return err
	}
	current.Store(r)
	return nil
}

// builtin are the Go types with a wire form of their own; they cannot be
// registered.
var builtin = func() map[reflect.Type]bool {
	m := map[reflect.Type]bool{}
	for _, v := range []any{
		"", []byte(nil), false,
		int(0), int8(0), int16(0), int32(0), int64(0),
		uint(0), uint8(0), uint16(0), uint32(0), uint64(0),
		float32(0), float64(0),
		actor.PID{}, actor.Ref{}, actor.Name{}, actor.CastMessage{}, []any(nil),
	} {
		m[reflect.TypeOf(v)] = true
	}
	return m
}()

// Register makes values of type T (and of *T) encodable as messages, under
// name. The receiving node must register the same T under the same name; it
// decodes the message as a T (never a *T). Names are global to the program:
// use a qualified one such as "myapp.Point".
//
// The encoding is T's exported fields in their order, behind a fingerprint
// of T's layout (field names, kinds, order): a node whose definition of T
// differs gets an error, not misplaced fields; for a type that changes
// between the nodes of a cluster use RegisterGob, which matches fields by
// name. Func, chan and unsafe pointer fields are left out, as gob leaves
// them, and a struct whose state is all in unexported fields is refused. A
// type that encodes itself (GobEncode, else MarshalBinary, else
// MarshalText, on T or *T: time.Time, math/big's numbers) travels as those
// bytes; a field of interface type holds any value a message may be
// (builtin, registered, proto, an error). Pointers, slices, arrays and maps
// nest, and recursive types work; a value nested deeper than 64 (a pointer
// cycle) fails to encode. Register fails for a T that holds none of these
// (a chan, say).
//
// Register returns an error wrapping ErrDuplicate if name, T or *T is
// already registered, and an error if T has a wire form of its own (strings,
// numbers, PIDs, []any, ...), is an interface or is a proto message.
func Register[T any](name string) error {
	enc, dec, err := fieldsCodec[T]()
	if err != nil {
		return fmt.Errorf("wire: register %s as %q: %w", reflect.TypeFor[T](), name, err)
	}
	return register(name, enc, dec)
}

// RegisterGob is Register with encoding/gob, which matches fields by name:
// for a type whose definition differs between the nodes of a cluster (a
// field added in a rolling upgrade), at gob's cost (every message carries
// the type's description; encoding and decoding take microseconds where
// Register's take a fraction of one).
func RegisterGob[T any](name string) error {
	return RegisterCodec(name, gobEncode[T], gobDecode[T])
}

// MustRegister is Register for package initialization: it panics on error.
func MustRegister[T any](name string) {
	if err := Register[T](name); err != nil {
		panic(err)
	}
}

// RegisterCodec is Register with an encoding of your own: encode turns a T
// into bytes and decode turns them back. Values of type *T are encoded as
// the T they point to. decode is given bytes from the network: it must
// return an error, not panic, on bad input (a panic is caught and treated as
// an error).
func RegisterCodec[T any](name string, encode func(T) ([]byte, error), decode func([]byte) (T, error)) error {
	if encode == nil || decode == nil {
		return fmt.Errorf("wire: register %s: nil codec function", reflect.TypeFor[T]())
	}
	return register(name,
		func(v T, _ int) ([]byte, error) { return encode(v) },
		func(data []byte, _ int) (T, error) { return decode(data) })
}

// register enters T under name with codec functions told the depth of the
// value (see typeEntry).
func register[T any](name string, encode func(T, int) ([]byte, error), decode func([]byte, int) (T, error)) error {
	typ := reflect.TypeFor[T]()
	ptr := reflect.PointerTo(typ)
	switch {
	case name == "" || !utf8.ValidString(name):
		return fmt.Errorf("wire: register %s: name %q must be non-empty UTF-8", typ, name)
	case encode == nil || decode == nil:
		return fmt.Errorf("wire: register %s: nil codec function", typ)
	case builtin[typ]:
		return fmt.Errorf("wire: register %s: the type has a wire form of its own", typ)
	case typ.Kind() == reflect.Interface:
		return fmt.Errorf("wire: register %s: an interface type cannot be registered", typ)
	case typ.Implements(protoMessageType) || ptr.Implements(protoMessageType):
		return fmt.Errorf("wire: register %s: proto messages need no registration", typ)
	}
	e := &typeEntry{
		name: name,
		typ:  typ,
		encode: func(v any, depth int) ([]byte, error) {
			switch x := v.(type) {
			case T:
				return encode(x, depth)
			case *T:
				if x == nil {
					return nil, fmt.Errorf("nil %s", ptr)
				}
				return encode(*x, depth)
			}
			return nil, fmt.Errorf("%T is not %s", v, typ) // cannot happen: looked up by type
		},
		decode: func(data []byte, depth int) (any, error) { return decode(data, depth) },
	}
	return update(func(r *registry) error {
		if old, ok := r.byName[name]; ok {
			return fmt.Errorf("wire: register %s: name %q is taken by %s: %w", typ, name, old.typ, ErrDuplicate)
		}
		for _, t := range []reflect.Type{typ, ptr} {
			if old, ok := r.byType[t]; ok {
				return fmt.Errorf("wire: register %s as %q: %s is registered as %q: %w", typ, name, t, old.name, ErrDuplicate)
			}
		}
		r.byName[name] = e
		r.byType[typ] = e
		r.byType[ptr] = e
		return nil
	})
}

var protoMessageType = reflect.TypeFor[proto.Message]()

func gobEncode[T any](v T) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func gobDecode[T any](data []byte) (T, error) {
	var v T
	if err := checkGobFraming(data); err != nil {
		return v, err
	}
	err := gob.NewDecoder(bytes.NewReader(data)).Decode(&v)
	return v, err
}

// checkGobFraming refuses a gob stream whose message lengths claim more bytes
// than it holds. encoding/gob allocates a message's announced length before
// reading it (up to a gigabyte), so four bytes from a peer could make a node
// allocate megabytes; with every length checked against the data, decoding
// allocates in proportion to what arrived (FuzzRegisteredGob holds it to that).
func checkGobFraming(data []byte) error {
	for len(data) > 0 {
		n, size, ok := gobUint(data)
		if !ok || n > uint64(len(data)-size) {
			return fmt.Errorf("wire: gob message length exceeds its data: %w", ErrMalformed)
		}
		data = data[size+int(n):]
	}
	return nil
}

// gobUint reads gob's unsigned integer: one byte below 0x80, else a byte
// holding minus the count of big-endian bytes that follow.
func gobUint(b []byte) (v uint64, size int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	if b[0] < 0x80 {
		return uint64(b[0]), 1, true
	}
	n := int(-int8(b[0]))
	if n > 8 || len(b) < 1+n {
		return 0, 0, false
	}
	for _, c := range b[1 : 1+n] {
		v = v<<8 | uint64(c)
	}
	return v, 1 + n, true
}
