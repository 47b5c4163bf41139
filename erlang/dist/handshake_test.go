package dist

import (
	"errors"
	"net"
	"testing"
)

// Both handshakes (version 6, and version 5 as nodes before OTP 23 speak
// it) complete between a dialer and an acceptor with the same cookie, and
// fail with ErrBadCookie with another.
func TestHandshakeVersions(t *testing.T) {
	for _, v5 := range []bool{false, true} {
		for _, cookie := range []string{"same", "other"} {
			a, b := net.Pipe()
			accepted := make(chan peerInfo, 1)
			acceptErr := make(chan error, 1)
			go func() {
				p, err := acceptHandshake(hsConn{Conn: b}, "acc@h", 7, "same", func(peerInfo) error { return nil })
				accepted <- p
				acceptErr <- err
				b.Close()
			}()
			peer, err := dialHandshake(hsConn{Conn: a}, "dial@h", 9, cookie, "acc@h", v5)
			a.Close()
			p, aerr := <-accepted, <-acceptErr
			if cookie == "other" {
				if !errors.Is(err, ErrBadCookie) && !errors.Is(aerr, ErrBadCookie) {
					t.Errorf("v5 %v, wrong cookie: dialer %v, acceptor %v", v5, err, aerr)
				}
				continue
			}
			if err != nil || aerr != nil {
				t.Fatalf("v5 %v: dialer %v, acceptor %v", v5, err, aerr)
			}
			if peer.name != "acc@h" || p.name != "dial@h" || p.v5 != v5 || peer.v5 != v5 {
				t.Errorf("v5 %v: dialer saw %+v, acceptor saw %+v", v5, peer, p)
			}
			if !v5 && (peer.creation != 7 || p.creation != 9) {
				t.Errorf("creations: %d, %d", peer.creation, p.creation)
			}
		}
	}
}
