package etf

import (
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"sync"
)

// Go structs cross as Erlang records or maps once registered:
//
//	type Point struct{ X, Y int }
//	etf.RegisterRecord("point", Point{})  // {point, X, Y}, as -record(point, {x, y})
//	etf.RegisterMap(Config{})             // #{name => ..., size => ...}
//
// Encode writes a registered struct as its record or map; ToGo turns decoded
// terms that match a registered record (a tuple of its name and arity) back
// into the struct, converting field values (an integer to any Go integer
// type, a binary or charlist to a string, a list to a slice, a nested
// registered record to its struct). A map's keys are the fields' names in
// lower case, or their `etf:"name"` tags; maps stay Maps on the way in.

type structInfo struct {
	typ    reflect.Type
	record Atom // empty: a map
	fields []fieldInfo
}

type fieldInfo struct {
	index int
	key   Atom
}

var (
	regMu    sync.RWMutex
	byType   = map[reflect.Type]*structInfo{}
	byRecord = map[recordKey]*structInfo{}
)

type recordKey struct {
	name  Atom
	arity int
}

func register(example any, record Atom) error {
	t := reflect.TypeOf(example)
	if t == nil || t.Kind() != reflect.Struct {
		return fmt.Errorf("%w: %T is not a struct", ErrUnsupported, example)
	}
	info := &structInfo{typ: t, record: record}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		key := strings.ToLower(f.Name)
		if tag, ok := f.Tag.Lookup("etf"); ok && tag != "" {
			key = tag
		}
		info.fields = append(info.fields, fieldInfo{index: i, key: Atom(key)})
	}
	regMu.Lock()
	defer regMu.Unlock()
	byType[t] = info
	if record != "" {
		byRecord[recordKey{record, len(info.fields) + 1}] = info
	}
	return nil
}

// RegisterRecord makes structs of example's type cross as the record name:
// the tuple {name, Field1, Field2, ...} of their exported fields in order.
func RegisterRecord(name Atom, example any) error { return register(example, name) }

// RegisterMap makes structs of example's type cross as maps of their
// exported fields (keys as the package documentation says).
func RegisterMap(example any) error { return register(example, "") }

func registered(v any) *structInfo {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	regMu.RLock()
	defer regMu.RUnlock()
	return byType[t]
}

// AsTerm returns the record tuple or map a registered struct crosses as, and
// false for any other value.
func AsTerm(v any) (any, bool) {
	info := registered(v)
	if info == nil {
		return nil, false
	}
	return structTerm(info, v), true
}

// structTerm is the record tuple or map of a registered struct.
func structTerm(info *structInfo, v any) any {
	rv := reflect.ValueOf(v)
	if info.record != "" {
		t := make(Tuple, 0, len(info.fields)+1)
		t = append(t, info.record)
		for _, f := range info.fields {
			t = append(t, rv.Field(f.index).Interface())
		}
		return t
	}
	m := make(Map, 0, len(info.fields))
	for _, f := range info.fields {
		m = append(m, Pair{Key: f.key, Value: rv.Field(f.index).Interface()})
	}
	return m
}

// ToGo returns term with every tuple that matches a registered record (its
// name and arity) turned into its struct, inside tuples, lists and maps too.
// A record whose fields do not convert stays a tuple.
func ToGo(term any) any {
	switch t := term.(type) {
	case Tuple:
		if len(t) > 0 {
			if name, ok := t[0].(Atom); ok {
				regMu.RLock()
				info := byRecord[recordKey{name, len(t)}]
				regMu.RUnlock()
				if info != nil {
					if v, ok := fill(info, t[1:]); ok {
						return v
					}
				}
			}
		}
		out := make(Tuple, len(t))
		for i, e := range t {
			out[i] = ToGo(e)
		}
		return out
	case List:
		out := make(List, len(t))
		for i, e := range t {
			out[i] = ToGo(e)
		}
		return out
	case Map:
		out := make(Map, len(t))
		for i, p := range t {
			out[i] = Pair{Key: ToGo(p.Key), Value: ToGo(p.Value)}
		}
		return out
	}
	return term
}

func fill(info *structInfo, vals []any) (any, bool) {
	rv := reflect.New(info.typ).Elem()
	for i, f := range info.fields {
		if !assign(rv.Field(f.index), ToGo(vals[i])) {
			return nil, false
		}
	}
	return rv.Interface(), true
}

// assign sets dst from a decoded term, converting as ToGo documents.
func assign(dst reflect.Value, v any) bool {
	if v == nil {
		return false
	}
	src := reflect.ValueOf(v)
	if src.Type().AssignableTo(dst.Type()) {
		dst.Set(src)
		return true
	}
	switch dst.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, ok := v.(int64); ok && !dst.OverflowInt(n) {
			dst.SetInt(n)
			return true
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		switch n := v.(type) {
		case int64:
			if n >= 0 && !dst.OverflowUint(uint64(n)) {
				dst.SetUint(uint64(n))
				return true
			}
		case *big.Int:
			if n.IsUint64() && !dst.OverflowUint(n.Uint64()) {
				dst.SetUint(n.Uint64())
				return true
			}
		}
	case reflect.Float32, reflect.Float64:
		if f, ok := v.(float64); ok {
			dst.SetFloat(f)
			return true
		}
	case reflect.String:
		switch s := v.(type) {
		case []byte:
			dst.SetString(string(s))
			return true
		case Charlist:
			dst.SetString(string(s))
			return true
		case Atom:
			dst.SetString(string(s))
			return true
		}
	case reflect.Slice:
		var elems []any
		switch l := v.(type) {
		case List:
			elems = l
		case Charlist:
			for i := 0; i < len(l); i++ {
				elems = append(elems, int64(l[i]))
			}
		default:
			return false
		}
		out := reflect.MakeSlice(dst.Type(), len(elems), len(elems))
		for i, e := range elems {
			if !assign(out.Index(i), e) {
				return false
			}
		}
		dst.Set(out)
		return true
	}
	return false
}
