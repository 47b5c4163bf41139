package wire

import "github.com/gotp-dev/gotp/actor"

// MaxDepth exposes maxDepth to the tests.
const MaxDepth = maxDepth

// DecodeFast exposes DecodeEnvelope's fast path: ok is false when it defers
// to DecodeFrame and EnvelopeOf.
func DecodeFast(data []byte) (env actor.Envelope, ok bool, err error) {
	return decodeEnvelopeFast(data)
}
