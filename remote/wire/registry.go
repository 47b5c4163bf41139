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
	name   string
	typ    reflect.Type
	encode func(v any) ([]byte, error) // v holds a T or a non-nil *T
	decode func(data []byte) (any, error)
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
// name, with encoding/gob. The receiving node must register the same T under
// the same name; it decodes the message as a T (never a *T). Names are global
// to the program: use a qualified one such as "myapp.Point".
//
// gob carries exported fields only; fields holding actor.PID, actor.Ref and
// actor.Name values work as they are. A field of interface type needs its
// concrete types registered with gob.Register on both nodes. Every message
// carries gob's description of its type, so for small, frequent messages a
// codec of your own (RegisterCodec) or a proto message is more compact.
//
// Register returns an error wrapping ErrDuplicate if name, T or *T is
// already registered, and an error if T has a wire form of its own (strings,
// numbers, PIDs, []any, ...), is an interface or is a proto message.
func Register[T any](name string) error {
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
		encode: func(v any) ([]byte, error) {
			switch x := v.(type) {
			case T:
				return encode(x)
			case *T:
				if x == nil {
					return nil, fmt.Errorf("nil %s", ptr)
				}
				return encode(*x)
			}
			return nil, fmt.Errorf("%T is not %s", v, typ) // cannot happen: looked up by type
		},
		decode: func(data []byte) (any, error) { return decode(data) },
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
