package wire

import (
	"fmt"
	"slices"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// EncodeEnvelope encodes env as a complete frame. An error for the message
// alone (its type is not registered, its codec failed) is a *BodyError; a
// message of an unregistered type gives
//
//	wire: unregistered type main.Foo: unknown type
//
// An envelope kind outside actor.EnvelopeKind's range, or a node or
// registered name that is not valid UTF-8, is an error wrapping ErrMalformed.
//
// The common envelopes (no message, or a string, []byte, bool, int, int64,
// float64, PID, Ref or Name) are written directly, without building protobuf
// messages; the bytes are the same as EncodeFrame(FrameOf(env)).
func EncodeEnvelope(env actor.Envelope) ([]byte, error) {
	var x envelopeEncoding
	if err := x.prepare(&env); err != nil {
		return nil, err
	}
	return x.append(make([]byte, 0, x.frameSize()), &env)
}

// AppendEnvelope appends the encoding of env to dst, as EncodeEnvelope. It
// does not allocate for the common envelopes when dst has room. On error it
// returns dst unchanged.
func AppendEnvelope(dst []byte, env actor.Envelope) ([]byte, error) {
	var x envelopeEncoding
	if err := x.prepare(&env); err != nil {
		return dst, err
	}
	return x.append(slices.Grow(dst, x.frameSize()), &env)
}

// FrameOf is the frame that EncodeEnvelope encodes, as protobuf messages. It
// may share memory with env (a []byte message, for one).
func FrameOf(env actor.Envelope) (*wirepb.Frame, error) {
	if env.Kind < actor.EnvMessage || env.Kind > actor.LastEnvelopeKind {
		return nil, fmt.Errorf("wire: encode envelope of kind %d: %w", env.Kind, ErrMalformed)
	}
	pe := &wirepb.Envelope{Kind: wirepb.Kind(env.Kind), Alias: env.Alias, Cleared: env.Cleared}
	if !env.From.IsZero() {
		pe.From = &wirepb.Pid{Node: env.From.Node, Creation: env.From.Creation, Id: env.From.ID}
	}
	if !env.To.IsZero() {
		pe.To = &wirepb.Pid{Node: env.To.Node, Creation: env.To.Creation, Id: env.To.ID}
	}
	if env.ToName != (actor.Name{}) {
		pe.ToName = &wirepb.Name{Node: env.ToName.Node, Name: env.ToName.Name}
	}
	if !env.Ref.IsZero() {
		pe.Ref = &wirepb.Ref{Node: env.Ref.Node, Creation: env.Ref.Creation, Id: env.Ref.ID}
	}
	if env.Reason != nil {
		pe.Reason = errorProto(env.Reason)
	}
	if env.Message != nil {
		pe.Message = new(wirepb.Value)
		if err := putValue(pe.Message, env.Message, 0); err != nil {
			return nil, err
		}
	}
	return &wirepb.Frame{Body: &wirepb.Frame_Envelope{Envelope: pe}}, nil
}

// DecodeEnvelope decodes a frame that holds an envelope, with the outcomes
// of EnvelopeOf; a frame of another kind is an error wrapping ErrMalformed.
// After the handshake, when every frame should be an envelope, it is the
// faster way to read them: it gives what DecodeFrame and EnvelopeOf give,
// but decodes the common envelopes without building protobuf messages.
//
// The envelope does not share memory with data.
func DecodeEnvelope(data []byte) (actor.Envelope, error) {
	if env, ok, err := decodeEnvelopeFast(data); ok {
		return env, err
	}
	f, err := DecodeFrame(data)
	if err != nil {
		return actor.Envelope{}, err
	}
	pe := f.GetEnvelope()
	if pe == nil {
		return actor.Envelope{}, fmt.Errorf("wire: %w envelope: the frame holds a %T", ErrMalformed, f.GetBody())
	}
	return EnvelopeOf(pe)
}

// EnvelopeOf converts a decoded envelope. It has three outcomes:
//
//   - the envelope and nil;
//   - an error wrapping ErrMalformed: the envelope itself makes no sense (no
//     envelope, a kind this version does not know), the connection should
//     be closed;
//   - the envelope with a nil Message and a *BodyError: the header is fine
//     but the message does not decode here (its type is not registered, its
//     proto message is not linked in, its codec failed). The caller can
//     answer a call with the error and carry on.
//
// A []byte in the message shares memory with pe.
func EnvelopeOf(pe *wirepb.Envelope) (actor.Envelope, error) {
	if pe == nil {
		return actor.Envelope{}, fmt.Errorf("wire: %w envelope: none", ErrMalformed)
	}
	kind := pe.GetKind()
	if kind < wirepb.Kind_KIND_MESSAGE || kind > wirepb.Kind_KIND_WHERE_IS {
		return actor.Envelope{}, fmt.Errorf("wire: %w envelope: kind %d", ErrMalformed, kind)
	}
	env := actor.Envelope{
		Kind:    actor.EnvelopeKind(kind),
		From:    pidOf(pe.GetFrom()),
		To:      pidOf(pe.GetTo()),
		ToName:  nameOf(pe.GetToName()),
		Ref:     refOf(pe.GetRef()),
		Reason:  errorOf(pe.GetReason()),
		Alias:   pe.GetAlias(),
		Cleared: pe.GetCleared(),
	}
	msg, err := valueOf(pe.GetMessage(), 0)
	if err != nil {
		return env, err
	}
	env.Message = msg
	return env, nil
}
