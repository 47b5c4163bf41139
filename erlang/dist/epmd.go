package dist

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// EPMD is the Erlang port mapper: each host runs one on port 4369 (or
// ERL_EPMD_PORT), nodes register their distribution port with it by name, and
// a node finds another's port by asking the other host's EPMD.

// DefaultEPMDPort is EPMD's well-known port.
const DefaultEPMDPort = 4369

const (
	epmdAlive2Req   = 120 // 'x'
	epmdAlive2Resp  = 121 // 'y', 16-bit creation
	epmdAlive2XResp = 118 // 'v', 32-bit creation
	epmdPort2Req    = 122 // 'z'
	epmdPort2Resp   = 119 // 'w'
	epmdNamesReq    = 110 // 'n'
)

// Errors of the port mapper.
var (
	// ErrNotRegistered: EPMD knows no node by that name.
	ErrNotRegistered = errors.New("dist: node not registered with epmd")
	// ErrNameTaken: EPMD refused to register the name (another node holds it).
	ErrNameTaken = errors.New("dist: epmd refused the name")
)

// nodeInfo is what EPMD knows of a node.
type nodeInfo struct {
	port      int
	hidden    bool
	high, low int
	name      string
}

// epmdRegister registers alive (the part of the node name before '@') at
// port with the EPMD at addr. The registration lasts while the returned
// connection stays open.
func epmdRegister(ctx context.Context, addr, alive string, port int) (net.Conn, uint32, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, 0, fmt.Errorf("dist: epmd at %s: %w", addr, err)
	}
	req := []byte{epmdAlive2Req}
	req = binary.BigEndian.AppendUint16(req, uint16(port))
	req = append(req, 77, 0) // a normal node, over TCP/IPv4
	req = binary.BigEndian.AppendUint16(req, 6)
	req = binary.BigEndian.AppendUint16(req, 5)
	req = binary.BigEndian.AppendUint16(req, uint16(len(alive)))
	req = append(req, alive...)
	req = binary.BigEndian.AppendUint16(req, 0) // no extra
	if err := writeEPMD(c, req); err != nil {
		c.Close()
		return nil, 0, err
	}
	_ = c.SetReadDeadline(deadline(ctx))
	var head [2]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		c.Close()
		return nil, 0, fmt.Errorf("dist: epmd register: %w", err)
	}
	var creation uint32
	switch head[0] {
	case epmdAlive2XResp:
		var b [4]byte
		if _, err := io.ReadFull(c, b[:]); err != nil {
			c.Close()
			return nil, 0, fmt.Errorf("dist: epmd register: %w", err)
		}
		creation = binary.BigEndian.Uint32(b[:])
	case epmdAlive2Resp:
		var b [2]byte
		if _, err := io.ReadFull(c, b[:]); err != nil {
			c.Close()
			return nil, 0, fmt.Errorf("dist: epmd register: %w", err)
		}
		creation = uint32(binary.BigEndian.Uint16(b[:]))
	default:
		c.Close()
		return nil, 0, fmt.Errorf("dist: epmd register: answer %d", head[0])
	}
	if head[1] != 0 {
		c.Close()
		return nil, 0, fmt.Errorf("%w: %s (result %d)", ErrNameTaken, alive, head[1])
	}
	_ = c.SetReadDeadline(time.Time{})
	return c, creation, nil
}

// epmdLookup asks the EPMD at addr for the node alive's distribution port.
func epmdLookup(ctx context.Context, addr, alive string) (nodeInfo, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nodeInfo{}, fmt.Errorf("dist: epmd at %s: %w", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(deadline(ctx))
	if err := writeEPMD(c, append([]byte{epmdPort2Req}, alive...)); err != nil {
		return nodeInfo{}, err
	}
	r := bufio.NewReader(c)
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nodeInfo{}, fmt.Errorf("dist: epmd lookup: %w", err)
	}
	if head[0] != epmdPort2Resp {
		return nodeInfo{}, fmt.Errorf("dist: epmd lookup: answer %d", head[0])
	}
	if head[1] != 0 {
		return nodeInfo{}, fmt.Errorf("%w: %s", ErrNotRegistered, alive)
	}
	var fixed [10]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return nodeInfo{}, fmt.Errorf("dist: epmd lookup: %w", err)
	}
	info := nodeInfo{
		port:   int(binary.BigEndian.Uint16(fixed[0:2])),
		hidden: fixed[2] == 72,
		high:   int(binary.BigEndian.Uint16(fixed[4:6])),
		low:    int(binary.BigEndian.Uint16(fixed[6:8])),
	}
	n := int(binary.BigEndian.Uint16(fixed[8:10]))
	name := make([]byte, n)
	if _, err := io.ReadFull(r, name); err != nil {
		return nodeInfo{}, fmt.Errorf("dist: epmd lookup: %w", err)
	}
	info.name = string(name)
	return info, nil
}

func writeEPMD(c net.Conn, req []byte) error {
	msg := binary.BigEndian.AppendUint16(nil, uint16(len(req)))
	if _, err := c.Write(append(msg, req...)); err != nil {
		return fmt.Errorf("dist: epmd: %w", err)
	}
	return nil
}

func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(10 * time.Second)
}

// EPMDServer is a port mapper of gotp's own, speaking EPMD's protocol, for a
// machine with no Erlang installed: Go and Erlang nodes register with it and
// find each other through it as through epmd.
type EPMDServer struct {
	l     net.Listener
	mu    sync.Mutex
	nodes map[string]nodeInfo
	open  map[net.Conn]struct{} // connections being served (registrations stay open)
	cr    uint32
	wg    sync.WaitGroup
}

// ListenEPMD starts a port mapper on addr ("127.0.0.1:4369", or port 0 for
// tests).
func ListenEPMD(addr string) (*EPMDServer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dist: epmd listen: %w", err)
	}
	s := &EPMDServer{l: l, nodes: make(map[string]nodeInfo), open: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr returns the address the port mapper listens on.
func (s *EPMDServer) Addr() string { return s.l.Addr().String() }

// Port returns the port the port mapper listens on.
func (s *EPMDServer) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// Close stops the port mapper and ends every registration with it.
func (s *EPMDServer) Close() error {
	err := s.l.Close()
	s.mu.Lock()
	for c := range s.open {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *EPMDServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.open[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(c)
			s.mu.Lock()
			delete(s.open, c)
			s.mu.Unlock()
		}()
	}
}

// maxEPMDRequest bounds a request: a name and its extra fit well within it.
const maxEPMDRequest = 1024

func (s *EPMDServer) handle(c net.Conn) {
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var lb [2]byte
	if _, err := io.ReadFull(c, lb[:]); err != nil {
		return
	}
	n := int(binary.BigEndian.Uint16(lb[:]))
	if n == 0 || n > maxEPMDRequest {
		return
	}
	req := make([]byte, n)
	if _, err := io.ReadFull(c, req); err != nil {
		return
	}
	switch req[0] {
	case epmdAlive2Req:
		if len(req) < 13 {
			return
		}
		nl := int(binary.BigEndian.Uint16(req[9:11]))
		if 11+nl > len(req) {
			return
		}
		info := nodeInfo{
			port:   int(binary.BigEndian.Uint16(req[1:3])),
			hidden: req[3] == 72,
			high:   int(binary.BigEndian.Uint16(req[5:7])),
			low:    int(binary.BigEndian.Uint16(req[7:9])),
			name:   string(req[11 : 11+nl]),
		}
		s.mu.Lock()
		_, taken := s.nodes[info.name]
		if !taken {
			s.nodes[info.name] = info
		}
		s.cr++
		cr := s.cr
		s.mu.Unlock()
		resp := []byte{epmdAlive2XResp, 0}
		if taken {
			resp[1] = 1
		}
		_, _ = c.Write(binary.BigEndian.AppendUint32(resp, cr))
		if taken {
			return
		}
		// Registered while the connection stays open.
		_ = c.SetReadDeadline(time.Time{})
		_, _ = io.Copy(io.Discard, c)
		s.mu.Lock()
		delete(s.nodes, info.name)
		s.mu.Unlock()
	case epmdPort2Req:
		s.mu.Lock()
		info, ok := s.nodes[string(req[1:])]
		s.mu.Unlock()
		if !ok {
			_, _ = c.Write([]byte{epmdPort2Resp, 1})
			return
		}
		resp := []byte{epmdPort2Resp, 0}
		resp = binary.BigEndian.AppendUint16(resp, uint16(info.port))
		kind := byte(77)
		if info.hidden {
			kind = 72
		}
		resp = append(resp, kind, 0)
		resp = binary.BigEndian.AppendUint16(resp, uint16(info.high))
		resp = binary.BigEndian.AppendUint16(resp, uint16(info.low))
		resp = binary.BigEndian.AppendUint16(resp, uint16(len(info.name)))
		resp = append(resp, info.name...)
		resp = binary.BigEndian.AppendUint16(resp, 0)
		_, _ = c.Write(resp)
	case epmdNamesReq:
		s.mu.Lock()
		var b []byte
		for _, info := range s.nodes {
			b = fmt.Appendf(b, "name %s at port %d\n", info.name, info.port)
		}
		s.mu.Unlock()
		_, _ = c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(s.Port())), b...))
	}
}
