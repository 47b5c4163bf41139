// Package bench compares gotp's process runtime with raw Go channels, raw
// TCP and protoactor-go (github.com/asynkron/protoactor-go): ping-pong, call
// round trips, fan-in, the cost of idle processes and remote messaging in one
// and two OS processes. It is a separate module so that the core module does
// not depend on protoactor-go.
//
// The workloads of the side-by-side table live in regular files, so that a
// plain program can run them: Leaves lists them by benchmark name, and
// cmd/benchbin runs one with testing.Benchmark, printing go test's result
// line. The BenchmarkXxx functions in the _test.go files run the same leaves
// under go test; the module's other benchmarks live in _test.go files only.
// cmd/benchtable runs every side of the table in its own OS process, as the
// test binary, the plain binary or both. See README.md for how to run them and
// the latest figures.
package bench
