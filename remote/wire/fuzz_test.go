package wire_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// seedFrames is a valid frame of every kind: every envelope case, an
// envelope carrying every value case, every handshake frame, and envelopes
// whose message does not decode.
func seedFrames(t testing.TB) [][]byte {
	var frames [][]byte
	for _, tc := range envelopeCases {
		data, err := wire.EncodeEnvelope(tc.env)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, data)
	}
	for _, tc := range valueCases {
		data, err := wire.EncodeEnvelope(actor.Envelope{Kind: actor.EnvCall, From: pidA, To: pidB, Ref: refA, Message: tc.value})
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, data)
	}
	for _, tc := range handshakeFrames {
		data, err := wire.EncodeFrame(tc.frame)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, data)
	}
	call := actor.Envelope{Kind: actor.EnvCall, From: pidA, To: pidB, Ref: refA}
	for _, v := range []*wirepb.Value{
		registered("other.Type", []byte{1}),
		registered("wire_test.point", []byte("not gob")),
		registered("wire_test.fragile", []byte("boom")),
		{Kind: &wirepb.Value_Proto{Proto: &wirepb.Proto{Name: "no.such.Message"}}},
		{},
		intValue(wirepb.IntKind_INT_KIND_INT8, 200),
		nested(wire.MaxDepth + 1),
	} {
		frames = append(frames, frameWith(t, call, v))
	}
	return frames
}

// addSeeds adds every seed frame and every prefix of it.
func addSeeds(f *testing.F) {
	for _, frame := range seedFrames(f) {
		for n := range len(frame) + 1 {
			f.Add(frame[:n])
		}
	}
	for _, frame := range oddFrames() {
		f.Add(frame)
	}
}

func FuzzDecodeFrame(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := wire.DecodeFrame(data)
		if err != nil {
			if !errors.Is(err, wire.ErrMalformed) || fr != nil {
				t.Fatalf("DecodeFrame = %v, %v; want nil, ErrMalformed", fr, err)
			}
			return
		}
		again, err := wire.EncodeFrame(fr)
		if err != nil {
			t.Fatalf("re-encoding a decoded frame: %v", err)
		}
		fr2, err := wire.DecodeFrame(again)
		if err != nil {
			t.Fatalf("decoding a re-encoded frame: %v", err)
		}
		if !proto.Equal(fr, fr2) {
			t.Fatalf("frame changed on a round trip: %v, then %v", fr, fr2)
		}
		if pe := fr.GetEnvelope(); pe != nil {
			_, err := wire.EnvelopeOf(pe)
			checkEnvelopeError(t, err)
		}
	})
}

func FuzzDecodeEnvelope(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := wire.DecodeEnvelope(data)
		checkEnvelopeError(t, err)
		// DecodeEnvelope's fast path must agree with the protobuf runtime.
		var refEnv actor.Envelope
		fr, refErr := wire.DecodeFrame(data)
		if refErr == nil {
			refEnv, refErr = wire.EnvelopeOf(fr.GetEnvelope())
		}
		if errorClass(err) != errorClass(refErr) {
			t.Fatalf("DecodeEnvelope: %v; DecodeFrame and EnvelopeOf: %v", err, refErr)
		}
		if err := sameEnvelope(refEnv, env); err != nil {
			t.Fatalf("DecodeEnvelope and EnvelopeOf differ: %v", err)
		}
		if refEnv.Message != nil && reflect.TypeOf(refEnv.Message) != reflect.TypeOf(env.Message) {
			t.Fatalf("message types differ: %T, %T", env.Message, refEnv.Message)
		}
		if !reflect.DeepEqual(refEnv.Reason, env.Reason) {
			t.Fatalf("reasons differ: %#v, %#v", env.Reason, refEnv.Reason)
		}
		if e, ok := refEnv.Message.(error); ok && !reflect.DeepEqual(e, env.Message) {
			t.Fatalf("error messages differ: %#v, %#v", env.Message, e)
		}
		var body *wire.BodyError
		switch {
		case errors.As(err, &body):
			if env.Message != nil || env.Kind == 0 {
				t.Fatalf("body error %v with envelope %+v; want the header and no message", err, env)
			}
		case err != nil:
			if env != (actor.Envelope{}) {
				t.Fatalf("malformed (%v) with envelope %+v", err, env)
			}
			return
		}
		// Whatever decodes, header alone or whole, encodes again to the same.
		again, err := wire.EncodeEnvelope(env)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", env, err)
		}
		env2, err := wire.DecodeEnvelope(again)
		if err != nil {
			t.Fatalf("decoding a re-encoded envelope: %v", err)
		}
		if err := sameEnvelope(env, env2); err != nil {
			t.Fatalf("envelope changed on a round trip: %v", err)
		}
	})
}

// checkEnvelopeError fails unless err is nil, a *BodyError wrapping one of
// the sentinels, or a malformed-frame error.
func checkEnvelopeError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var body *wire.BodyError
	if errors.As(err, &body) {
		if !errors.Is(err, wire.ErrUnknownType) && !errors.Is(err, wire.ErrMalformed) {
			t.Fatalf("body error %v wraps neither sentinel", err)
		}
		return
	}
	if !errors.Is(err, wire.ErrMalformed) {
		t.Fatalf("error %v is neither a *BodyError nor ErrMalformed", err)
	}
}

// errorClass is what a caller of DecodeEnvelope acts on: success, a body
// error of some type and sentinel, or a malformed frame.
func errorClass(err error) string {
	var body *wire.BodyError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &body):
		return fmt.Sprintf("body %q unknown type %v", body.Type, errors.Is(err, wire.ErrUnknownType))
	case errors.Is(err, wire.ErrMalformed):
		return "malformed"
	}
	return "other: " + err.Error()
}
