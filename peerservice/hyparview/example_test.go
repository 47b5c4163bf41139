package hyparview_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/gotp-dev/gotp/peerservice/hyparview"
)

// Two cores joined by hand: the owner carries each Send to its
// destination's Handle.
func ExampleCore() {
	newCore := func(name string) *hyparview.Core[string] {
		c, err := hyparview.NewCore(name, hyparview.Config{}, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			panic(err)
		}
		return c
	}
	cores := map[string]*hyparview.Core[string]{"a": newCore("a"), "b": newCore("b")}
	type msg struct {
		from string
		send hyparview.Send[string]
	}
	var queue []msg
	push := func(from string, eff hyparview.Effects[string]) {
		for _, s := range eff.Sends {
			queue = append(queue, msg{from, s})
		}
		for _, ch := range eff.Changes {
			fmt.Printf("%s: %s up=%v\n", from, ch.Peer, ch.Up)
		}
	}
	push("b", cores["b"].Join("a"))
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		push(m.send.To, cores[m.send.To].Handle(m.from, m.send.Msg))
	}
	fmt.Println(cores["a"].Active(), cores["b"].Active())
	// Output:
	// a: b up=true
	// b: a up=true
	// [b] [a]
}
