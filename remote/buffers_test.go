package remote_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/wire"
)

// keptBytes is a message whose codec keeps the bytes it is given.
type keptBytes struct{ b []byte }

func init() {
	if err := wire.RegisterCodec("remote_test.keptBytes",
		func(k keptBytes) ([]byte, error) { return k.b, nil },
		func(b []byte) (keptBytes, error) { return keptBytes{b: b}, nil },
	); err != nil {
		panic(err)
	}
}

// Frames are encoded into recycled buffers and read from the transport's
// buffer without a copy: what a receiver holds must never change under it,
// whether it is a []byte, a string or a value whose codec kept its bytes, and
// whatever sizes the frames around it have.
func TestReceivedMessagesOwnTheirBytes(t *testing.T) {
	a, b := startNode(t, nil, "a", remote.Config{}), startNode(t, nil, "b", remote.Config{})
	connect(t, a, b)
	const count = 3000
	got := make(chan any, count)
	sink, err := b.Spawn(actor.Func(func(_ *actor.Process, msg any) error {
		got <- msg
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	payload := func(i int) []byte {
		size := 1 + i%200
		if i%97 == 0 {
			size = 70 << 10 // larger than the reader's buffer: read into a slice of its own
		}
		return bytes.Repeat([]byte{byte(i)}, size)
	}
	message := func(i int) any {
		switch i % 3 {
		case 0:
			return payload(i)
		case 1:
			return string(payload(i))
		}
		return keptBytes{b: payload(i)}
	}
	for i := range count {
		if err := a.Send(sink, message(i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	held := make([]any, 0, count)
	for range count {
		held = append(held, <-got)
	}
	for i, m := range held {
		want := fmt.Sprintf("%v", message(i))
		if k, ok := m.(keptBytes); ok {
			m = keptBytes{b: k.b}
		}
		if have := fmt.Sprintf("%v", m); have != want {
			t.Fatalf("message %d changed after it arrived: %.40s..., want %.40s...", i, have, want)
		}
	}
}
