// Package wire is the wire format of gotp's distribution layer: how frames,
// envelopes and Go values are encoded between nodes. It does no I/O; package
// remote and its transports use it.
//
// # Frames
//
// A connection carries frames. The transport writes each one as a 4-byte
// big-endian length followed by that many bytes of frame body; this package
// encodes and decodes the body, a protobuf message gotp.wire.v1.Frame
// (wirepb/wire.proto). A frame holds exactly one of:
//
//	envelope        a message or signal between processes (actor.Envelope)
//	hello           handshake: the dialing node introduces itself
//	challenge       handshake: the accepting node answers with its challenge
//	challenge_ack   handshake: the dialer's answer to that challenge
//	accept          handshake: the connection is up
//	refuse          handshake: the connection is refused, maybe with a referral
//
// The handshake messages are defined here and used by package remote.
// EncodeFrame and DecodeFrame handle any frame; a reader decodes each frame
// once and switches on its body:
//
//	f, err := wire.DecodeFrame(b)       // error: ErrMalformed, close the connection
//	env, err := wire.EnvelopeOf(f.GetEnvelope())
//	var body *wire.BodyError            // header fine, message undecodable:
//	if errors.As(err, &body) { ... }    // env has its header, answer a call with body
//
// EncodeEnvelope, AppendEnvelope and DecodeEnvelope do the same for envelope
// frames, the traffic after the handshake, a few times faster: they read
// and write the common envelopes (no message, or a string, []byte, number,
// PID, Ref or Name, and any exit reason) directly with protowire instead of
// building protobuf messages. Their bytes and results are those of
// EncodeFrame(FrameOf(env)) and DecodeFrame plus EnvelopeOf; the tests and
// fuzz targets hold them to that. Frames are encoded deterministically (map
// entries sorted).
//
// # Values
//
// An envelope's message, and the value inside a cast, a list or an error
// reply, is one of these Go values:
//
//	Go                                  wire (Value.kind)
//	nil                                 nil (an absent message is nil too)
//	string                              str, or str_raw if not valid UTF-8
//	[]byte                              bytes
//	bool                                boolean
//	int, int8, int16, int32, int64      int (with its Go kind; decodes to the same type)
//	uint, uint8, uint16, uint32, uint64 uint (likewise)
//	float64, float32                    float64, float32
//	actor.PID, actor.Ref, actor.Name    pid, ref, name
//	actor.CastMessage                   cast (wrapping its message)
//	[]any                               list (decodes to a non-nil []any)
//	a type registered with Register     registered (name and encoding); decodes to T
//	proto.Message                       proto (full name and encoding); decodes to
//	                                    the pointer type in protoregistry.GlobalTypes
//	error                               error (see below)
//
// Checks go in that order: a registered type that is also an error keeps
// its type. Named types (type Celsius float64) are not the built-in ones and
// must be registered. Anything else is an error wrapping ErrUnknownType at
// the sender. Lists and casts nest at most 64 deep. A decoded []byte shares
// memory with the decoded frame; a decoded string does not.
//
// # Registering types
//
// A plain Go type travels under a name that both nodes register, usually in
// an init function or a package variable:
//
//	func init() { wire.MustRegister[Point]("myapp.Point") }
//
// Register encodes a value by its exported fields, in order, behind a
// fingerprint of the type's layout (see Register); values of T and of *T
// are encoded and the receiver always gets a T. It takes about a
// microsecond each way for a small struct, where encoding/gob takes tens.
// Every length in the bytes is checked against what is left before
// anything is made for it; the fuzz target FuzzRegisteredFields holds a
// decode to 1 MiB plus 64 bytes per input byte. RegisterGob keeps
// encoding/gob, which matches fields by name (for types whose definitions
// differ between nodes); gob is not hardened against hostile input, so
// before it decodes every gob message length is checked against the bytes
// that arrived, and FuzzRegisteredGob holds it to the same bound.
// Proto messages need no registration beyond being linked into the
// receiving program.
//
// # Errors
//
// Exit reasons and error values keep their meaning across nodes: an error
// that is or wraps (errors.Is) one of the runtime's reasons (actor.Normal,
// Shutdown, Kill, Killed, ErrNoProc, ErrNoConnection, ErrTimeout) travels as
// a code plus its text. On the receiving node it decodes to the reason
// itself when the text is just the reason's, and otherwise to a
// *RemoteError with the original text that wraps the reason, so that
// errors.Is(decoded, actor.Shutdown) holds and decoded.Error() is the text
// the sender saw. Application sentinels registered with RegisterError on
// both nodes work the same way, by name, which is the sentinel's text. An
// error's own type does not travel: an *actor.ExitError arrives as a
// *RemoteError with its text that wraps its reason, and any other error, an
// *actor.PanicError among them, as a *RemoteError holding only its text
// (sent as a message rather than as an exit reason, an error of a type
// registered with Register keeps its type).
//
// # Decoding failures
//
// DecodeFrame and DecodeEnvelope never panic. Bytes that are not a frame
// give an error wrapping ErrMalformed. An envelope whose header is fine but
// whose message does not decode here (unregistered type or proto message,
// codec failure) comes back with its header and a *BodyError, so that the
// caller of a Call can be told instead of left waiting.
//
// # Compared with Erlang
//
// The envelope plays the part of the distribution protocol's control
// messages (LINK, EXIT, MONITOR_P, ...) and its payload that of the external
// term format (term_to_binary). Go values are not self-describing terms, so
// only the types above travel, and application types need a name on both
// sides, as with a record definition shared by two nodes. There are no atoms:
// exit reasons are error values, identified across nodes by code or
// registered name. The handshake (hello, challenge, challenge_ack) follows
// the shape of Erlang's cookie handshake; its logic lives in package remote.
//
// # Regenerating wirepb
//
// The generated code (wirepb/wire.pb.go) is committed; building needs no
// protoc. After editing wirepb/wire.proto, run go generate in this
// directory, with protoc and protoc-gen-go on PATH:
//
//	apt-get install protobuf-compiler
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@latest
//	go generate ./remote/wire
package wire

//go:generate protoc --proto_path=../.. --go_out=../.. --go_opt=paths=source_relative ../../remote/wire/wirepb/wire.proto
