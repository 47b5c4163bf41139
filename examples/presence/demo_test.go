package main

import "testing"

// The tour's first cluster runs: three nodes over loopback TCP find each
// other through discovery, join their tables, and see one another's writes.
func TestDemo(t *testing.T) {
	if err := runDemo(); err != nil {
		t.Fatal(err)
	}
}
