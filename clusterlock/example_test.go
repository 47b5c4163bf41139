package clusterlock_test

import (
	"context"
	"fmt"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/clusterlock"
)

// Trans runs a function while holding a lock on every given node; here one
// node, so that the example needs no network.
func ExampleTrans() {
	ctx := context.Background()
	node, _ := actor.NewNode(actor.Config{Name: "a"})
	defer node.Stop(ctx)
	srv, _ := clusterlock.Start(node, clusterlock.Config{})

	err := clusterlock.Trans(ctx, node, "migrate", []string{"a"}, func(ctx context.Context) error {
		info, _ := srv.Info(ctx)
		fmt.Println("held:", info[0].ID, "count", info[0].Count)
		return nil
	})
	info, _ := srv.Info(ctx)
	fmt.Println("after:", err, len(info))
	// Output:
	// held: migrate count 1
	// after: <nil> 0
}
