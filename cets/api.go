package cets

import (
	"context"
	"fmt"
	"slices"

	"github.com/gotp-dev/gotp/actor"
)

// Calls that need no record types: any node may make them to any table's
// server, whatever its K and V (discovery, the join, tools).

// GetInfo describes the table server server.
func GetInfo(ctx context.Context, c actor.Caller, server actor.Dest) (Info, error) {
	return actor.CallAs[Info](ctx, c, server, infoReq{})
}

// Pause holds back writes on server until Unpause with the returned ref,
// or until owner exits (the zero PID: only Unpause releases it). Pauses
// nest: writes resume when the last is released.
func Pause(ctx context.Context, c actor.Caller, server actor.Dest, owner actor.PID) (actor.Ref, error) {
	return actor.CallAs[actor.Ref](ctx, c, server, pauseReq{Owner: owner})
}

// Unpause releases the pause ref of server. ErrUnknownPauseMonitor if it is
// not one.
func Unpause(ctx context.Context, c actor.Caller, server actor.Dest, ref actor.Ref) error {
	_, err := c.Call(ctx, server, unpauseReq{Ref: ref})
	return err
}

// Ping checks that server answers.
func Ping(ctx context.Context, c actor.Caller, server actor.Dest) error {
	_, err := c.Call(ctx, server, pingReq{})
	return err
}

// PingAll pings every server of server's cluster (server included) and
// returns the first failure.
func PingAll(ctx context.Context, c actor.Caller, server actor.Dest) error {
	info, err := GetInfo(ctx, c, server)
	if err != nil {
		return err
	}
	for _, p := range info.OtherServers {
		if err := Ping(ctx, c, p); err != nil {
			return fmt.Errorf("cets: ping %s: %w", p, err)
		}
	}
	return nil
}

// OtherNodes returns the nodes of server's peers, sorted.
func OtherNodes(ctx context.Context, c actor.Caller, server actor.Dest) ([]string, error) {
	info, err := GetInfo(ctx, c, server)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range info.OtherServers {
		out = append(out, p.Node)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// dumpChunks reads server's whole dump, chunk by chunk (each at most
// maxBytes encoded; zero means DefaultChunkBytes).
func dumpChunks(ctx context.Context, c actor.Caller, server actor.Dest, maxBytes int) ([][]byte, error) {
	var chunks [][]byte
	req := dumpChunkReq{MaxBytes: maxBytes}
	for {
		r, err := actor.CallAs[dumpChunkReply](ctx, c, server, req)
		if err != nil {
			return nil, err
		}
		if len(r.Last) > 0 {
			chunks = append(chunks, r.Chunk)
		}
		if r.Done || len(r.Last) == 0 {
			return chunks, nil
		}
		req.After, req.HasAfter = r.Last, true
	}
}
