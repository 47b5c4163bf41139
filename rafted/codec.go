package rafted

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

// Encodings of what rafted writes into Raft's log and snapshots. All are
// plain binary: uvarints and length-prefixed strings.

const (
	opCommand = 1
	opConfig  = 2
	opAddress = 3 // a member's new address: uvarint ID, then appendAddr
)

// op is a normal log entry: a command or a config change, with the
// proposing member and its sequence number so that the proposer can answer
// its caller when the entry is applied.
type op struct {
	kind     byte
	proposer uint64
	seq      uint64
	id       string // command id ("" for none)
	payload  []byte // command: the wire-encoded argument; config: encodeConfig; address: ID and address
}

func encodeOp(o op) []byte {
	b := make([]byte, 0, 24+len(o.id)+len(o.payload))
	b = append(b, o.kind)
	b = binary.AppendUvarint(b, o.proposer)
	b = binary.AppendUvarint(b, o.seq)
	b = appendString(b, o.id)
	return append(b, o.payload...)
}

var errBadEntry = errors.New("rafted: malformed log entry")

func decodeOp(b []byte) (op, error) {
	var o op
	var ok bool
	if len(b) == 0 {
		return o, errBadEntry
	}
	o.kind, b = b[0], b[1:]
	if o.proposer, b, ok = readUvarint(b); !ok {
		return o, errBadEntry
	}
	if o.seq, b, ok = readUvarint(b); !ok {
		return o, errBadEntry
	}
	if o.id, b, ok = readString(b); !ok {
		return o, errBadEntry
	}
	o.payload = b
	return o, nil
}

func appendConfig(b []byte, c Config) []byte {
	b = binary.AppendUvarint(b, uint64(c.HeartbeatInterval))
	b = binary.AppendUvarint(b, uint64(c.ElectionTimeout))
	b = binary.AppendUvarint(b, uint64(c.ElectionTimeoutClockDriftMargin))
	b = binary.AppendUvarint(b, uint64(c.MaxRetainedCommittedLogs))
	return binary.AppendUvarint(b, uint64(c.MaxRetainedCommandResults))
}

func readConfig(b []byte) (Config, []byte, bool) {
	var v [5]uint64
	var ok bool
	for i := range v {
		if v[i], b, ok = readUvarint(b); !ok {
			return Config{}, b, false
		}
	}
	return Config{
		HeartbeatInterval:               time.Duration(v[0]),
		ElectionTimeout:                 time.Duration(v[1]),
		ElectionTimeoutClockDriftMargin: time.Duration(v[2]),
		MaxRetainedCommittedLogs:        int(v[3]),
		MaxRetainedCommandResults:       int(v[4]),
	}, b, true
}

func appendAddr(b []byte, a memberAddr) []byte {
	b = appendString(b, a.PID.Node)
	b = binary.AppendUvarint(b, uint64(a.PID.Creation))
	b = binary.AppendUvarint(b, a.PID.ID)
	b = appendString(b, a.Name.Node)
	return appendString(b, a.Name.Name)
}

func readAddr(b []byte) (memberAddr, []byte, bool) {
	var a memberAddr
	var ok bool
	var cr uint64
	if a.PID.Node, b, ok = readString(b); !ok {
		return a, b, false
	}
	if cr, b, ok = readUvarint(b); !ok {
		return a, b, false
	}
	a.PID.Creation = uint32(cr)
	if a.PID.ID, b, ok = readUvarint(b); !ok {
		return a, b, false
	}
	if a.Name.Node, b, ok = readString(b); !ok {
		return a, b, false
	}
	a.Name.Name, b, ok = readString(b)
	return a, b, ok
}

// confContext is the context of a membership change: who proposed it, the
// member's address (the ID ↔ PID/name mapping), and for the group's first
// member the group's Config.
type confContext struct {
	proposer, seq uint64
	addr          memberAddr
	config        *Config
}

func encodeConfContext(c confContext) []byte {
	b := binary.AppendUvarint(nil, c.proposer)
	b = binary.AppendUvarint(b, c.seq)
	b = appendAddr(b, c.addr)
	if c.config != nil {
		b = appendConfig(b, *c.config)
	}
	return b
}

func decodeConfContext(b []byte) (confContext, error) {
	var c confContext
	var ok bool
	if c.proposer, b, ok = readUvarint(b); !ok {
		return c, errBadEntry
	}
	if c.seq, b, ok = readUvarint(b); !ok {
		return c, errBadEntry
	}
	if c.addr, b, ok = readAddr(b); !ok {
		return c, errBadEntry
	}
	if len(b) > 0 {
		cfg, _, ok := readConfig(b)
		if !ok {
			return c, errBadEntry
		}
		c.config = &cfg
	}
	return c, nil
}

// replicated is the state a snapshot carries besides the value: the config,
// the members' addresses and the command results.
type replicated struct {
	config  Config
	members map[uint64]memberAddr
	results *resultCache
	data    []byte
}

func encodeSnapshot(r replicated) ([]byte, error) {
	b := appendConfig(nil, r.config)
	b = binary.AppendUvarint(b, uint64(len(r.members)))
	for id, a := range r.members {
		b = binary.AppendUvarint(b, id)
		b = appendAddr(b, a)
	}
	b = binary.AppendUvarint(b, uint64(len(r.results.order)))
	for _, id := range r.results.order {
		v, err := encodeValue(r.results.byID[id])
		if err != nil {
			return nil, err
		}
		b = appendString(b, id)
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return append(b, r.data...), nil
}

func decodeSnapshot(b []byte, maxResults int) (replicated, error) {
	r := replicated{members: make(map[uint64]memberAddr)}
	var ok bool
	var n uint64
	if r.config, b, ok = readConfig(b); !ok {
		return r, errBadEntry
	}
	if n, b, ok = readUvarint(b); !ok {
		return r, errBadEntry
	}
	for range n {
		var id uint64
		var a memberAddr
		if id, b, ok = readUvarint(b); !ok {
			return r, errBadEntry
		}
		if a, b, ok = readAddr(b); !ok {
			return r, errBadEntry
		}
		r.members[id] = a
	}
	if n, b, ok = readUvarint(b); !ok {
		return r, errBadEntry
	}
	r.results = newResultCache(max(maxResults, r.config.MaxRetainedCommandResults))
	for range n {
		var id, v string
		if id, b, ok = readString(b); !ok {
			return r, errBadEntry
		}
		if v, b, ok = readString(b); !ok {
			return r, errBadEntry
		}
		val, err := decodeValue([]byte(v))
		if err != nil {
			return r, err
		}
		r.results.put(id, val)
	}
	r.data = b
	return r, nil
}

// resultCache keeps the results of the latest commands that carried an id,
// oldest first. It is part of the replicated state: every member applies
// the same commands, so every member's cache holds the same results.
type resultCache struct {
	limit int
	order []string
	byID  map[string]any
}

func newResultCache(limit int) *resultCache {
	return &resultCache{limit: limit, byID: make(map[string]any)}
}

func (c *resultCache) get(id string) (any, bool) {
	v, ok := c.byID[id]
	return v, ok
}

func (c *resultCache) put(id string, v any) {
	if _, ok := c.byID[id]; ok {
		return
	}
	c.byID[id] = v
	c.order = append(c.order, id)
	c.trim()
}

func (c *resultCache) setLimit(n int) {
	c.limit = n
	c.trim()
}

func (c *resultCache) trim() {
	for len(c.order) > c.limit {
		delete(c.byID, c.order[0])
		c.order = c.order[1:]
	}
}

// raftID derives a member's Raft ID from its PID (and name): FNV-1a, never
// zero. A member with a Dir keeps the ID it was created with.
func raftID(a memberAddr) uint64 {
	h := uint64(14695981039346656037)
	for _, s := range []string{a.PID.String(), a.Name.Node, a.Name.Name} {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= 1099511628211
		}
		h ^= 0xff
		h *= 1099511628211
	}
	if h == 0 {
		h = 1
	}
	return h
}

var _ = actor.PID{}
