package bench

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	ChildMain()
	os.Exit(m.Run())
}

// BenchmarkTwoProcesses: RemoteSend (one pair) and RemoteCall with the
// receiver in a child process; see twoproc.go.
func BenchmarkTwoProcesses(b *testing.B) { runLeaves(b, twoProcessLeaves()) }

func TestTwoProcessesBenchSmoke(t *testing.T) {
	for _, s := range twoProcessSendSides {
		t.Run("send/"+s.name, func(t *testing.T) {
			h := s.setup(t, 64)
			h.run(3001)
			h.run(5000)
			h.stop()
		})
	}
	for _, s := range twoProcessCallSides {
		t.Run("call/"+s.name, func(t *testing.T) {
			c := s.setup(t)
			defer c.stop()
			for range 100 {
				if err := c.call(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
