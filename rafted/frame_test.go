package rafted_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/rafted"
)

const testFrame = 64 << 10

// TestOversizeCommandIsRefused: a command whose entry cannot cross the
// wire is refused with ErrCommandTooLarge, from a local caller and from a
// remote one whose request just fits its frame, and the group goes on.
func TestOversizeCommandIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newClusterFrame(t, 25, 3, testFrame)
		ms := c.groupFrame(3, rafted.Config{}, testFrame)
		ctx, cancel := ctxT(30 * time.Second)
		defer cancel()
		s := ms[0].Server()
		for _, tc := range []struct {
			name string
			from int
			size int
		}{
			{"local", 0, 100 << 10},
			{"remote, request just fits", 1, testFrame - 400},
		} {
			cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := rafted.Command(cctx, c.node(tc.from), s, []any{"put", strings.Repeat("k", tc.size), int64(1)}, "")
			ccancel()
			if !errors.Is(err, rafted.ErrCommandTooLarge) {
				t.Fatalf("%s: command of %d bytes: %v", tc.name, tc.size, err)
			}
			cctx, ccancel = context.WithTimeout(ctx, 2*time.Second)
			r, err := rafted.Command(cctx, c.node(0), s, add("n", 1), tc.name)
			ccancel()
			if err != nil {
				t.Fatalf("%s: command after the oversize one: %v %v", tc.name, r, err)
			}
		}
	})
}

// TestLargeSnapshotCrossesSmallFrames: a member joins a group whose value
// is larger than a frame: the snapshot travels in chunks.
func TestLargeSnapshotCrossesSmallFrames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newClusterFrame(t, 26, 2, testFrame)
		ms := c.groupFrame(1, rafted.Config{MaxRetainedCommittedLogs: 5}, testFrame)
		ctx, cancel := ctxT(60 * time.Second)
		defer cancel()
		n, s := c.node(0), ms[0].Server()
		for i := range 100 { // about 100 KiB of value
			if _, err := rafted.Command(ctx, n, s, put(fmt.Sprintf("%04d%s", i, strings.Repeat("v", 1000)), int64(i)), ""); err != nil {
				t.Fatal(err)
			}
		}
		m, err := rafted.Start(ctx, c.node(1), rafted.Options{NewData: newKV, Join: []rafted.Server{s}, Name: "rv", MaxFrameSize: testFrame})
		if err != nil {
			t.Fatalf("join: %v", err)
		}
		if err := rafted.ReplaceLeader(ctx, n, s, m.PID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		key := fmt.Sprintf("%04d%s", 99, strings.Repeat("v", 1000))
		if q, err := rafted.Query(ctx, c.node(1), m.Server(), key); q != int64(99) || err != nil {
			t.Fatalf("new member's value %v, %v", q, err)
		}
	})
}
