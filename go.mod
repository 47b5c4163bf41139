module github.com/gotp-dev/gotp

go 1.26

require (
	github.com/anishathalye/porcupine v1.3.1
	go.etcd.io/raft/v3 v3.6.0
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/gogo/protobuf v1.3.2 // indirect
	github.com/golang/protobuf v1.5.4 // indirect
)
