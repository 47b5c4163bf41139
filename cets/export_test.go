package cets

import (
	"context"

	"github.com/gotp-dev/gotp/actor"
)

// ForcePeers makes server take peers and joinRef as a join's last step
// would, without a join, so tests can build inconsistent clusters.
func ForcePeers(ctx context.Context, c actor.Caller, server actor.Dest, peers []actor.PID, joinRef uint64) error {
	_, err := c.Call(ctx, server, sendDumpReq{Peers: peers, JoinRef: joinRef})
	return err
}
