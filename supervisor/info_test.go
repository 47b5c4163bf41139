package supervisor_test

import (
	"context"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/supervisor"
)

// A supervisor names itself in Info, so that tools find supervisors.
func TestInfoNamesSupervisors(t *testing.T) {
	node, err := actor.NewNode(actor.Config{Name: "info@test"})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Stop(context.Background())
	sup, err := supervisor.Start(node, supervisor.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := node.Info(sup); err != nil || info.Behavior != "supervisor" {
		t.Fatalf("Info: %q, %v; want behavior supervisor", info.Behavior, err)
	}
}
