package wire

import (
	"fmt"
	"math"
	"reflect"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// maxDepth bounds how deeply lists and casts nest in one message, so that a
// cyclic []any fails to encode instead of overflowing the stack.
const maxDepth = 64

// nilKind is shared by every nil value; marshaling only reads it.
var nilKind = &wirepb.Value_Nil{Nil: &wirepb.Nil{}}

// putValue sets pv to the wire form of v. Its errors are *BodyError.
func putValue(pv *wirepb.Value, v any, depth int) error {
	if depth > maxDepth {
		return tooDeep()
	}
	switch x := v.(type) {
	case nil:
		pv.Kind = nilKind
	case string:
		if utf8.ValidString(x) {
			pv.Kind = &wirepb.Value_Str{Str: x}
		} else {
			pv.Kind = &wirepb.Value_StrRaw{StrRaw: []byte(x)}
		}
	case []byte:
		pv.Kind = &wirepb.Value_Bytes{Bytes: x}
	case bool:
		pv.Kind = &wirepb.Value_Boolean{Boolean: x}
	case int:
		pv.Kind = intValue(wirepb.IntKind_INT_KIND_INT, int64(x))
	case int8:
		pv.Kind = intValue(wirepb.IntKind_INT_KIND_INT8, int64(x))
	case int16:
		pv.Kind = intValue(wirepb.IntKind_INT_KIND_INT16, int64(x))
	case int32:
		pv.Kind = intValue(wirepb.IntKind_INT_KIND_INT32, int64(x))
	case int64:
		pv.Kind = intValue(wirepb.IntKind_INT_KIND_INT64, x)
	case uint:
		pv.Kind = uintValue(wirepb.UintKind_UINT_KIND_UINT, uint64(x))
	case uint8:
		pv.Kind = uintValue(wirepb.UintKind_UINT_KIND_UINT8, uint64(x))
	case uint16:
		pv.Kind = uintValue(wirepb.UintKind_UINT_KIND_UINT16, uint64(x))
	case uint32:
		pv.Kind = uintValue(wirepb.UintKind_UINT_KIND_UINT32, uint64(x))
	case uint64:
		pv.Kind = uintValue(wirepb.UintKind_UINT_KIND_UINT64, x)
	case float64:
		pv.Kind = &wirepb.Value_Float64{Float64: x}
	case float32:
		pv.Kind = &wirepb.Value_Float32{Float32: x}
	case actor.PID:
		pv.Kind = &wirepb.Value_Pid{Pid: &wirepb.Pid{Node: x.Node, Creation: x.Creation, Id: x.ID}}
	case actor.Ref:
		pv.Kind = &wirepb.Value_Ref{Ref: &wirepb.Ref{Node: x.Node, Creation: x.Creation, Id: x.ID}}
	case actor.Name:
		pv.Kind = &wirepb.Value_Name{Name: &wirepb.Name{Node: x.Node, Name: x.Name}}
	case actor.CastMessage:
		inner := new(wirepb.Value)
		if err := putValue(inner, x.Message, depth+1); err != nil {
			return err
		}
		pv.Kind = &wirepb.Value_Cast{Cast: &wirepb.Cast{Message: inner}}
	case []any:
		items := make([]*wirepb.Value, len(x))
		for i, item := range x {
			items[i] = new(wirepb.Value)
			if err := putValue(items[i], item, depth+1); err != nil {
				return err
			}
		}
		pv.Kind = &wirepb.Value_List{List: &wirepb.List{Items: items}}
	default:
		return putOther(pv, v, depth)
	}
	return nil
}

// putOther handles registered types, proto messages and errors, in that
// order: a registered type that is also an error keeps its type.
func putOther(pv *wirepb.Value, v any, depth int) error {
	typ := reflect.TypeOf(v)
	if e, ok := loadRegistry().byType[typ]; ok {
		data, err := encodeRegistered(e, v, depth)
		if err != nil {
			return err
		}
		pv.Kind = &wirepb.Value_Registered{Registered: &wirepb.Registered{Name: e.name, Data: data}}
		return nil
	}
	switch x := v.(type) {
	case proto.Message:
		data, err := proto.MarshalOptions{Deterministic: true}.Marshal(x)
		if err != nil {
			return &BodyError{Type: typ.String(), Err: fmt.Errorf("encode %s: %v: %w", typ, err, ErrMalformed)}
		}
		name := string(x.ProtoReflect().Descriptor().FullName())
		pv.Kind = &wirepb.Value_Proto{Proto: &wirepb.Proto{Name: name, Data: data}}
		return nil
	case error:
		pv.Kind = &wirepb.Value_Error{Error: errorProto(x)}
		return nil
	}
	return &BodyError{Type: typ.String(), Err: fmt.Errorf("unregistered type %s: %w", typ, ErrUnknownType)}
}

func intValue(kind wirepb.IntKind, v int64) *wirepb.Value_Int {
	return &wirepb.Value_Int{Int: &wirepb.Int{Kind: kind, Value: v}}
}

func uintValue(kind wirepb.UintKind, v uint64) *wirepb.Value_Uint {
	return &wirepb.Value_Uint{Uint: &wirepb.Uint{Kind: kind, Value: v}}
}

func tooDeep() *BodyError {
	return &BodyError{Type: "[]any", Err: fmt.Errorf("value nested deeper than %d: %w", maxDepth, ErrMalformed)}
}

// valueOf is the Go value for pv; nil for nil. Its errors are *BodyError.
func valueOf(pv *wirepb.Value, depth int) (any, error) {
	if pv == nil {
		return nil, nil
	}
	if depth > maxDepth {
		return nil, tooDeep()
	}
	switch k := pv.GetKind().(type) {
	case *wirepb.Value_Nil:
		return nil, nil
	case *wirepb.Value_Str:
		return k.Str, nil
	case *wirepb.Value_StrRaw:
		return string(k.StrRaw), nil
	case *wirepb.Value_Bytes:
		return k.Bytes, nil
	case *wirepb.Value_Boolean:
		return k.Boolean, nil
	case *wirepb.Value_Int:
		return intOf(k.Int.GetKind(), k.Int.GetValue())
	case *wirepb.Value_Uint:
		return uintOf(k.Uint.GetKind(), k.Uint.GetValue())
	case *wirepb.Value_Float64:
		return k.Float64, nil
	case *wirepb.Value_Float32:
		return k.Float32, nil
	case *wirepb.Value_Pid:
		return pidOf(k.Pid), nil
	case *wirepb.Value_Ref:
		return refOf(k.Ref), nil
	case *wirepb.Value_Name:
		return nameOf(k.Name), nil
	case *wirepb.Value_Error:
		if k.Error == nil {
			return nil, nil
		}
		return errorOf(k.Error), nil
	case *wirepb.Value_Cast:
		inner, err := valueOf(k.Cast.GetMessage(), depth+1)
		if err != nil {
			return nil, err
		}
		return actor.CastMessage{Message: inner}, nil
	case *wirepb.Value_List:
		items := k.List.GetItems()
		list := make([]any, len(items))
		for i, item := range items {
			v, err := valueOf(item, depth+1)
			if err != nil {
				return nil, err
			}
			list[i] = v
		}
		return list, nil
	case *wirepb.Value_Proto:
		return protoOf(k.Proto)
	case *wirepb.Value_Registered:
		return registeredOf(k.Registered, depth)
	}
	return nil, &BodyError{Err: fmt.Errorf("value of a kind this node does not know: %w", ErrUnknownType)}
}

func intOf(kind wirepb.IntKind, v int64) (any, error) {
	var out any
	switch kind {
	case wirepb.IntKind_INT_KIND_INT:
		if v < math.MinInt || v > math.MaxInt {
			return nil, outOfRange("int", v)
		}
		out = int(v)
	case wirepb.IntKind_INT_KIND_INT8:
		if v != int64(int8(v)) {
			return nil, outOfRange("int8", v)
		}
		out = int8(v)
	case wirepb.IntKind_INT_KIND_INT16:
		if v != int64(int16(v)) {
			return nil, outOfRange("int16", v)
		}
		out = int16(v)
	case wirepb.IntKind_INT_KIND_INT32:
		if v != int64(int32(v)) {
			return nil, outOfRange("int32", v)
		}
		out = int32(v)
	case wirepb.IntKind_INT_KIND_INT64:
		out = v
	default:
		return nil, &BodyError{Type: kind.String(), Err: fmt.Errorf("integer kind %d: %w", kind, ErrUnknownType)}
	}
	return out, nil
}

func uintOf(kind wirepb.UintKind, v uint64) (any, error) {
	var out any
	switch kind {
	case wirepb.UintKind_UINT_KIND_UINT:
		if v > math.MaxUint {
			return nil, outOfRange("uint", v)
		}
		out = uint(v)
	case wirepb.UintKind_UINT_KIND_UINT8:
		if v > math.MaxUint8 {
			return nil, outOfRange("uint8", v)
		}
		out = uint8(v)
	case wirepb.UintKind_UINT_KIND_UINT16:
		if v > math.MaxUint16 {
			return nil, outOfRange("uint16", v)
		}
		out = uint16(v)
	case wirepb.UintKind_UINT_KIND_UINT32:
		if v > math.MaxUint32 {
			return nil, outOfRange("uint32", v)
		}
		out = uint32(v)
	case wirepb.UintKind_UINT_KIND_UINT64:
		out = v
	default:
		return nil, &BodyError{Type: kind.String(), Err: fmt.Errorf("unsigned integer kind %d: %w", kind, ErrUnknownType)}
	}
	return out, nil
}

func outOfRange[N int64 | uint64](typ string, v N) *BodyError {
	return &BodyError{Type: typ, Err: fmt.Errorf("%d out of range for %s: %w", v, typ, ErrMalformed)}
}

func protoOf(pp *wirepb.Proto) (any, error) {
	name := pp.GetName()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(name))
	if err != nil {
		return nil, &BodyError{Type: name, Err: fmt.Errorf("unknown proto message %q: %w", name, ErrUnknownType)}
	}
	m := mt.New().Interface()
	if err := proto.Unmarshal(pp.GetData(), m); err != nil {
		return nil, &BodyError{Type: name, Err: fmt.Errorf("decode proto message %s: %v: %w", name, err, ErrMalformed)}
	}
	return m, nil
}

// encodeRegistered encodes v, of e's type, with e's codec. Its errors are
// *BodyError.
func encodeRegistered(e *typeEntry, v any, depth int) ([]byte, error) {
	data, err := protect(func() ([]byte, error) { return e.encode(v, depth) })
	if err != nil {
		typ := reflect.TypeOf(v)
		return nil, &BodyError{Type: typ.String(), Err: fmt.Errorf("encode %s as %q: %v: %w", typ, e.name, err, ErrMalformed)}
	}
	return data, nil
}

func registeredOf(pr *wirepb.Registered, depth int) (any, error) {
	return decodeRegistered(pr.GetName(), pr.GetData(), depth)
}

// decodeRegistered decodes data as the type registered under name. Its
// errors are *BodyError.
func decodeRegistered(name string, data []byte, depth int) (any, error) {
	e, ok := loadRegistry().byName[name]
	if !ok {
		return nil, &BodyError{Type: name, Err: fmt.Errorf("unregistered type %q: %w", name, ErrUnknownType)}
	}
	v, err := protect(func() (any, error) { return e.decode(data, depth) })
	if err != nil {
		return nil, &BodyError{Type: name, Err: fmt.Errorf("decode %q: %v: %w", name, err, ErrMalformed)}
	}
	return v, nil
}

// protect runs a codec function, turning a panic into an error: codecs are
// given bytes from the network and user code.
func protect[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("codec panicked: %v", r)
		}
	}()
	return f()
}

func pidOf(p *wirepb.Pid) actor.PID {
	return actor.PID{Node: p.GetNode(), Creation: p.GetCreation(), ID: p.GetId()}
}

func refOf(r *wirepb.Ref) actor.Ref {
	return actor.Ref{Node: r.GetNode(), Creation: r.GetCreation(), ID: r.GetId()}
}

func nameOf(n *wirepb.Name) actor.Name {
	return actor.Name{Node: n.GetNode(), Name: n.GetName()}
}
