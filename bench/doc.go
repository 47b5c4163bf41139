// Package bench compares gotp's process runtime with raw Go channels and with
// protoactor-go (github.com/asynkron/protoactor-go): ping-pong, call round
// trips, fan-in and the cost of idle processes. It is a separate module so that
// the core module does not depend on protoactor-go; everything lives in the
// _test.go files. See README.md for how to run it and the latest figures.
package bench
