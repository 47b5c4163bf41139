package wire_test

import (
	"bytes"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
)

// TestEncodeMatchesProto checks the hand-written envelope encoder against
// the protobuf runtime: EncodeEnvelope(env) must be EncodeFrame(FrameOf(env)),
// byte for byte.
func TestEncodeMatchesProto(t *testing.T) {
	var envs []actor.Envelope
	for _, tc := range envelopeCases {
		envs = append(envs, tc.env)
	}
	for _, tc := range valueCases {
		envs = append(envs, actor.Envelope{Kind: actor.EnvCall, From: pidA, To: pidB, Ref: refA, Message: tc.value})
	}
	envs = append(envs,
		actor.Envelope{Kind: actor.EnvMessage, To: actor.PID{ID: 1}, Message: int64(-1)},
		actor.Envelope{Kind: actor.EnvMessage, To: actor.PID{Creation: 1}, Message: 0.0},
		actor.Envelope{Kind: actor.EnvMessage, ToName: actor.Name{Node: "n"}, Message: false},
		actor.Envelope{Kind: actor.EnvMessage, Ref: actor.Ref{Node: "n"}, Message: actor.Ref{}},
		actor.Envelope{Kind: actor.EnvMessage, Message: actor.Name{}},
		actor.Envelope{Kind: actor.EnvReply, Reason: &wire.RemoteError{}, Cleared: true, Alias: true},
		actor.Envelope{Kind: actor.EnvMessage, Message: string(make([]byte, 300))},
		actor.Envelope{Kind: actor.EnvMessage, Message: make([]byte, 70000)},
	)
	for _, env := range envs {
		fast, err := wire.EncodeEnvelope(env)
		if err != nil {
			t.Fatalf("EncodeEnvelope(%+v): %v", env, err)
		}
		f, err := wire.FrameOf(env)
		if err != nil {
			t.Fatalf("FrameOf(%+v): %v", env, err)
		}
		ref, err := wire.EncodeFrame(f)
		if err != nil {
			t.Fatalf("EncodeFrame(%v): %v", f, err)
		}
		if !bytes.Equal(fast, ref) {
			t.Errorf("%+v:\nEncodeEnvelope %x\nEncodeFrame    %x", env, fast, ref)
		}
	}
}

func FuzzEncodeEnvelope(f *testing.F) {
	f.Add(uint8(1), "a@host", uint32(7), uint64(42), "srv", "hello", int64(-3), uint8(0))
	f.Add(uint8(10), "", uint32(0), uint64(0), "", "", int64(0), uint8(255))
	f.Add(uint8(8), "\xff", uint32(1), uint64(1), "x", "bad \xff", int64(1<<40), uint8(7))
	f.Add(uint8(1), "a@host", uint32(7), uint64(42), "srv", "", int64(13), uint8(14))  // a codec that fails
	f.Add(uint8(2), "a@host", uint32(7), uint64(42), "srv", "", int64(5), uint8(15))   // a codec's empty bytes
	f.Add(uint8(3), "a@host", uint32(7), uint64(42), "srv", "p", int64(-5), uint8(16)) // a pointer to a gob type
	f.Fuzz(func(t *testing.T, kind uint8, node string, creation uint32, id uint64, name, text string, n int64, pick uint8) {
		pid := actor.PID{Node: node, Creation: creation, ID: id}
		messages := []any{nil, text, []byte(text), n != 0, int(n), n, float64(n), pid, actor.Ref(pid),
			actor.Name{Node: node, Name: name}, int8(n), []any{text, n}, actor.CastMessage{Message: pid},
			ticket(uint32(n)), fragile(n), blob(text), &point{X: int(n), Label: text, Owner: pid}, []any{blob(text), fragile(n)}}
		env := actor.Envelope{
			Kind: actor.EnvelopeKind(kind % 12), From: pid, ToName: actor.Name{Node: node, Name: name},
			Ref: actor.Ref{Node: name, ID: uint64(n)}, Message: messages[int(pick)%len(messages)],
			Alias: pick&1 != 0, Cleared: pick&2 != 0,
		}
		if pick&4 != 0 {
			env.Reason = actor.Shutdown
		} else if pick&8 != 0 {
			env.Reason = &wire.RemoteError{Message: text}
		}
		fast, errFast := wire.EncodeEnvelope(env)
		var ref []byte
		fr, errRef := wire.FrameOf(env)
		if errRef == nil {
			ref, errRef = wire.EncodeFrame(fr)
		}
		if (errFast == nil) != (errRef == nil) {
			t.Fatalf("EncodeEnvelope error %v, EncodeFrame(FrameOf) error %v", errFast, errRef)
		}
		if !bytes.Equal(fast, ref) {
			t.Fatalf("EncodeEnvelope %x, EncodeFrame(FrameOf) %x", fast, ref)
		}
		if errFast != nil {
			return
		}
		got, err := wire.DecodeEnvelope(fast)
		if err != nil {
			t.Fatalf("decoding what was encoded: %v", err)
		}
		if err := sameEnvelope(env, got); err != nil {
			t.Fatal(err)
		}
	})
}

// TestFastPathTakesEncoderOutput checks that DecodeEnvelope's fast path
// handles everything EncodeEnvelope writes, rather than quietly deferring
// to the general path.
func TestFastPathTakesEncoderOutput(t *testing.T) {
	for _, frame := range seedFrames(t) {
		fr, err := wire.DecodeFrame(frame)
		if err != nil {
			t.Fatal(err)
		}
		if fr.GetEnvelope() == nil {
			continue
		}
		if _, ok, _ := wire.DecodeFast(frame); !ok {
			t.Errorf("fast path deferred on %v", fr)
		}
	}
}
