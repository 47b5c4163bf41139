package ensemble

import (
	"runtime"
	"testing"

	"github.com/gotp-dev/gotp/internal/raftchunk"
	"go.etcd.io/raft/v3/raftpb"
)

// FuzzDecodeBatch feeds arbitrary bytes, and valid batches cut and flipped,
// to the decoders of what other nodes' managers and routers send: they must
// return an error or a value, never panic, and never allocate more than the
// input can describe.
func FuzzDecodeBatch(f *testing.F) {
	valid, err := encodeBatch(hostBatch{
		From: "n1", Cluster: "c",
		Envs: []peerEnv{{Ens: "e1", Kind: 1, Raft: raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 3}},
			{Ens: "e1", Kind: envPiece, Raft: raftpb.Message{From: 1, To: 2, Term: 3},
				Piece: &raftchunk.Piece{Term: 3, Index: 9, Seq: 1, Total: 4, Data: []byte("piece")}}},
		Notices: []View{{Ensemble: "e1", Leader: "n1", Term: 3, Members: []string{"n1", "n2"}}},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte{0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := decodeBatch(b); err == nil {
			if len(h.Envs) > len(b) || len(h.Notices) > len(b) {
				t.Fatalf("%d envelopes and %d notices from %d bytes", len(h.Envs), len(h.Notices), len(b))
			}
		}
		_, _ = decodeRouted(b)
	})
}

// A count that the rest of the batch cannot hold is refused before anything
// is allocated for it: 600,000 zero bytes claiming 300,000 envelopes (each
// takes at least 3 bytes) must not make the decoder allocate 300,000 of them.
func TestDecodeBatchRefusesImpossibleCounts(t *testing.T) {
	b := appendString(nil, "n1")
	b = appendString(b, "c")
	b = appendUvarints(b, 300_000)
	b = append(b, make([]byte, 600_000)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := decodeBatch(b)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("accepted")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Fatalf("decoding a refused 600 KB batch allocated %d MB", grew>>20)
	}
}
