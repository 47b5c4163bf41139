package wire_test

import (
	"errors"
	"fmt"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
)

// Order is an application message. Both nodes register it under the same
// name.
type Order struct {
	ID       int
	Customer actor.PID
}

var ErrOutOfStock = wire.MustRegisterError(errors.New("shop: out of stock"))

func init() { wire.MustRegister[Order]("shop.Order") }

func ExampleRegister() {
	customer := actor.PID{Node: "web@host", Creation: 1, ID: 7}
	data, err := wire.EncodeEnvelope(actor.Envelope{
		Kind:    actor.EnvMessage,
		ToName:  actor.Name{Node: "shop@host", Name: "orders"},
		Message: &Order{ID: 42, Customer: customer}, // *T encodes as T
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	env, err := wire.DecodeEnvelope(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%T %d from %v to %v\n", env.Message, env.Message.(Order).ID, env.Message.(Order).Customer, env.ToName)
	// Output: wire_test.Order 42 from <web@host.1.7> to {orders,shop@host}
}

func ExampleRegisterError() {
	reply := fmt.Errorf("order 42: %w", ErrOutOfStock)
	data, _ := wire.EncodeEnvelope(actor.Envelope{Kind: actor.EnvReply, Message: reply})
	env, _ := wire.DecodeEnvelope(data)
	err := env.Message.(error)
	fmt.Println(err, errors.Is(err, ErrOutOfStock))
	// Output: order 42: shop: out of stock true
}

func ExampleEncodeEnvelope_unknownType() {
	type secret struct{ Key string }
	_, err := wire.EncodeEnvelope(actor.Envelope{Kind: actor.EnvMessage, Message: secret{}})
	fmt.Println(err)
	fmt.Println(errors.Is(err, wire.ErrUnknownType))
	// Output:
	// wire: unregistered type wire_test.secret: unknown type
	// true
}

func ExampleEnvelopeOf() {
	data, _ := wire.EncodeEnvelope(actor.Envelope{
		Kind: actor.EnvExit, From: actor.PID{Node: "a@host", ID: 1}, To: actor.PID{Node: "b@host", ID: 2},
		Reason: fmt.Errorf("supervisor: %w", actor.Shutdown),
	})
	f, err := wire.DecodeFrame(data) // ErrMalformed: close the connection
	if err != nil {
		fmt.Println(err)
		return
	}
	if f.GetEnvelope() == nil {
		fmt.Printf("handshake frame %T\n", f.GetBody())
		return
	}
	env, err := wire.EnvelopeOf(f.GetEnvelope())
	var bodyErr *wire.BodyError
	if errors.As(err, &bodyErr) {
		fmt.Println("message did not decode:", bodyErr)
		return
	}
	fmt.Println(env.Reason, errors.Is(env.Reason, actor.Shutdown))
	// Output: supervisor: shutdown true
}
