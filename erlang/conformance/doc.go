// Package conformance holds a differential suite: scenarios of process
// semantics (message order before a DOWN, trapped exits, kill and killed,
// normal exits, exit signals, monitors of dead processes, late replies) run
// once in a real Erlang VM and once in gotp, their traces compared. A
// difference is a bug to fix, or one documented in actor/doc.go's "where it
// differs" and listed here as expected.
package conformance
