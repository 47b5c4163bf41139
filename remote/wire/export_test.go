package wire

import "github.com/gotp-dev/gotp/actor"

// MaxDepth exposes maxDepth to the tests.
const MaxDepth = maxDepth

// DecodeFast exposes DecodeEnvelope's fast path: ok is false when it defers
// to DecodeFrame and EnvelopeOf.
func DecodeFast(data []byte) (env actor.Envelope, ok bool, err error) {
	return decodeEnvelopeFast(data)
}

// FieldsEncode is Register's encoding of v, for the fuzz targets' seeds.
func FieldsEncode[T any](v T) ([]byte, error) {
	enc, _, err := fieldsCodec[T]()
	if err != nil {
		return nil, err
	}
	return enc(v, 0)
}
