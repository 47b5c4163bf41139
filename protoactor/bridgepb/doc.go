// Package bridgepb holds the protobuf messages the protoactor bridge sends
// across Proto.Actor's remote on its own account. Regenerate with
//
//	cd protoactor/bridgepb && go generate
package bridgepb

//go:generate protoc --go_out=. --go_opt=paths=source_relative bridge.proto
