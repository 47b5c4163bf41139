package wire

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// unmarshalOptions bound nesting to what the encoder can produce (each level
// of a list or cast is two protobuf messages) and drop fields a newer peer
// may add, which this version would ignore anyway.
var unmarshalOptions = proto.UnmarshalOptions{DiscardUnknown: true, RecursionLimit: 2*maxDepth + 16}

// EncodeFrame encodes f. The result is the frame body; the transport adds
// the length prefix. A frame with no body is an error wrapping ErrMalformed.
func EncodeFrame(f *wirepb.Frame) ([]byte, error) {
	if f.GetBody() == nil {
		return nil, fmt.Errorf("wire: encode frame without a body: %w", ErrMalformed)
	}
	return marshalExact(f)
}

// AppendFrame appends the encoding of f to dst, as EncodeFrame.
func AppendFrame(dst []byte, f *wirepb.Frame) ([]byte, error) {
	if f.GetBody() == nil {
		return dst, fmt.Errorf("wire: encode frame without a body: %w", ErrMalformed)
	}
	out, err := proto.MarshalOptions{Deterministic: true}.MarshalAppend(dst, f)
	if err != nil {
		return dst, fmt.Errorf("wire: encode frame: %v: %w", err, ErrMalformed)
	}
	return out, nil
}

// marshalExact encodes f into a slice of exactly its size.
func marshalExact(f *wirepb.Frame) ([]byte, error) {
	size := proto.Size(f) // caches the sizes that UseCachedSize then trusts
	out, err := proto.MarshalOptions{Deterministic: true, UseCachedSize: true}.MarshalAppend(make([]byte, 0, size), f)
	if err != nil {
		return nil, fmt.Errorf("wire: encode frame: %v: %w", err, ErrMalformed)
	}
	return out, nil
}

// DecodeFrame decodes one frame body. Bytes that are not a frame, and a
// frame with no body (or one of a kind this version does not know), are an
// error wrapping ErrMalformed: the connection should be closed.
//
// The frame does not share memory with data.
func DecodeFrame(data []byte) (*wirepb.Frame, error) {
	f := new(wirepb.Frame)
	if err := unmarshalOptions.Unmarshal(data, f); err != nil {
		return nil, fmt.Errorf("wire: %w frame: %v", ErrMalformed, err)
	}
	if f.GetBody() == nil {
		return nil, fmt.Errorf("wire: %w frame: no body of a known kind", ErrMalformed)
	}
	return f, nil
}
