package remote

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/remote/wire"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// protocolVersion is the handshake and envelope protocol spoken here.
// Version 2 adds the net tick's empty frames.
const protocolVersion = 2

// The handshake, dialer D and acceptor A, each with its own random challenge:
//
//	D -> A  Hello{name, creation, tags, addrs, expected name, channel, index, cD}
//	A -> D  Challenge{name, creation, tags, addrs, cA, digest(cookie, "A", cD, nameA)}   or Refuse
//	D -> A  ChallengeAck{digest(cookie, "D", cA, nameD)}                               or Refuse
//	A -> D  Accept                                                                     or Refuse
//
// Each side proves it knows the cookie by a keyed digest over the other's
// fresh challenge, so the cookie never crosses the wire and an old exchange
// cannot be replayed. A refusal carries a reason, logged on both sides, and
// possibly a referral to another node.

type peerHello struct {
	spec     NodeSpec
	creation uint32
	channel  string
	index    int
	downs    uint64 // the peer's count of its ended sessions with us
}

func digest(cookie, role string, challenge []byte, name string) []byte {
	m := hmac.New(sha256.New, []byte(cookie))
	m.Write([]byte("gotp-handshake-v1\x00" + role + "\x00"))
	m.Write(challenge)
	m.Write([]byte("\x00" + name))
	return m.Sum(nil)
}

func newChallenge() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

func writeFrame(conn transport.Conn, f *wirepb.Frame) error {
	b, err := wire.EncodeFrame(f)
	if err != nil {
		return err
	}
	return conn.WriteFrames([][]byte{b})
}

func readFrame(conn transport.Conn) (*wirepb.Frame, error) {
	b, err := conn.ReadFrame()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	f, err := wire.DecodeFrame(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	return f, nil
}

func refusalOf(r *wirepb.Refuse) error {
	ref := &Refusal{Reason: r.GetReason()}
	if r.GetReferralName() != "" {
		ref.Referral = NodeSpec{Name: r.GetReferralName(), Addrs: r.GetReferralAddrs()}
	}
	switch r.GetReason() {
	case ErrBadCookie.Error():
		return fmt.Errorf("%w (%w)", ErrBadCookie, ref)
	case ErrVersion.Error():
		return fmt.Errorf("%w (%w)", ErrVersion, ref)
	case ErrWrongName.Error():
		return fmt.Errorf("%w (%w)", ErrWrongName, ref)
	}
	return ref
}

func refuse(conn transport.Conn, reason error) {
	r := &wirepb.Refuse{Reason: reason.Error()}
	var ref *Refusal
	if errors.As(reason, &ref) {
		r.Reason = ref.Reason
		r.ReferralName = ref.Referral.Name
		r.ReferralAddrs = ref.Referral.Addrs
	}
	_ = writeFrame(conn, &wirepb.Frame{Body: &wirepb.Frame_Refuse{Refuse: r}})
}

// dialHandshake runs the dialer's side on a fresh connection.
func (r *Remote) dialHandshake(ctx context.Context, conn transport.Conn, expect, channel string, index int) (peerHello, error) {
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	mine := newChallenge()
	err := writeFrame(conn, &wirepb.Frame{Body: &wirepb.Frame_Hello{Hello: &wirepb.Hello{
		Name: r.node.Name(), Creation: r.node.Creation(), Version: protocolVersion,
		Tags: r.cfg.Tags, Addrs: r.Addrs(), ExpectName: expect,
		Channel: channel, ConnIndex: uint32(index), Challenge: mine,
		Downs: r.downsWith(expect),
	}}})
	if err != nil {
		return peerHello{}, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	f, err := readFrame(conn)
	if err != nil {
		return peerHello{}, err
	}
	if rf := f.GetRefuse(); rf != nil {
		return peerHello{}, refusalOf(rf)
	}
	ch := f.GetChallenge()
	if ch == nil {
		return peerHello{}, fmt.Errorf("%w: expected a challenge", ErrHandshake)
	}
	if expect != "" && ch.GetName() != expect {
		refuse(conn, ErrWrongName)
		return peerHello{}, fmt.Errorf("%w: dialed %s, reached %s", ErrWrongName, expect, ch.GetName())
	}
	if !hmac.Equal(ch.GetDigest(), digest(r.cfg.Cookie, "A", mine, ch.GetName())) {
		refuse(conn, ErrBadCookie)
		return peerHello{}, fmt.Errorf("%w: %s", ErrBadCookie, ch.GetName())
	}
	err = writeFrame(conn, &wirepb.Frame{Body: &wirepb.Frame_ChallengeAck{ChallengeAck: &wirepb.ChallengeAck{
		Digest: digest(r.cfg.Cookie, "D", ch.GetChallenge(), r.node.Name()),
	}}})
	if err != nil {
		return peerHello{}, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	f, err = readFrame(conn)
	if err != nil {
		return peerHello{}, err
	}
	if rf := f.GetRefuse(); rf != nil {
		return peerHello{}, refusalOf(rf)
	}
	if f.GetAccept() == nil {
		return peerHello{}, fmt.Errorf("%w: expected accept", ErrHandshake)
	}
	return peerHello{
		spec:     NodeSpec{Name: ch.GetName(), Addrs: ch.GetAddrs(), Tags: ch.GetTags()},
		creation: ch.GetCreation(),
		channel:  channel,
		index:    index,
		downs:    ch.GetDowns(),
	}, nil
}

// acceptHandshake runs the acceptor's side on an inbound connection.
func (r *Remote) acceptHandshake(ctx context.Context, conn transport.Conn) (peerHello, error) {
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	f, err := readFrame(conn)
	if err != nil {
		return peerHello{}, err
	}
	h := f.GetHello()
	if h == nil {
		return peerHello{}, fmt.Errorf("%w: expected hello", ErrHandshake)
	}
	peer := peerHello{
		spec:     NodeSpec{Name: h.GetName(), Addrs: h.GetAddrs(), Tags: h.GetTags()},
		creation: h.GetCreation(),
		channel:  h.GetChannel(),
		index:    int(h.GetConnIndex()),
		downs:    h.GetDowns(),
	}
	if h.GetVersion() != protocolVersion {
		refuse(conn, ErrVersion)
		return peer, fmt.Errorf("%w: %d from %s", ErrVersion, h.GetVersion(), h.GetName())
	}
	if h.GetExpectName() != "" && h.GetExpectName() != r.node.Name() {
		refuse(conn, ErrWrongName)
		return peer, fmt.Errorf("%w: %s dialed %s", ErrWrongName, h.GetName(), h.GetExpectName())
	}
	if h.GetName() == "" || h.GetName() == r.node.Name() {
		refuse(conn, ErrWrongName)
		return peer, fmt.Errorf("%w: peer calls itself %q", ErrWrongName, h.GetName())
	}
	ch, ok := r.cfg.channel(peer.channel)
	if !ok || peer.index < 0 || peer.index >= ch.Parallelism {
		reason := fmt.Errorf("%w: %s[%d]", ErrUnknownChannel, peer.channel, peer.index)
		refuse(conn, reason)
		return peer, reason
	}
	mine := newChallenge()
	err = writeFrame(conn, &wirepb.Frame{Body: &wirepb.Frame_Challenge{Challenge: &wirepb.Challenge{
		Name: r.node.Name(), Creation: r.node.Creation(), Tags: r.cfg.Tags, Addrs: r.Addrs(),
		Challenge: mine, Digest: digest(r.cfg.Cookie, "A", h.GetChallenge(), r.node.Name()),
		Downs: r.downsWith(h.GetName()),
	}}})
	if err != nil {
		return peer, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	f, err = readFrame(conn)
	if err != nil {
		return peer, err
	}
	if rf := f.GetRefuse(); rf != nil {
		return peer, refusalOf(rf)
	}
	ack := f.GetChallengeAck()
	if ack == nil {
		return peer, fmt.Errorf("%w: expected challenge ack", ErrHandshake)
	}
	if !hmac.Equal(ack.GetDigest(), digest(r.cfg.Cookie, "D", mine, h.GetName())) {
		refuse(conn, ErrBadCookie)
		return peer, fmt.Errorf("%w: %s", ErrBadCookie, h.GetName())
	}
	// Only an authenticated peer is shown to the policy.
	if err := r.policy.Accept(peer.spec); err != nil {
		refuse(conn, err)
		return peer, err
	}
	if err := writeFrame(conn, &wirepb.Frame{Body: &wirepb.Frame_Accept{Accept: &wirepb.Accept{}}}); err != nil {
		return peer, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	return peer, nil
}
