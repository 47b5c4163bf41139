package ensemble

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/internal/raftchunk"
	"go.etcd.io/raft/v3/raftpb"
)

// TestApplyOpRules is the conditional-update rule, table-driven: a
// condition compares the key's version with the client's, never the
// leader's epoch.
func TestApplyOpRules(t *testing.T) {
	set := Object{Key: "k", Value: []byte("a"), Epoch: 1, Seq: 5}
	tomb := Object{Key: "k", NotFound: true, Epoch: 2, Seq: 7}
	cases := []struct {
		name    string
		stored  *Object
		op      kvOp
		wantErr error
		want    Object
	}{
		{"get missing", nil, kvOp{Kind: opGet, Key: "k"}, nil, Object{Key: "k", NotFound: true}},
		{"over missing", nil, kvOp{Kind: opOver, Key: "k", Value: []byte("b")}, nil, Object{Key: "k", Value: []byte("b"), Epoch: 9, Seq: 10}},
		{"put_once missing", nil, kvOp{Kind: opPutOnce, Key: "k", Value: []byte("b")}, nil, Object{Key: "k", Value: []byte("b"), Epoch: 9, Seq: 10}},
		{"put_once set", &set, kvOp{Kind: opPutOnce, Key: "k", Value: []byte("b")}, ErrFailed, set},
		{"put_once tombstone", &tomb, kvOp{Kind: opPutOnce, Key: "k", Value: []byte("b")}, nil, Object{Key: "k", Value: []byte("b"), Epoch: 9, Seq: 10}},
		{"update current, older epoch", &set, kvOp{Kind: opUpdate, Key: "k", Value: []byte("b"), Expect: set.Version()}, nil, Object{Key: "k", Value: []byte("b"), Epoch: 9, Seq: 10}},
		{"update stale", &set, kvOp{Kind: opUpdate, Key: "k", Value: []byte("b"), Expect: Version{1, 4}}, ErrFailed, set},
		{"update missing with zero version", nil, kvOp{Kind: opUpdate, Key: "k", Value: []byte("b")}, nil, Object{Key: "k", Value: []byte("b"), Epoch: 9, Seq: 10}},
		{"update tombstone", &tomb, kvOp{Kind: opUpdate, Key: "k", Value: []byte("b"), Expect: tomb.Version()}, nil, Object{Key: "k", Value: []byte("b"), Epoch: 9, Seq: 10}},
		{"delete", &set, kvOp{Kind: opDelete, Key: "k"}, nil, Object{Key: "k", NotFound: true, Epoch: 9, Seq: 10}},
		{"safe_delete current", &set, kvOp{Kind: opSafeDelete, Key: "k", Expect: set.Version()}, nil, Object{Key: "k", NotFound: true, Epoch: 9, Seq: 10}},
		{"safe_delete stale", &set, kvOp{Kind: opSafeDelete, Key: "k", Expect: Version{}}, ErrFailed, set},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := NewMemoryBackend("", "")
			if tc.stored != nil {
				_ = b.Put(*tc.stored)
			}
			got, err, stored := applyOp(b, tc.op, 9, 10)
			if stored != nil {
				t.Fatalf("the memory backend did not keep a write: %v", stored)
			}
			if !errors.Is(err, tc.wantErr) || string(got.Value) != string(tc.want.Value) || got.NotFound != tc.want.NotFound || got.Version() != tc.want.Version() {
				t.Fatalf("got %+v, %v; want %+v, %v", got, err, tc.want, tc.wantErr)
			}
			if err == nil && tc.op.Kind != opGet {
				if stored, _ := b.Get("k"); stored.Version() != got.Version() {
					t.Fatalf("stored %+v", stored)
				}
			}
		})
	}
}

// TestCoreQuiesces drives one core: an ensemble of one elects itself,
// goes quiet once idle, and a write wakes it.
func TestCoreQuiesces(t *testing.T) {
	be, _ := NewMemoryBackend("", "")
	cfg := Config{}.withDefaults()
	now := time.Unix(0, 0)
	c, err := newPeerCore(peerInit{ens: "e", node: "a", members: []string{"a"}, cfg: cfg, backend: be, log: cfg.Logger, now: now})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 * cfg.electionTicks() {
		now = now.Add(cfg.Tick)
		c.tick(now)
		if err := c.process(); err != nil {
			t.Fatal(err)
		}
	}
	if c.status().State != "leader" || !c.quiesced {
		t.Fatalf("status %+v", c.status())
	}
	applied := c.applied
	if r := c.request(fromForTest(), kvOp{Kind: opOver, Key: "k", Value: []byte("v")}); r != nil && c.quiesced {
		t.Fatalf("request left the core quiescent (%v)", r)
	}
	if err := c.process(); err != nil {
		t.Fatal(err)
	}
	if c.applied != applied+1 || len(c.replies) != 1 {
		t.Fatalf("applied %d, replies %+v", c.applied, c.replies)
	}
	if obj, ok := c.replies[0].value.(Object); !ok || string(obj.Value) != "v" || obj.Seq != c.applied {
		t.Fatalf("reply %+v", c.replies[0].value)
	}
}

// TestBatchCodec round-trips a host batch and refuses one cut short.
func TestBatchCodec(t *testing.T) {
	piece := raftchunk.Piece{Term: 3, Index: 9, Seq: 1, Total: 4, Data: []byte("piece")}
	b := hostBatch{From: "n1", Cluster: "c", Envs: []peerEnv{{Ens: "e", Kind: envRaft}, {Ens: "f", Kind: envQuiesce},
		{Ens: "g", Kind: envPiece, Raft: raftpb.Message{From: 2}, Piece: &piece}},
		Notices: []View{{Ensemble: "e", Leader: "n1", Term: 3, Members: []string{"n1", "n2"}}}}
	enc, err := encodeBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeBatch(enc)
	if err != nil || got.From != "n1" || len(got.Envs) != 3 || got.Envs[1].Kind != envQuiesce || got.Notices[0].Term != 3 ||
		got.Envs[2].Raft.From != 2 || !reflect.DeepEqual(*got.Envs[2].Piece, piece) {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	for i := range len(enc) - 1 {
		if _, err := decodeBatch(enc[:i]); err == nil {
			t.Fatalf("a batch cut at %d decoded", i)
		}
	}
}

func fromForTest() actor.From { return actor.From{} }

// splitBatch cuts a batch larger than a frame into batches of at most
// max bytes each (an envelope larger than that alone), in order, and
// leaves a small one whole.
func TestSplitBatch(t *testing.T) {
	big := func(ens string, n int) peerEnv {
		return peerEnv{Ens: ens, Kind: envRaft, Raft: raftpb.Message{Type: raftpb.MsgApp,
			Entries: []raftpb.Entry{{Data: make([]byte, n)}}}}
	}
	h := hostBatch{From: "n1", Cluster: "c",
		Envs:    []peerEnv{big("a", 600), big("b", 600), big("c", 3000), big("d", 100)},
		Notices: []View{{Ensemble: "a", Leader: "n1", Term: 2}}}
	if parts := splitBatch(h, 100_000); len(parts) != 1 || len(parts[0].Envs) != 4 {
		t.Fatalf("a small batch was cut: %+v", parts)
	}
	parts := splitBatch(h, 1500)
	var order []string
	for i, p := range parts {
		if p.From != "n1" || p.Cluster != "c" {
			t.Fatalf("part %d lost its sender: %+v", i, p)
		}
		size := 0
		for _, e := range p.Envs {
			size += e.size()
			order = append(order, e.Ens)
		}
		if size > 1500 && len(p.Envs) > 1 {
			t.Fatalf("part %d holds %d bytes in %d envelopes", i, size, len(p.Envs))
		}
	}
	if got := fmt.Sprint(order); got != "[a b c d]" || len(parts) != 3 || len(parts[2].Notices) != 1 {
		t.Fatalf("%d parts, envelopes %s, notices in the last %d", len(parts), got, len(parts[len(parts)-1].Notices))
	}
}

// An Enable whose cluster state never reached the root (its ctx ran out
// between starting the root and writing) is finished by the next Enable,
// with the same cluster id; a finished one is not enabled twice.
func TestEnableFinishesAnEnableCutShort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, err := actor.NewNode(actor.Config{Name: "n1"})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = n.Stop(context.Background()) }()
		s, err := Start(n, nil, Config{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// The first half of an Enable: the root runs, nothing is written.
		if _, err := n.Call(ctx, s.local(), enableReq{ID: "cut-short"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Enable(ctx); err != nil {
			t.Fatalf("enable again: %v", err)
		}
		if id, err := s.ClusterID(ctx); err != nil || id != "cut-short" {
			t.Fatalf("cluster id %q, %v", id, err)
		}
		if m, err := s.Members(ctx); err != nil || len(m) != 1 || m[0] != "n1" {
			t.Fatalf("members %v, %v", m, err)
		}
		if err := s.Enable(ctx); err == nil {
			t.Fatal("a cluster was enabled twice")
		}
	})
}
