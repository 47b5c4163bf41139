package wire

import (
	"fmt"
	"math"
	"reflect"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// Field numbers of wire.proto that the hand-written envelope codec uses.
// encode_test.go checks its output against proto.Marshal of FrameOf.
const (
	frameEnvelope = 1

	envKind    = 1
	envFrom    = 2
	envTo      = 3
	envToName  = 4
	envRef     = 5
	envReason  = 6
	envMessage = 7
	envAlias   = 8
	envCleared = 9

	idNode     = 1 // Pid and Ref
	idCreation = 2
	idID       = 3
	nameNode   = 1
	nameName   = 2

	errCode       = 1
	errMessage    = 2
	errRegistered = 3

	valNil     = 1
	valStr     = 2
	valStrRaw  = 3
	valBytes   = 4
	valBoolean = 5
	valInt     = 6
	valUint    = 7
	valFloat64 = 8
	valFloat32 = 9
	valPid     = 10
	valRef     = 11
	valName    = 12
	valReg     = 16
	valList    = 17

	listItems = 1 // List

	regName  = 1 // Registered
	regData  = 2
	numKind  = 1 // Int and Uint
	numValue = 2
)

// envelopeEncoding is an envelope frame measured and ready to append. It
// writes what proto.Marshal would write for FrameOf(env), byte for byte,
// without building the messages.
type envelopeEncoding struct {
	reasonText string
	reasonCode wirepb.ErrorCode
	reasonName string
	reasonSize int
	msg        valueEncoding
	size       int // of the Envelope message
}

// valueEncoding is the message: a simple value or a value of a registered
// type written directly, or any other built as a wirepb.Value.
type valueEncoding struct {
	v       any
	items   []valueEncoding // a list's, when v is written as List
	pb      *wirepb.Value
	reg     *typeEntry // v's registered type, when v is written as Registered
	regData []byte     // v encoded by reg
	regSize int        // of the Registered message (of the List message for a list)
	size    int        // of the Value message
}

func (x *envelopeEncoding) prepare(env *actor.Envelope) error {
	if env.Kind < actor.EnvMessage || env.Kind > actor.LastEnvelopeKind {
		return fmt.Errorf("wire: encode envelope of kind %d: %w", env.Kind, ErrMalformed)
	}
	for _, s := range [...]string{env.From.Node, env.To.Node, env.ToName.Node, env.ToName.Name, env.Ref.Node} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("wire: encode envelope: node or name %q is not UTF-8: %w", s, ErrMalformed)
		}
	}
	n := sizeVarintField(envKind, uint64(env.Kind))
	if !env.From.IsZero() {
		n += sizeMessageField(envFrom, sizeID(env.From.Node, env.From.Creation, env.From.ID))
	}
	if !env.To.IsZero() {
		n += sizeMessageField(envTo, sizeID(env.To.Node, env.To.Creation, env.To.ID))
	}
	if env.ToName != (actor.Name{}) {
		n += sizeMessageField(envToName, sizeName(env.ToName))
	}
	if !env.Ref.IsZero() {
		n += sizeMessageField(envRef, sizeID(env.Ref.Node, env.Ref.Creation, env.Ref.ID))
	}
	if env.Reason != nil {
		x.reasonText = env.Reason.Error()
		x.reasonCode, x.reasonName = classifyError(env.Reason)
		x.reasonSize = sizeVarintField(errCode, uint64(x.reasonCode)) +
			sizeBytesField(errMessage, len(x.reasonText)) +
			sizeBytesField(errRegistered, len(x.reasonName))
		n += sizeMessageField(envReason, x.reasonSize)
	}
	if env.Message != nil {
		if err := x.msg.prepare(env.Message); err != nil {
			return err
		}
		n += sizeMessageField(envMessage, x.msg.size)
	}
	if env.Alias {
		n += sizeVarintField(envAlias, 1)
	}
	if env.Cleared {
		n += sizeVarintField(envCleared, 1)
	}
	x.size = n
	return nil
}

// frameSize is the size of the whole frame.
func (x *envelopeEncoding) frameSize() int { return sizeMessageField(frameEnvelope, x.size) }

// append appends the frame of env, which prepare measured, to b; on error it
// returns b as it was.
func (x *envelopeEncoding) append(b []byte, env *actor.Envelope) ([]byte, error) {
	start := len(b)
	b = appendMessageHeader(b, frameEnvelope, x.size)
	b = appendVarintField(b, envKind, uint64(env.Kind))
	if !env.From.IsZero() {
		b = appendID(b, envFrom, env.From.Node, env.From.Creation, env.From.ID)
	}
	if !env.To.IsZero() {
		b = appendID(b, envTo, env.To.Node, env.To.Creation, env.To.ID)
	}
	if env.ToName != (actor.Name{}) {
		b = appendName(b, envToName, env.ToName)
	}
	if !env.Ref.IsZero() {
		b = appendID(b, envRef, env.Ref.Node, env.Ref.Creation, env.Ref.ID)
	}
	if env.Reason != nil {
		b = appendMessageHeader(b, envReason, x.reasonSize)
		b = appendVarintField(b, errCode, uint64(x.reasonCode))
		b = appendStringField(b, errMessage, x.reasonText)
		b = appendStringField(b, errRegistered, x.reasonName)
	}
	if env.Message != nil {
		b = appendMessageHeader(b, envMessage, x.msg.size)
		var err error
		if b, err = x.msg.append(b); err != nil {
			return b[:start], err
		}
	}
	if env.Alias {
		b = appendVarintField(b, envAlias, 1)
	}
	if env.Cleared {
		b = appendVarintField(b, envCleared, 1)
	}
	return b, nil
}

func (x *valueEncoding) prepare(v any) error { return x.prepareAt(v, 0) }

// prepareAt measures v, at depth lists and casts down.
func (x *valueEncoding) prepareAt(v any, depth int) error {
	x.v = v
	if depth > maxDepth {
		return tooDeep()
	}
	switch v := v.(type) {
	case []any:
		x.items = make([]valueEncoding, len(v))
		n := 0
		for i, item := range v {
			if err := x.items[i].prepareAt(item, depth+1); err != nil {
				return err
			}
			n += sizeMessageField(listItems, x.items[i].size)
		}
		x.regSize = n // the List message's size
		x.size = sizeMessageField(valList, n)
		return nil
	case string:
		if utf8.ValidString(v) {
			x.size = sizeBytesOneof(valStr, len(v))
			return nil
		}
	case []byte:
		x.size = sizeBytesOneof(valBytes, len(v))
		return nil
	case bool:
		x.size = protowire.SizeTag(valBoolean) + 1
		return nil
	case int:
		x.size = sizeIntOneof(wirepb.IntKind_INT_KIND_INT, int64(v))
		return nil
	case int64:
		x.size = sizeIntOneof(wirepb.IntKind_INT_KIND_INT64, v)
		return nil
	case float64:
		x.size = protowire.SizeTag(valFloat64) + protowire.SizeFixed64()
		return nil
	case actor.PID:
		x.size = sizeMessageField(valPid, sizeID(v.Node, v.Creation, v.ID))
		return utf8Check("actor.PID", v.Node)
	case actor.Ref:
		x.size = sizeMessageField(valRef, sizeID(v.Node, v.Creation, v.ID))
		return utf8Check("actor.Ref", v.Node)
	case actor.Name:
		x.size = sizeMessageField(valName, sizeName(v))
		if err := utf8Check("actor.Name", v.Node); err != nil {
			return err
		}
		return utf8Check("actor.Name", v.Name)
	}
	if e, ok := loadRegistry().byType[reflect.TypeOf(v)]; ok {
		data, err := encodeRegistered(e, v, depth)
		if err != nil {
			return err
		}
		x.reg, x.regData = e, data
		x.regSize = sizeBytesField(regName, len(e.name)) + sizeBytesField(regData, len(data))
		x.size = sizeMessageField(valReg, x.regSize)
		return nil
	}
	x.pb = new(wirepb.Value)
	if err := putValue(x.pb, v, depth); err != nil {
		return err
	}
	x.size = proto.Size(x.pb) // cached for the MarshalAppend in append
	return nil
}

func (x *valueEncoding) append(b []byte) ([]byte, error) {
	if x.pb != nil {
		out, err := proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(b, x.pb)
		if err != nil { // a node or name in it is not UTF-8
			return b, &BodyError{Type: fmt.Sprintf("%T", x.v), Err: fmt.Errorf("encode %T: %v: %w", x.v, err, ErrMalformed)}
		}
		return out, nil
	}
	if x.items != nil {
		b = appendMessageHeader(b, valList, x.regSize)
		for i := range x.items {
			b = appendMessageHeader(b, listItems, x.items[i].size)
			var err error
			if b, err = x.items[i].append(b); err != nil {
				return b, err
			}
		}
		return b, nil
	}
	if x.reg != nil {
		b = appendMessageHeader(b, valReg, x.regSize)
		b = appendStringField(b, regName, x.reg.name)
		if len(x.regData) > 0 {
			b = protowire.AppendBytes(protowire.AppendTag(b, regData, protowire.BytesType), x.regData)
		}
		return b, nil
	}
	switch v := x.v.(type) {
	case string:
		b = protowire.AppendString(protowire.AppendTag(b, valStr, protowire.BytesType), v)
	case []byte:
		b = protowire.AppendBytes(protowire.AppendTag(b, valBytes, protowire.BytesType), v)
	case bool:
		b = protowire.AppendVarint(protowire.AppendTag(b, valBoolean, protowire.VarintType), protowire.EncodeBool(v))
	case int:
		b = appendIntOneof(b, wirepb.IntKind_INT_KIND_INT, int64(v))
	case int64:
		b = appendIntOneof(b, wirepb.IntKind_INT_KIND_INT64, v)
	case float64:
		b = protowire.AppendFixed64(protowire.AppendTag(b, valFloat64, protowire.Fixed64Type), math.Float64bits(v))
	case actor.PID:
		b = appendID(b, valPid, v.Node, v.Creation, v.ID)
	case actor.Ref:
		b = appendID(b, valRef, v.Node, v.Creation, v.ID)
	case actor.Name:
		b = appendName(b, valName, v)
	}
	return b, nil
}

// utf8Check fails for a node or name in a message that protobuf would
// refuse to encode.
func utf8Check(typ, s string) error {
	if !utf8.ValidString(s) {
		return &BodyError{Type: typ, Err: fmt.Errorf("%s with %q, not UTF-8: %w", typ, s, ErrMalformed)}
	}
	return nil
}

// Sizes and appenders of proto3 fields: a scalar field at its zero value is
// not written.

func sizeVarintField(num protowire.Number, v uint64) int {
	if v == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeVarint(v)
}

func sizeBytesField(num protowire.Number, n int) int {
	if n == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

// sizeBytesOneof is sizeBytesField for a oneof member, written even when empty.
func sizeBytesOneof(num protowire.Number, n int) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

func sizeMessageField(num protowire.Number, size int) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(size)
}

func sizeID(node string, creation uint32, id uint64) int {
	return sizeBytesField(idNode, len(node)) + sizeVarintField(idCreation, uint64(creation)) + sizeVarintField(idID, id)
}

func sizeName(n actor.Name) int {
	return sizeBytesField(nameNode, len(n.Node)) + sizeBytesField(nameName, len(n.Name))
}

func sizeIntOneof(kind wirepb.IntKind, v int64) int {
	return sizeMessageField(valInt, sizeVarintField(numKind, uint64(kind))+sizeVarintField(numValue, protowire.EncodeZigZag(v)))
}

func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

func appendStringField(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
}

func appendMessageHeader(b []byte, num protowire.Number, size int) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.BytesType), uint64(size))
}

func appendID(b []byte, num protowire.Number, node string, creation uint32, id uint64) []byte {
	b = appendMessageHeader(b, num, sizeID(node, creation, id))
	b = appendStringField(b, idNode, node)
	b = appendVarintField(b, idCreation, uint64(creation))
	return appendVarintField(b, idID, id)
}

func appendName(b []byte, num protowire.Number, n actor.Name) []byte {
	b = appendMessageHeader(b, num, sizeName(n))
	b = appendStringField(b, nameNode, n.Node)
	return appendStringField(b, nameName, n.Name)
}

func appendIntOneof(b []byte, kind wirepb.IntKind, v int64) []byte {
	z := protowire.EncodeZigZag(v)
	b = appendMessageHeader(b, valInt, sizeVarintField(numKind, uint64(kind))+sizeVarintField(numValue, z))
	b = appendVarintField(b, numKind, uint64(kind))
	return appendVarintField(b, numValue, z)
}
