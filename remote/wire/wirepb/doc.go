// Package wirepb holds the protobuf messages of gotp's wire format,
// generated from wire.proto by protoc-gen-go (see package
// github.com/gotp-dev/gotp/remote/wire for how to regenerate it and how Go
// values map to these messages). Build frames here and encode them with
// wire.EncodeFrame.
package wirepb
