package rafted

import "github.com/gotp-dev/gotp/internal/raftlog"

// A member's Dir holds its Raft state as package raftlog keeps it: its ID,
// the latest snapshot and a checksummed log, replayed on open; a damaged one
// is ErrDamagedDir.
type (
	disk      = raftlog.Log
	diskState = raftlog.State
)

func openDisk(dir string) (*disk, diskState, error) { return raftlog.Open(dir, ErrDamagedDir) }
