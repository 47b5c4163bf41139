// Package erltest runs a real Erlang VM for tests: it finds erl, evaluates
// Erlang code with it, and skips a test, saying why, where erl is missing.
package erltest

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Erl returns the path of erl, or skips the test (never passes it silently)
// where it is not installed.
func Erl(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("erl")
	if err != nil {
		t.Skip("erl not found: these tests need a real Erlang VM (Debian's erlang-base package; .ci/run installs it)")
	}
	return path
}

// Eval runs Erlang expressions (a sequence ending in a term, halt() added) in
// a fresh VM without distribution and returns what it printed.
func Eval(t testing.TB, code string) string {
	t.Helper()
	erl := Erl(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, erl, "-noshell", "-noinput", "-eval", code+", halt().")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("erl: %v\nstdout: %s\nstderr: %s", err, out.String(), errOut.String())
	}
	return out.String()
}

// Lines splits output into its non-empty lines.
func Lines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}
