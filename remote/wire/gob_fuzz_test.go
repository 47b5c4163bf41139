package wire_test

import (
	"bytes"
	"encoding/gob"
	"runtime"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
)

// tree is a registered type with everything gob could be made to blow up:
// recursion, slices, maps, strings and byte strings.
type tree struct {
	Name     string
	Data     []byte
	Weights  []int64
	Labels   map[string][]string
	Children []*tree
}

// gobTree is tree's shape under RegisterGob.
type gobTree struct {
	Name     string
	Data     []byte
	Weights  []int64
	Labels   map[string][]string
	Children []*gobTree
}

func init() {
	wire.MustRegister[tree]("wire_test.tree")
	if err := wire.RegisterGob[gobTree]("wire_test.gobTree"); err != nil {
		panic(err)
	}
}

// gobBudget is what decoding a registered value may allocate: a constant
// plus a multiple of its encoded size. Registered Go types are decoded with
// encoding/gob, which is not hardened against hostile input in general; the
// bound that holds is the one this fuzz target checks, on top of the frame
// limit that caps the input (a peer can make a node allocate at most about
// gobBytesPerByte times MaxFrameSize per message).
const (
	gobBaseBudget   = 1 << 20
	gobBytesPerByte = 64
)

// FuzzRegisteredGob decodes arbitrary bytes as the gob encoding of a value
// registered with RegisterGob, inside a well-formed frame: it must never
// panic (a *BodyError at most) nor allocate beyond gobBudget.
func FuzzRegisteredGob(f *testing.F) {
	good := gobTree{Name: "root", Data: []byte{1, 2}, Weights: []int64{3}, Labels: map[string][]string{"k": {"v"}},
		Children: []*gobTree{{Name: "leaf", Children: []*gobTree{{Name: "deeper"}}}}}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(good); err != nil {
		f.Fatal(err)
	}
	enc := buf.Bytes()
	f.Add(enc)
	for n := range len(enc) {
		f.Add(enc[:n])
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x7f})
	fuzzRegistered(f, "wire_test.gobTree")
}

// fuzzRegistered decodes each input as the data of a value registered under
// name, in a well-formed frame, and fails if that allocated beyond gobBudget.
func fuzzRegistered(f *testing.F, name string) {
	msg := actor.Envelope{Kind: actor.EnvMessage, To: pidB}
	f.Fuzz(func(t *testing.T, data []byte) {
		frame := frameWith(t, msg, registered(name, data))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _ = wire.DecodeEnvelope(frame)
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > gobBaseBudget+gobBytesPerByte*uint64(len(data)) {
			t.Fatalf("decoding %d bytes as %s allocated %d", len(data), name, grew)
		}
	})
}
