package discovery_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets/discovery"
)

// A discovery process reading its node list from a file. With no network it
// connects nowhere, and this node alone is the cluster.
func Example() {
	ctx := context.Background()
	node, _ := actor.NewNode(actor.Config{Name: "a@host"})
	defer node.Stop(ctx)

	dir, _ := os.MkdirTemp("", "disco-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "nodes.txt")
	_ = os.WriteFile(path, []byte("a@host\n"), 0o644)

	d, err := discovery.Start(node, discovery.Config{Backend: &discovery.FileBackend{Path: path}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Stop(ctx)
	if err := d.WaitForReady(ctx); err != nil {
		fmt.Println(err)
		return
	}
	si, _ := d.SystemInfo(ctx)
	fmt.Println(si.Nodes, si.Phase, si.LastGetNodesRetryType, si.VerifyReady.Ready())
	// Output: [a@host] initial initial true
}
