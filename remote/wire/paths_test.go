package wire_test

import (
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
)

// Raw protobuf builders for frames the encoder never writes.
func tagBytes(b []byte, num protowire.Number, payload []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), payload)
}

func tagVarint(b []byte, num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

func envelopeFrame(fields ...[]byte) []byte {
	var pe []byte
	for _, f := range fields {
		pe = append(pe, f...)
	}
	return tagBytes(nil, 1, pe)
}

func pidBytes(node string, creation, id uint64) []byte {
	return tagVarint(tagVarint(tagBytes(nil, 1, []byte(node)), 2, creation), 3, id)
}

// oddFrames are valid protobuf that EncodeEnvelope never writes: repeated
// fields (merged or last-one-wins), unknown fields, unexpected wire types,
// out-of-range varints. DecodeEnvelope's fast path must defer on them or
// agree with the protobuf runtime.
func oddFrames() map[string][]byte {
	kind := tagVarint(nil, 1, 1)
	to := tagBytes(nil, 3, pidBytes("b@host", 1, 2))
	str := func(s string) []byte { return tagBytes(nil, 2, []byte(s)) }
	msg := func(value []byte) []byte { return tagBytes(nil, 7, value) }
	return map[string][]byte{
		"repeated from merges":       envelopeFrame(kind, tagBytes(nil, 2, pidBytes("a", 0, 0)), tagBytes(nil, 2, tagVarint(nil, 3, 9))),
		"repeated kind, last wins":   envelopeFrame(tagVarint(nil, 1, 3), kind, to),
		"unknown envelope field":     envelopeFrame(kind, to, tagVarint(nil, 20, 5)),
		"unknown pid field":          envelopeFrame(kind, tagBytes(nil, 3, tagVarint(pidBytes("b", 1, 2), 9, 1))),
		"kind as bytes":              envelopeFrame(tagBytes(nil, 1, []byte{1}), to),
		"kind past 32 bits":          envelopeFrame(tagVarint(nil, 1, 1<<32|1), to),
		"creation past 32 bits":      envelopeFrame(kind, tagBytes(nil, 3, pidBytes("b", 1<<32|5, 2))),
		"bool of 2":                  envelopeFrame(kind, to, tagVarint(nil, 8, 2)),
		"two value members":          envelopeFrame(kind, to, msg(append(str("a"), tagBytes(nil, 4, []byte("b"))...))),
		"same value member twice":    envelopeFrame(kind, to, msg(append(str("a"), str("b")...))),
		"message twice":              envelopeFrame(kind, to, msg(str("a")), msg(tagVarint(nil, 5, 1))),
		"int field twice":            envelopeFrame(kind, to, msg(tagBytes(nil, 6, tagVarint(tagVarint(nil, 2, 4), 2, 6)))),
		"int kind past 32 bits":      envelopeFrame(kind, to, msg(tagBytes(nil, 6, tagVarint(tagVarint(nil, 1, 1<<32|1), 2, 6)))),
		"str with a bytes wire type": envelopeFrame(kind, to, msg(tagVarint(nil, 2, 1))),
		"nil with content":           envelopeFrame(kind, to, msg(tagBytes(nil, 1, tagVarint(nil, 1, 1)))),
		"error code past 32 bits":    envelopeFrame(kind, to, tagBytes(nil, 6, tagVarint(tagBytes(nil, 2, []byte("shutdown")), 1, 1<<32|2))),
		"error text twice":           envelopeFrame(kind, to, tagBytes(nil, 6, tagBytes(tagBytes(nil, 2, []byte("x")), 2, []byte("normal")))),
		"hello then envelope":        append(tagBytes(nil, 2, nil), envelopeFrame(kind, to)...),
		"envelope then hello":        append(envelopeFrame(kind, to), tagBytes(nil, 2, nil)...),
		"envelope twice merges":      append(envelopeFrame(kind), envelopeFrame(to)...),
		"unknown frame field too":    append(envelopeFrame(kind, to), tagVarint(nil, 9, 1)...),
		"overlong varint":            envelopeFrame([]byte{0x08, 0x81, 0x80, 0x80, 0x00}, to),
	}
}

// TestDecodePathsAgree runs the odd frames through both decoding paths.
func TestDecodePathsAgree(t *testing.T) {
	for name, data := range oddFrames() {
		t.Run(name, func(t *testing.T) {
			fast, fastErr := wire.DecodeEnvelope(data)
			var ref actor.Envelope
			f, refErr := wire.DecodeFrame(data)
			if refErr == nil {
				ref, refErr = wire.EnvelopeOf(f.GetEnvelope())
			}
			if errorClass(fastErr) != errorClass(refErr) {
				t.Fatalf("DecodeEnvelope: %v; DecodeFrame and EnvelopeOf: %v", fastErr, refErr)
			}
			if err := sameEnvelope(ref, fast); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ref.Reason, fast.Reason) {
				t.Fatalf("reasons %#v and %#v", fast.Reason, ref.Reason)
			}
		})
	}
}
