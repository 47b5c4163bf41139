package remote_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/remote/wire"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// Anyone who can reach the port must not get an offline oracle for the
// cookie: the acceptor reveals nothing computed from the cookie until the
// dialer has proved it knows it. An attacker that sends a hello with a
// challenge of its choosing, then a made-up proof, learns no digest of
// anything, and is refused.
func TestAcceptorRevealsNothingBeforeTheDialerProves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(50)
		const cookie = "kiwi" // a weak cookie an oracle would give away
		b := startNode(t, net, "b", remote.Config{Cookie: cookie})
		raw, err := net.Transport("mallory").Dial(context.Background(), "b")
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		chosen := []byte("mallory's chosen challenge......")
		hello, _ := wire.EncodeFrame(&wirepb.Frame{Body: &wirepb.Frame_Hello{Hello: &wirepb.Hello{
			Name: "mallory", Creation: 1, Version: remote.ProtocolVersion, Channel: remote.DefaultChannel, Challenge: chosen,
		}}})
		if err := raw.WriteFrames([][]byte{hello}); err != nil {
			t.Fatal(err)
		}
		seen := [][]byte{}
		collect := func(b []byte) { seen = append(seen, b) }
		reply, err := raw.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		collect(reply)
		f, _ := wire.DecodeFrame(reply)
		ch := f.GetChallenge()
		if ch == nil {
			t.Fatalf("reply to a hello: %v", f)
		}
		if len(ch.GetDigest()) != 0 {
			t.Fatalf("the acceptor sent a digest before the dialer proved anything: %x", ch.GetDigest())
		}
		bogus, _ := wire.EncodeFrame(&wirepb.Frame{Body: &wirepb.Frame_ChallengeAck{ChallengeAck: &wirepb.ChallengeAck{
			Digest: make([]byte, 32), Challenge: chosen,
		}}})
		if err := raw.WriteFrames([][]byte{bogus}); err != nil {
			t.Fatal(err)
		}
		if reply, err = raw.ReadFrame(); err == nil {
			collect(reply)
			if f, _ := wire.DecodeFrame(reply); f.GetRefuse() == nil {
				t.Fatalf("a made-up proof was answered with %v", f)
			}
		}
		// Nothing mallory received holds a keyed digest of its challenge
		// under the cookie, whatever the acceptor's role label.
		for _, role := range []string{"A", "D"} {
			m := hmac.New(sha256.New, []byte(cookie))
			m.Write([]byte("gotp-handshake-v1\x00" + role + "\x00"))
			m.Write(chosen)
			m.Write([]byte("\x00b"))
			want := m.Sum(nil)
			for _, got := range seen {
				if containsBytes(got, want) {
					t.Fatalf("the acceptor gave away HMAC(cookie, %q, chosen challenge)", role)
				}
			}
		}
		if b.r.IsConnected("mallory") {
			t.Fatal("mallory is connected")
		}
	})
}

func containsBytes(haystack, needle []byte) bool {
	for i := 0; i+len(needle) <= len(haystack); i++ {
		if string(haystack[i:i+len(needle)]) == string(needle) {
			return true
		}
	}
	return false
}
