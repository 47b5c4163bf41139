module github.com/gotp-dev/gotp

go 1.26

require google.golang.org/protobuf v1.36.12
