package dist

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
)

// Distribution flags this node speaks (erl_dist_protocol's DFLAG_*): every
// one OTP 25 and 26 make mandatory, monitors by name, the new link protocol,
// exit payloads, send-sender, aliases, and spawn requests (for erpc and
// rpc: see rpc.go). No atom cache and no fragments.
const (
	flagPublished          = 0x1
	flagExtendedReferences = 0x4
	flagDistMonitor        = 0x8
	flagFunTags            = 0x10
	flagDistMonitorName    = 0x20
	flagNewFunTags         = 0x80
	flagExtendedPidsPorts  = 0x100
	flagExportPtrTag       = 0x200
	flagBitBinaries        = 0x400
	flagNewFloats          = 0x800
	flagUnicodeIO          = 0x1000
	flagDistHdrAtomCache   = 0x2000
	flagSmallAtomTags      = 0x4000
	flagUTF8Atoms          = 0x10000
	flagMapTag             = 0x20000
	flagBigCreation        = 0x40000
	flagSendSender         = 0x80000
	flagBigSeqtraceLabels  = 0x100000
	flagExitPayload        = 0x400000
	flagFragments          = 0x800000
	flagHandshake23        = 0x1000000
	flagUnlinkID           = 0x2000000
	flagMandatory25Digest  = 0x4000000
	flagSpawn              = 1 << 32
	flagV4NC               = 1 << 34
	flagAlias              = 1 << 35

	ourFlags = flagPublished | flagExtendedReferences | flagDistMonitor | flagFunTags |
		flagDistMonitorName | flagNewFunTags | flagExtendedPidsPorts | flagExportPtrTag |
		flagBitBinaries | flagNewFloats | flagUnicodeIO | flagSmallAtomTags | flagUTF8Atoms |
		flagMapTag | flagBigCreation | flagSendSender | flagBigSeqtraceLabels | flagExitPayload |
		flagDistHdrAtomCache | flagFragments |
		flagHandshake23 | flagUnlinkID | flagMandatory25Digest | flagSpawn | flagV4NC | flagAlias

	// requiredFlags are what a peer must have for this node to talk to it.
	requiredFlags = flagExtendedReferences | flagExtendedPidsPorts | flagUTF8Atoms |
		flagNewFloats | flagMapTag | flagBigCreation | flagHandshake23
)

// Errors of the handshake.
var (
	// ErrBadCookie: the peer does not share this node's cookie.
	ErrBadCookie = errors.New("dist: cookie mismatch")
	// ErrHandshake: the peer broke the handshake (wrong message, refusal,
	// missing capabilities, closed early).
	ErrHandshake = errors.New("dist: handshake failed")
)

// peerInfo is what a handshake learned of the other node.
type peerInfo struct {
	name     string
	flags    uint64
	creation uint32 // 0 for a version 5 peer: its pids carry it
	v5       bool   // it spoke the version 5 handshake
}

// maxHandshakeMessage bounds a handshake message: a name and a few fields.
const maxHandshakeMessage = 1024

// hsConn frames handshake messages: a 2-byte length over TCP, a 4-byte one
// over TLS (as inet_tls_dist runs it, {packet, 4} from the start).
type hsConn struct {
	net.Conn
	wide bool
}

func (c hsConn) readHS() ([]byte, error) {
	var lb [4]byte
	hl := 2
	if c.wide {
		hl = 4
	}
	if _, err := io.ReadFull(c, lb[:hl]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	n := int(binary.BigEndian.Uint16(lb[:2]))
	if c.wide {
		n = int(min(binary.BigEndian.Uint32(lb[:]), maxHandshakeMessage+1))
	}
	if n == 0 || n > maxHandshakeMessage {
		return nil, fmt.Errorf("%w: message of %d bytes", ErrHandshake, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	return b, nil
}

func (c hsConn) writeHS(b []byte) error {
	var msg []byte
	if c.wide {
		msg = binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(b)), uint32(len(b)))
	} else {
		msg = binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(b)), uint16(len(b)))
	}
	if _, err := c.Write(append(msg, b...)); err != nil {
		return fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	return nil
}

// digest is the handshake's proof: MD5 of the cookie and the challenge
// written in decimal, as dist_util computes it.
func digest(cookie string, challenge uint32) []byte {
	sum := md5.Sum([]byte(cookie + strconv.FormatUint(uint64(challenge), 10)))
	return sum[:]
}

func newChallenge() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

// nameMessage is send_name (version 6) or send_challenge: 'N', flags,
// [challenge,] creation, name.
func nameMessage(flags uint64, challenge *uint32, creation uint32, name string) []byte {
	b := []byte{'N'}
	b = binary.BigEndian.AppendUint64(b, flags)
	if challenge != nil {
		b = binary.BigEndian.AppendUint32(b, *challenge)
	}
	b = binary.BigEndian.AppendUint32(b, creation)
	b = binary.BigEndian.AppendUint16(b, uint16(len(name)))
	return append(b, name...)
}

// nameMessageV5 is the same in version 5 (before OTP 23): 'n', the version,
// 32 bits of flags, [challenge,] the name.
func nameMessageV5(flags uint64, challenge *uint32, name string) []byte {
	b := []byte{'n', 0, 5}
	b = binary.BigEndian.AppendUint32(b, uint32(flags&^flagHandshake23))
	if challenge != nil {
		b = binary.BigEndian.AppendUint32(b, *challenge)
	}
	return append(b, name...)
}

// v5Flags are the flags a version 5 peer must have: those of version 6 but
// the new handshake itself.
const v5Flags = requiredFlags &^ flagHandshake23

func parseName(b []byte, withChallenge bool) (peerInfo, uint32, error) {
	var p peerInfo
	var ch uint32
	if len(b) > 0 && b[0] == 'n' {
		return parseNameV5(b[1:], withChallenge)
	}
	if len(b) < 1 || b[0] != 'N' {
		return p, 0, fmt.Errorf("%w: expected a name message", ErrHandshake)
	}
	b = b[1:]
	need := 14
	if withChallenge {
		need += 4
	}
	if len(b) < need {
		return p, 0, fmt.Errorf("%w: name message cut short", ErrHandshake)
	}
	p.flags = binary.BigEndian.Uint64(b)
	b = b[8:]
	if withChallenge {
		ch = binary.BigEndian.Uint32(b)
		b = b[4:]
	}
	p.creation = binary.BigEndian.Uint32(b)
	n := int(binary.BigEndian.Uint16(b[4:]))
	b = b[6:]
	if n != len(b) || n == 0 {
		return p, 0, fmt.Errorf("%w: name of %d bytes in %d", ErrHandshake, n, len(b))
	}
	p.name = string(b)
	if p.flags&requiredFlags != requiredFlags {
		return p, 0, fmt.Errorf("%w: %s lacks capabilities (flags %#x)", ErrHandshake, p.name, p.flags)
	}
	return p, ch, nil
}

func parseNameV5(b []byte, withChallenge bool) (peerInfo, uint32, error) {
	var p peerInfo
	var ch uint32
	need := 6
	if withChallenge {
		need += 4
	}
	if len(b) <= need {
		return p, 0, fmt.Errorf("%w: version 5 name message cut short", ErrHandshake)
	}
	if v := binary.BigEndian.Uint16(b); v != 5 {
		return p, 0, fmt.Errorf("%w: version %d", ErrHandshake, v)
	}
	p.flags = uint64(binary.BigEndian.Uint32(b[2:]))
	if withChallenge {
		ch = binary.BigEndian.Uint32(b[6:])
	}
	p.name, p.v5 = string(b[need:]), true
	if p.flags&v5Flags != v5Flags {
		return p, 0, fmt.Errorf("%w: %s lacks capabilities (flags %#x)", ErrHandshake, p.name, p.flags)
	}
	return p, ch, nil
}

// dialHandshake runs the initiating side of the distribution handshake, in
// version 5 when the peer's port mapper says it speaks no later one.
func dialHandshake(c hsConn, self string, creation uint32, cookie, expect string, v5 bool) (peerInfo, error) {
	name := nameMessage(ourFlags, nil, creation, self)
	if v5 {
		name = nameMessageV5(ourFlags, nil, self)
	}
	if err := c.writeHS(name); err != nil {
		return peerInfo{}, err
	}
	st, err := c.readHS()
	if err != nil {
		return peerInfo{}, err
	}
	if len(st) < 1 || st[0] != 's' {
		return peerInfo{}, fmt.Errorf("%w: expected a status", ErrHandshake)
	}
	switch status := string(st[1:]); status {
	case "ok", "ok_simultaneous":
	default:
		return peerInfo{}, fmt.Errorf("%w: %s answered %q", ErrHandshake, expect, status)
	}
	msg, err := c.readHS()
	if err != nil {
		return peerInfo{}, err
	}
	peer, theirs, err := parseName(msg, true)
	if err != nil {
		return peerInfo{}, err
	}
	if expect != "" && peer.name != expect {
		return peerInfo{}, fmt.Errorf("%w: dialed %s, reached %s", ErrHandshake, expect, peer.name)
	}
	ours := newChallenge()
	reply := []byte{'r'}
	reply = binary.BigEndian.AppendUint32(reply, ours)
	reply = append(reply, digest(cookie, theirs)...)
	if err := c.writeHS(reply); err != nil {
		return peerInfo{}, err
	}
	ack, err := c.readHS()
	if err != nil {
		// An Erlang node closes the connection on a wrong cookie.
		return peerInfo{}, fmt.Errorf("%w (or %w)", err, ErrBadCookie)
	}
	if len(ack) != 17 || ack[0] != 'a' {
		return peerInfo{}, fmt.Errorf("%w: expected a challenge ack", ErrHandshake)
	}
	if subtle.ConstantTimeCompare(ack[1:], digest(cookie, ours)) != 1 {
		return peerInfo{}, fmt.Errorf("%w: %s", ErrBadCookie, peer.name)
	}
	return peer, nil
}

// acceptHandshake runs the accepting side; admit decides whether the named
// peer may connect (an error refuses it with "nok").
func acceptHandshake(c hsConn, self string, creation uint32, cookie string, admit func(peerInfo) error) (peerInfo, error) {
	msg, err := c.readHS()
	if err != nil {
		return peerInfo{}, err
	}
	peer, _, err := parseName(msg, false)
	if err != nil {
		return peerInfo{}, err
	}
	if err := admit(peer); err != nil {
		_ = c.writeHS([]byte("snok"))
		return peer, err
	}
	if err := c.writeHS([]byte("sok")); err != nil {
		return peer, err
	}
	ours := newChallenge()
	challenge := nameMessage(ourFlags, &ours, creation, self)
	if peer.v5 {
		challenge = nameMessageV5(ourFlags, &ours, self)
	}
	if err := c.writeHS(challenge); err != nil {
		return peer, err
	}
	reply, err := c.readHS()
	if err != nil {
		return peer, err
	}
	if len(reply) != 21 || reply[0] != 'r' {
		return peer, fmt.Errorf("%w: expected a challenge reply", ErrHandshake)
	}
	theirs := binary.BigEndian.Uint32(reply[1:5])
	if subtle.ConstantTimeCompare(reply[5:], digest(cookie, ours)) != 1 {
		return peer, fmt.Errorf("%w: %s", ErrBadCookie, peer.name)
	}
	ack := append([]byte{'a'}, digest(cookie, theirs)...)
	if err := c.writeHS(ack); err != nil {
		return peer, err
	}
	return peer, nil
}
