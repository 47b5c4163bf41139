package supervisor_test

import (
	"context"
	"testing"
	"time"

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

// Inspecting a supervisor shows its strategy, intensity and the restarts
// each child's exits caused.
func TestInspectSupervisor(t *testing.T) {
	node, err := actor.NewNode(actor.Config{Name: "inspect@test"})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Stop(context.Background())
	newCounter := func() actor.GenServer { return &counter{} }
	sup, err := supervisor.Start(node, supervisor.Spec{Strategy: supervisor.OneForAll, Intensity: 5, Period: time.Minute, Children: []supervisor.ChildSpec{
		supervisor.Worker("a", newCounter, actor.WithName("a")),
		supervisor.Worker("b", newCounter),
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, _ = node.Call(ctx, actor.Name{Name: "a"}, "crash")
	// The supervisor handles the exit before the Inspect queued after it.
	v, err := node.Inspect(ctx, sup)
	st, ok := v.(supervisor.State)
	if err != nil || !ok {
		t.Fatalf("Inspect = %v, %v", v, err)
	}
	if st.Strategy != supervisor.OneForAll || st.Intensity != 5 || st.Period != time.Minute || st.Restarts != 1 || st.Recent != 1 ||
		len(st.Children) != 2 || st.Children[0].ID != "a" || st.Children[0].Restarts != 1 || st.Children[1].Restarts != 0 || st.Children[1].PID.IsZero() {
		t.Fatalf("state %+v", st)
	}
}
