package main

import (
	"strings"
	"testing"
	"time"
)

// A -procs run starts this test binary again as each member.
func TestMain(m *testing.M) {
	runMemberFromEnv()
	m.Run()
}

// The demo runs as a smoke test, in one OS process and with each node in
// its own: every step passes and the cluster shuts down.
func TestDemo(t *testing.T) {
	for _, procs := range []bool{false, true} {
		name := "one process"
		if procs {
			name = "a process per node"
		}
		t.Run(name, func(t *testing.T) {
			var out strings.Builder
			err := run(t.Context(), &out, options{broadcasts: 10, stepTime: 20 * time.Second, procs: procs})
			t.Log("\n" + out.String())
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"✓ 8.", "✓ shutdown"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q", want)
				}
			}
		})
	}
}
