package wire

import "errors"

// Errors of this package. Compare with errors.Is.
var (
	// ErrUnknownType: a value's Go type has no wire form (it is not built in
	// and not registered), or a received value names a type that is not
	// registered here (a Go type name or a proto message name).
	ErrUnknownType = errors.New("unknown type")
	// ErrMalformed: bytes that are not a valid frame, or a value that cannot
	// be turned into one (nested too deep, a nil pointer, a codec failure).
	ErrMalformed = errors.New("malformed")
	// ErrDuplicate: a name, type or error is already registered.
	ErrDuplicate = errors.New("already registered")
)

// BodyError is the error for an envelope whose message cannot be encoded
// (EncodeEnvelope) or decoded (DecodeEnvelope, EnvelopeOf) while the rest of
// the envelope is fine. On decoding, the envelope is still returned with its
// header fields set and a nil Message, so that a call can be answered with
// the error rather than dropped.
//
// errors.Is(err, ErrUnknownType) holds when the type is not registered (or,
// for a proto message, not linked into the receiving program);
// errors.Is(err, ErrMalformed) holds when the codec failed.
type BodyError struct {
	// Type names the message's type: its Go type when encoding, its
	// registered name or proto message name when decoding. It is empty when
	// the value kind itself is unknown (a newer peer's Value).
	Type string
	// Err says what went wrong; it wraps ErrUnknownType or ErrMalformed.
	Err error
}

func (e *BodyError) Error() string { return "wire: " + e.Err.Error() }

// Unwrap returns Err.
func (e *BodyError) Unwrap() error { return e.Err }

// RemoteError is an error that came from another node and is not one of the
// runtime's exit reasons or an error registered with RegisterError in its
// exact form. Error returns the original text. When the original wrapped a
// reason or a registered error, Sentinel is this node's copy of it, so that
// errors.Is(remoteErr, actor.Shutdown) holds as it did on the sending node.
type RemoteError struct {
	Message  string
	Sentinel error
}

func (e *RemoteError) Error() string { return e.Message }

// Unwrap returns Sentinel (nil when there is none).
func (e *RemoteError) Unwrap() error { return e.Sentinel }
