package peerservice_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// Point 9: a client's refusal refers the dialer to a server with the
// server's whole spec, its role tag included.
func TestReferralCarriesWholeSpec(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(30)
		ss, cs := clientServer(t, net, 1, 1)
		c2 := startNode(t, net, "c2", csConfig(peerservice.Client), remote.Config{})
		time.Sleep(2 * hb)
		err := c2.svc.Remote().Connect(t.Context(), cs[0].spec())
		var ref *remote.Refusal
		if !errors.As(err, &ref) {
			t.Fatalf("connect to a client: %v, want a refusal", err)
		}
		want := ss[0].spec()
		if ref.Referral.Name != want.Name || ref.Referral.Tags[peerservice.RoleTag] != "server" {
			t.Fatalf("referral %+v, want the server's whole spec %+v", ref.Referral, want)
		}
	})
}
