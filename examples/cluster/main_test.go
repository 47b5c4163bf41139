package main

import (
	"strings"
	"testing"
	"time"
)

// The demo runs as a smoke test: every step passes and the cluster shuts
// down.
func TestDemo(t *testing.T) {
	var out strings.Builder
	err := run(t.Context(), &out, options{broadcasts: 10, stepTime: 20 * time.Second})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"✓ 8.", "✓ shutdown"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
