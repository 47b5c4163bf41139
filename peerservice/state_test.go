package peerservice_test

import (
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// A running node's membership state can be read, and decodes to its members.
func TestGetLocalState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(29)
		nodes := fullMesh(t, net, 3, remote.Config{})
		time.Sleep(3 * hb)
		if err := nodes[0].svc.LeaveNode(t.Context(), "n2"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * hb)
		st, err := nodes[1].svc.GetLocalState(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, sp := range peerservice.Decode(st) {
			got = append(got, sp.Name)
		}
		if want := nodes[1].members(t); !reflect.DeepEqual(got, want) || len(want) != 2 {
			t.Fatalf("state decodes to %v, members are %v", got, want)
		}
		st0, err := nodes[0].svc.GetLocalState(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(st0, st) {
			t.Fatalf("converged nodes hold different states:\n%+v\n%+v", st0, st)
		}
	})
}
