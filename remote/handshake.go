package remote

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/remote/wire"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// protocolVersion is the handshake and envelope protocol spoken here.
// Version 2 adds the net tick's empty frames; version 3 the session tokens;
// version 4 the round-trip probes; version 5 Register's encoding of Go
// types by their fields (wire.Register; gob before).
const protocolVersion = 5

// The handshake, dialer D and acceptor A, each with its own random challenge.
// As in Erlang's distribution handshake the dialer proves itself first:
//
//	D -> A  Hello{name, creation, tags, addrs, expected name, channel, index}
//	A -> D  Challenge{name, creation, tags, addrs, cA}                      or Refuse
//	D -> A  ChallengeAck{digest(cookie, "D", T), cD}                        or Refuse
//	A -> D  Accept{digest(cookie, "A", T)}                                  or Refuse
//
// where the transcript T is both names, both creations, cA and cD. The
// acceptor computes nothing from the cookie over a value the dialer chose
// until the dialer has answered the acceptor's own fresh challenge, so
// reaching the port gives no offline oracle for the cookie; binding the
// transcript means a proof cannot be lifted into another session or between
// other nodes. Each side checks the other's proof, so the cookie never crosses
// the wire and an old exchange cannot be replayed. A refusal carries a
// reason, logged on both sides, and possibly a referral to another node.
//
// Sessions. Each side keeps a random token per peer session. The dialer
// sends its token in ChallengeAck and the acceptor its own in Accept, both
// masked with a key only cookie holders in this very handshake can derive.
// A connection from a node that has a live session here (same name, same
// creation) joins it only if its token is the session's: the cookie alone is
// not enough to join, or by hanging up to end, another node's session. A
// dialer that saw the session end and began another proves it knew the old
// one (an HMAC keyed with the acceptor's token over the transcript): a proven
// reconnect, which replaces the session here too.

type peerHello struct {
	spec     NodeSpec
	creation uint32
	channel  string
	index    int
	maxFrame int    // the largest frame the peer takes (0: unknown)
	token    []byte // the peer's session token
	// rtt is the round trip of the handshake's first exchange this side
	// timed (hello to challenge, or challenge to its answer).
	rtt time.Duration
	// proves reports whether the dialer proved it knew key, this node's
	// token of a session (acceptor side only).
	proves func(key []byte) bool
}

// transcript is what both proofs cover.
type transcript struct {
	dialer, acceptor                   string
	dialerCreation, acceptorCreation   uint32
	acceptorChallenge, dialerChallenge []byte
}

// digest is one side's proof over the transcript; role is "D" or "A".
func (t transcript) digest(cookie, role string) []byte {
	return keyed([]byte(cookie), "gotp-handshake-v2\x00"+role, t.bytes())
}

// mask hides or reveals (it is its own inverse) one side's session token: a
// passive observer without the cookie learns nothing of it.
func (t transcript) mask(cookie, role string, token []byte) ([]byte, error) {
	if len(token) != tokenSize {
		return nil, fmt.Errorf("%w: session token of %d bytes", ErrHandshake, len(token))
	}
	key := keyed([]byte(cookie), "gotp-session-mask\x00"+role, t.bytes())
	out := make([]byte, tokenSize)
	for i := range out {
		out[i] = token[i] ^ key[i]
	}
	return out, nil
}

// proof proves knowledge of a session token, bound to this handshake.
func (t transcript) proof(token []byte) []byte {
	return keyed(token, "gotp-session-proof\x00", t.bytes())
}

func keyed(key []byte, label string, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	m.Write(data)
	return m.Sum(nil)
}

// tokenSize is the length of a session token.
const tokenSize = sha256.Size

func (t transcript) bytes() []byte {
	var b []byte
	for _, s := range []string{t.dialer, t.acceptor} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	b = binary.BigEndian.AppendUint32(b, t.dialerCreation)
	b = binary.BigEndian.AppendUint32(b, t.acceptorCreation)
	for _, c := range [][]byte{t.acceptorChallenge, t.dialerChallenge} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(c)))
		b = append(b, c...)
	}
	return b
}

// challengeSize is the length of a fresh challenge; a peer's must be as long.
const challengeSize = 32

func newChallenge() []byte { return randomBytes(challengeSize) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
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
		ref.Referral = NodeSpec{Name: r.GetReferralName(), Addrs: r.GetReferralAddrs(), Tags: r.GetReferralTags()}
	}
	switch r.GetReason() {
	case ErrBadCookie.Error():
		return fmt.Errorf("%w (%w)", ErrBadCookie, ref)
	case ErrVersion.Error():
		return fmt.Errorf("%w (%w)", ErrVersion, ref)
	case ErrWrongName.Error():
		return fmt.Errorf("%w (%w)", ErrWrongName, ref)
	case ErrSessionProof.Error():
		return fmt.Errorf("%w (%w)", ErrSessionProof, ref)
	}
	return ref
}

func refuse(conn transport.Conn, reason error) {
	r := &wirepb.Refuse{Reason: reason.Error()}
	if errors.Is(reason, ErrSessionProof) {
		r.Reason = ErrSessionProof.Error()
	}
	var ref *Refusal
	if errors.As(reason, &ref) {
		r.Reason = ref.Reason
		r.ReferralName = ref.Referral.Name
		r.ReferralAddrs = ref.Referral.Addrs
		r.ReferralTags = ref.Referral.Tags
	}
	_ = writeFrame(conn, &wirepb.Frame{Body: &wirepb.Frame_Refuse{Refuse: r}})
}

// ErrCertName: with Config.RequireCertName, the peer's certificate does not
// name the node it claims to be.
var ErrCertName = errors.New("certificate does not name the node")

// checkCertName verifies that the TLS peer's certificate names node (or its
// host part), when the configuration asks for it.
func (r *Remote) checkCertName(conn transport.Conn, node string) error {
	if !r.cfg.RequireCertName {
		return nil
	}
	state := conn.TLSState()
	if state == nil || len(state.PeerCertificates) == 0 {
		return fmt.Errorf("%w: %s presented no certificate", ErrCertName, node)
	}
	cert := state.PeerCertificates[0]
	candidates := []string{node}
	if _, host, ok := strings.Cut(node, "@"); ok {
		candidates = []string{host}
	}
	for _, name := range candidates {
		if cert.VerifyHostname(name) == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: %s", ErrCertName, node)
}

// handshakeFrameLimit bounds a frame read before the peer is authenticated:
// a handshake frame is a few hundred bytes, and a length prefix from an
// unknown peer must not make this side allocate more.
const handshakeFrameLimit = 4 << 10

// readLimiter is a transport connection whose frame limit can be lowered
// for the handshake (the TCP and in-memory transports' are).
type readLimiter interface{ SetReadLimit(n int) }

// limitReads sets the connection's frame limit, where it has one; 0 restores
// the full limit.
func limitReads(conn transport.Conn, n int) {
	if l, ok := conn.(readLimiter); ok {
		l.SetReadLimit(n)
	}
}

// dialHandshake runs the dialer's side on a fresh connection. tokens returns
// this node's token for the session and the acceptor's, if one is known (of
// the live session or the last one).
func (r *Remote) dialHandshake(ctx context.Context, conn transport.Conn, expect, channel string, index int, tokens func() (own, theirs []byte)) (peerHello, error) {
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	limitReads(conn, handshakeFrameLimit)
	defer limitReads(conn, 0)

	sent := time.Now()
	err := writeFrame(conn, &wirepb.Frame{Body: &wirepb.Frame_Hello{Hello: &wirepb.Hello{
		Name: r.node.Name(), Creation: r.node.Creation(), Version: protocolVersion,
		Tags: r.cfg.Tags, Addrs: r.Addrs(), ExpectName: expect,
		Channel: channel, ConnIndex: uint32(index),
		MaxFrameSize: uint32(r.cfg.MaxFrameSize),
	}}})
	if err != nil {
		return peerHello{}, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	f, err := readFrame(conn)
	if err != nil {
		return peerHello{}, err
	}
	rtt := time.Since(sent)
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
	if err := r.checkCertName(conn, ch.GetName()); err != nil {
		refuse(conn, err)
		return peerHello{}, err
	}
	if len(ch.GetChallenge()) != challengeSize {
		return peerHello{}, fmt.Errorf("%w: challenge of %d bytes", ErrHandshake, len(ch.GetChallenge()))
	}
	tr := transcript{
		dialer: r.node.Name(), acceptor: ch.GetName(),
		dialerCreation: r.node.Creation(), acceptorCreation: ch.GetCreation(),
		acceptorChallenge: ch.GetChallenge(), dialerChallenge: newChallenge(),
	}
	own, theirs := tokens()
	masked, err := tr.mask(r.cfg.Cookie, "D", own)
	if err != nil {
		return peerHello{}, err
	}
	var proof []byte
	if theirs != nil {
		proof = tr.proof(theirs)
	}
	err = writeFrame(conn, &wirepb.Frame{Body: &wirepb.Frame_ChallengeAck{ChallengeAck: &wirepb.ChallengeAck{
		Digest: tr.digest(r.cfg.Cookie, "D"), Challenge: tr.dialerChallenge,
		SessionToken: masked, SessionProof: proof,
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
	acc := f.GetAccept()
	if acc == nil {
		return peerHello{}, fmt.Errorf("%w: expected accept", ErrHandshake)
	}
	if !hmac.Equal(acc.GetDigest(), tr.digest(r.cfg.Cookie, "A")) {
		// The acceptor accepted without knowing the cookie: not a peer.
		return peerHello{}, fmt.Errorf("%w: %s", ErrBadCookie, ch.GetName())
	}
	token, err := tr.mask(r.cfg.Cookie, "A", acc.GetSessionToken())
	if err != nil {
		return peerHello{}, err
	}
	return peerHello{
		spec:     NodeSpec{Name: ch.GetName(), Addrs: ch.GetAddrs(), Tags: ch.GetTags()},
		creation: ch.GetCreation(),
		channel:  channel,
		index:    index,
		maxFrame: int(ch.GetMaxFrameSize()),
		token:    token,
		rtt:      rtt,
	}, nil
}

// acceptHandshake runs the acceptor's side on an inbound connection. Once the
// dialer is authenticated and the policy agrees, admit decides whether the
// connection may join this node's session with the peer (and takes its place
// in it) before the last message tells the dialer it is up; it returns this
// node's session token.
func (r *Remote) acceptHandshake(ctx context.Context, conn transport.Conn, admit func(peerHello) ([]byte, error)) (peerHello, error) {
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	limitReads(conn, handshakeFrameLimit)
	defer limitReads(conn, 0)

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
		maxFrame: int(h.GetMaxFrameSize()),
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
	if err := r.checkCertName(conn, h.GetName()); err != nil {
		refuse(conn, err)
		return peer, err
	}
	ch, ok := r.cfg.channel(peer.channel)
	if !ok || peer.index < 0 || peer.index >= ch.Parallelism {
		reason := fmt.Errorf("%w: %s[%d]", ErrUnknownChannel, peer.channel, peer.index)
		refuse(conn, reason)
		return peer, reason
	}
	tr := transcript{
		dialer: h.GetName(), acceptor: r.node.Name(),
		dialerCreation: h.GetCreation(), acceptorCreation: r.node.Creation(),
		acceptorChallenge: newChallenge(),
	}
	sent := time.Now()
	err = writeFrame(conn, &wirepb.Frame{Body: &wirepb.Frame_Challenge{Challenge: &wirepb.Challenge{
		Name: r.node.Name(), Creation: r.node.Creation(), Tags: r.cfg.Tags, Addrs: r.Addrs(),
		Challenge:    tr.acceptorChallenge,
		MaxFrameSize: uint32(r.cfg.MaxFrameSize),
	}}})
	if err != nil {
		return peer, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	f, err = readFrame(conn)
	if err != nil {
		return peer, err
	}
	peer.rtt = time.Since(sent)
	if rf := f.GetRefuse(); rf != nil {
		return peer, refusalOf(rf)
	}
	ack := f.GetChallengeAck()
	if ack == nil {
		return peer, fmt.Errorf("%w: expected challenge ack", ErrHandshake)
	}
	tr.dialerChallenge = ack.GetChallenge()
	if len(tr.dialerChallenge) != challengeSize || !hmac.Equal(ack.GetDigest(), tr.digest(r.cfg.Cookie, "D")) {
		refuse(conn, ErrBadCookie)
		return peer, fmt.Errorf("%w: %s", ErrBadCookie, h.GetName())
	}
	// Only an authenticated peer is shown to the policy.
	if err := r.policy.Accept(peer.spec); err != nil {
		refuse(conn, err)
		return peer, err
	}
	if tp, ok := r.policy.(TLSPolicy); ok && conn.TLSState() != nil {
		if err := tp.AcceptTLS(peer.spec, conn.TLSState()); err != nil {
			refuse(conn, err)
			return peer, err
		}
	}
	if peer.token, err = tr.mask(r.cfg.Cookie, "D", ack.GetSessionToken()); err != nil {
		return peer, err
	}
	proof := ack.GetSessionProof()
	peer.proves = func(key []byte) bool { return len(proof) > 0 && hmac.Equal(proof, tr.proof(key)) }
	own, err := admit(peer)
	if err != nil {
		refuse(conn, err)
		return peer, err
	}
	masked, err := tr.mask(r.cfg.Cookie, "A", own)
	if err != nil {
		return peer, err
	}
	if err := writeFrame(conn, &wirepb.Frame{Body: &wirepb.Frame_Accept{Accept: &wirepb.Accept{
		Digest: tr.digest(r.cfg.Cookie, "A"), SessionToken: masked,
	}}}); err != nil {
		return peer, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	return peer, nil
}
