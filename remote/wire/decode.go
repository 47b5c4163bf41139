package wire

import (
	"math"
	"sync/atomic"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// decodeEnvelopeFast decodes envelope frames as EncodeEnvelope writes them,
// without building protobuf messages. ok is false when data holds anything
// it does not handle exactly as the protobuf runtime would: a field repeated
// or unknown, an unexpected wire type, another kind of frame, bad input.
// DecodeEnvelope then takes the general path, DecodeFrame and EnvelopeOf.
// FuzzDecodeEnvelope checks that both paths agree on every input.
//
// A message of a kind it does not decode itself (a list, a registered type,
// ...) is unmarshaled alone and converted by valueOf, as EnvelopeOf would.
func decodeEnvelopeFast(data []byte) (env actor.Envelope, ok bool, err error) {
	payload, ok := onlyField(data, frameEnvelope)
	if !ok {
		return env, false, nil
	}
	var (
		seen    uint32
		kind    int32
		msg     []byte
		haveMsg bool
	)
	for b := payload; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > envCleared || seen&(1<<num) != 0 {
			return env, false, nil
		}
		seen |= 1 << num
		b = b[n:]
		if num == envKind || num == envAlias || num == envCleared {
			v, n := consumeVarint(b, typ)
			if n < 0 {
				return env, false, nil
			}
			b = b[n:]
			switch num {
			case envKind:
				kind = int32(v)
			case envAlias:
				env.Alias = v != 0
			case envCleared:
				env.Cleared = v != 0
			}
			continue
		}
		sub, n := consumeBytes(b, typ)
		if n < 0 {
			return env, false, nil
		}
		b = b[n:]
		ok := true
		switch num {
		case envFrom:
			env.From, ok = decodeID(sub)
		case envTo:
			env.To, ok = decodeID(sub)
		case envToName:
			env.ToName, ok = decodeName(sub)
		case envRef:
			var id actor.PID
			id, ok = decodeID(sub)
			env.Ref = actor.Ref(id)
		case envReason:
			env.Reason, ok = decodeError(sub)
		case envMessage:
			msg, haveMsg = sub, true
		}
		if !ok {
			return env, false, nil
		}
	}
	if kind < int32(actor.EnvMessage) || kind > int32(actor.LastEnvelopeKind) {
		return env, false, nil
	}
	env.Kind = actor.EnvelopeKind(kind)
	if haveMsg {
		v, ok, err := decodeValueFast(msg)
		if !ok {
			return actor.Envelope{}, false, nil
		}
		if err != nil {
			return env, true, err
		}
		env.Message = v
	}
	return env, true, nil
}

// decodeValueFast decodes a Value holding one simple member; anything else
// goes through valueSlow. ok is false if the Value is not valid protobuf.
func decodeValueFast(b []byte) (v any, ok bool, err error) { return decodeValueAt(b, 0) }

// decodeValueAt is decodeValueFast for a value depth lists and casts down.
func decodeValueAt(b []byte, depth int) (v any, ok bool, err error) {
	if depth > maxDepth {
		return valueSlowAt(b, depth)
	}
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return valueSlowAt(b, depth)
	}
	rest := b[n:]
	switch num {
	case valStr, valStrRaw, valBytes, valNil, valInt, valUint, valPid, valRef, valName:
		s, m := consumeBytes(rest, typ)
		if m != len(rest) {
			break
		}
		switch num {
		case valStr:
			if utf8.Valid(s) {
				return string(s), true, nil
			}
		case valStrRaw:
			return string(s), true, nil
		case valBytes:
			return append([]byte{}, s...), true, nil
		case valNil:
			if len(s) == 0 {
				return nil, true, nil
			}
		case valInt:
			if k, x, ok := decodeNumber(s); ok {
				v, err := intOf(wirepb.IntKind(k), protowire.DecodeZigZag(x))
				return v, true, err
			}
		case valUint:
			if k, x, ok := decodeNumber(s); ok {
				v, err := uintOf(wirepb.UintKind(k), x)
				return v, true, err
			}
		case valPid:
			if id, ok := decodeID(s); ok {
				return id, true, nil
			}
		case valRef:
			if id, ok := decodeID(s); ok {
				return actor.Ref(id), true, nil
			}
		case valName:
			if name, ok := decodeName(s); ok {
				return name, true, nil
			}
		}
	case valList:
		s, m := consumeBytes(rest, typ)
		if m != len(rest) {
			break
		}
		if list, ok, err := decodeList(s, depth); ok {
			return list, true, err
		}
	case valReg:
		s, m := consumeBytes(rest, typ)
		if m != len(rest) {
			break
		}
		if name, data, ok := decodeRegisteredFields(s); ok {
			v, err := decodeRegistered(name, data, depth)
			return v, true, err
		}
	case valBoolean:
		if x, m := consumeVarint(rest, typ); m == len(rest) {
			return x != 0, true, nil
		}
	case valFloat64:
		if typ == protowire.Fixed64Type {
			if x, m := protowire.ConsumeFixed64(rest); m == len(rest) {
				return math.Float64frombits(x), true, nil
			}
		}
	case valFloat32:
		if typ == protowire.Fixed32Type {
			if x, m := protowire.ConsumeFixed32(rest); m == len(rest) {
				return math.Float32frombits(x), true, nil
			}
		}
	}
	return valueSlowAt(b, depth)
}

// decodeList decodes a List message's items; ok is false when one of them
// is not in the form the fast path reads (the slow path decides then).
func decodeList(b []byte, depth int) (list []any, ok bool, err error) {
	list = []any{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num != listItems || typ != protowire.BytesType {
			return nil, false, nil
		}
		item, m := protowire.ConsumeBytes(b[n:])
		if m < 0 {
			return nil, false, nil
		}
		b = b[n+m:]
		v, ok, err := decodeValueAt(item, depth+1)
		if !ok {
			return nil, false, nil
		}
		if err != nil {
			return nil, true, err
		}
		list = append(list, v)
	}
	return list, true, nil
}

// valueOptions decode a Value alone as it would be decoded inside its frame
// (two messages down).
var valueOptions = func() (o proto.UnmarshalOptions) {
	o = unmarshalOptions
	o.RecursionLimit -= 2
	return o
}()

func valueSlow(b []byte) (any, bool, error) { return valueSlowAt(b, 0) }

// valueSlowAt decodes a Value depth lists and casts down through protobuf.
func valueSlowAt(b []byte, depth int) (any, bool, error) {
	pv := new(wirepb.Value)
	if err := valueOptions.Unmarshal(b, pv); err != nil {
		return nil, false, nil
	}
	v, err := valueOf(pv, depth)
	return v, true, err
}

// onlyField returns the payload of data when data is exactly one
// length-delimited field num.
func onlyField(data []byte, num protowire.Number) ([]byte, bool) {
	got, typ, n := protowire.ConsumeTag(data)
	if n < 0 || got != num {
		return nil, false
	}
	payload, m := consumeBytes(data[n:], typ)
	if m != len(data)-n {
		return nil, false
	}
	return payload, true
}

// decodeID decodes a Pid or Ref (the same fields).
func decodeID(b []byte) (id actor.PID, ok bool) {
	var seen uint32
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > idID || seen&(1<<num) != 0 {
			return id, false
		}
		seen |= 1 << num
		b = b[n:]
		if num == idNode {
			s, n := consumeBytes(b, typ)
			if n < 0 || !utf8.Valid(s) {
				return id, false
			}
			id.Node, b = intern(s), b[n:]
			continue
		}
		v, n := consumeVarint(b, typ)
		if n < 0 {
			return id, false
		}
		b = b[n:]
		if num == idCreation {
			id.Creation = uint32(v)
		} else {
			id.ID = v
		}
	}
	return id, true
}

func decodeName(b []byte) (name actor.Name, ok bool) {
	var seen uint32
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > nameName || seen&(1<<num) != 0 {
			return name, false
		}
		seen |= 1 << num
		b = b[n:]
		s, n := consumeBytes(b, typ)
		if n < 0 || !utf8.Valid(s) {
			return name, false
		}
		b = b[n:]
		if num == nameNode {
			name.Node = intern(s)
		} else {
			name.Name = intern(s)
		}
	}
	return name, true
}

// decodeRegisteredFields decodes a Registered message as the protobuf
// runtime would: a copy of its data (nil when empty, as proto3 bytes). ok is
// false for anything else than each field at most once, with its wire type,
// and a UTF-8 name.
func decodeRegisteredFields(b []byte) (name string, data []byte, ok bool) {
	var seen uint32
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num < regName || num > regData || seen&(1<<num) != 0 {
			return "", nil, false
		}
		seen |= 1 << num
		b = b[n:]
		s, n := consumeBytes(b, typ)
		if n < 0 {
			return "", nil, false
		}
		b = b[n:]
		if num == regName {
			if !utf8.Valid(s) {
				return "", nil, false
			}
			name = intern(s)
		} else {
			data = append([]byte(nil), s...)
		}
	}
	return name, data, true
}

// decodeNumber decodes an Int or Uint: its kind and its raw value.
func decodeNumber(b []byte) (kind int32, v uint64, ok bool) {
	var seen uint32
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > numValue || seen&(1<<num) != 0 {
			return 0, 0, false
		}
		seen |= 1 << num
		b = b[n:]
		x, n := consumeVarint(b, typ)
		if n < 0 {
			return 0, 0, false
		}
		b = b[n:]
		if num == numKind {
			kind = int32(x)
		} else {
			v = x
		}
	}
	return kind, v, true
}

func decodeError(b []byte) (error, bool) {
	var (
		seen             uint32
		code             int32
		text, registered []byte
	)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > errRegistered || seen&(1<<num) != 0 {
			return nil, false
		}
		seen |= 1 << num
		b = b[n:]
		if num == errCode {
			v, n := consumeVarint(b, typ)
			if n < 0 {
				return nil, false
			}
			code, b = int32(v), b[n:]
			continue
		}
		s, n := consumeBytes(b, typ)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		if num == errMessage {
			text = s
		} else if registered = s; !utf8.Valid(s) {
			return nil, false
		}
	}
	return errorOfParts(wirepb.ErrorCode(code), text, registered), true
}

// consumeVarint and consumeBytes are protowire's, failing (n < 0) also when
// the field has another wire type.
func consumeVarint(b []byte, typ protowire.Type) (uint64, int) {
	if typ != protowire.VarintType {
		return 0, -1
	}
	return protowire.ConsumeVarint(b)
}

func consumeBytes(b []byte, typ protowire.Type) ([]byte, int) {
	if typ != protowire.BytesType {
		return nil, -1
	}
	return protowire.ConsumeBytes(b)
}

// internTable holds recently decoded node and process names, which recur in
// nearly every envelope, so that decoding them seldom allocates. Each slot
// holds one name; a new name takes the slot of its hash.
var internTable [256]atomic.Pointer[string]

func intern(b []byte) string {
	if len(b) == 0 || len(b) > 64 {
		return string(b)
	}
	h := uint32(2166136261) // FNV-1a
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	slot := &internTable[h%uint32(len(internTable))]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}
