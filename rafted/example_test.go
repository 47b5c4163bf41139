package rafted_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/rafted"
)

func Example() {
	node, _ := actor.NewNode(actor.Config{Name: "a"})
	defer node.Stop(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// A one-member group: the member is its leader at once.
	m, err := rafted.Start(ctx, node, rafted.Options{NewData: newKV, Create: &rafted.Config{}, Name: "kv"})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := rafted.ByName("a", "kv")
	ret, _ := rafted.Command(ctx, node, s, []any{"add", "hits", int64(2)}, "req-1")
	fmt.Println("command:", ret)
	ret, _ = rafted.Command(ctx, node, s, []any{"add", "hits", int64(2)}, "req-1") // a retry: not applied again
	fmt.Println("retried:", ret)
	val, _ := rafted.Query(ctx, node, s, "hits")
	fmt.Println("query:", val)
	st, _ := rafted.GetStatus(ctx, node, m.Server())
	fmt.Println("state:", st.StateName, "members:", len(st.Members))
	// Output:
	// command: 2
	// retried: 2
	// query: 2
	// state: leader members: 1
}
