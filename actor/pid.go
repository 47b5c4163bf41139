package actor

import (
	"fmt"
	"strconv"
)

// PID names a process: the node it lives on, that node's creation (a number that
// changes every time a node with that name starts) and an id that the node never
// hands out twice. A PID is a comparable value; it can be used as a map key and
// compared with ==. The zero PID names no process.
type PID struct {
	Node     string
	Creation uint32
	ID       uint64
}

// IsZero reports whether p is the zero PID.
func (p PID) IsZero() bool { return p == PID{} }

// String formats the PID as <node.creation.id>, e.g. <a@host.17.42>.
func (p PID) String() string {
	if p.IsZero() {
		return "<nopid>"
	}
	return "<" + p.Node + "." + strconv.FormatUint(uint64(p.Creation), 10) + "." + strconv.FormatUint(p.ID, 10) + ">"
}

// Ref is a reference unique to the node that made it: monitor references, call
// references and timer references are Refs.
type Ref struct {
	Node     string
	Creation uint32
	ID       uint64
}

// IsZero reports whether r is the zero Ref.
func (r Ref) IsZero() bool { return r == Ref{} }

// String formats the Ref as #Ref<node.creation.id>.
func (r Ref) String() string {
	return "#Ref<" + r.Node + "." + strconv.FormatUint(uint64(r.Creation), 10) + "." + strconv.FormatUint(r.ID, 10) + ">"
}

// Name is a registered name on a node, Erlang's {Name, Node}. An empty Node means
// the node the sender is on.
type Name struct {
	Node string
	Name string
}

// String formats the name as {name,node} (or just name when Node is empty).
func (n Name) String() string {
	if n.Node == "" {
		return n.Name
	}
	return fmt.Sprintf("{%s,%s}", n.Name, n.Node)
}

// Dest is where a message or signal goes: a PID, or a Name (a name registered
// on a node, Erlang's {Name, Node}). Send, Cast, Call, Monitor, Link, Exit and
// StopProcess all take one. Only PID and Name implement it.
type Dest interface {
	String() string
	isDest()
}

func (PID) isDest()  {}
func (Name) isDest() {}

var (
	_ Dest = PID{}
	_ Dest = Name{}
)

// destNode returns the node a destination names ("" for a local name).
func destNode(d Dest) string {
	switch d := d.(type) {
	case PID:
		return d.Node
	case Name:
		return d.Node
	}
	return ""
}

// qualify returns to with a local name given node's name, boxed anew, so that
// storing the result never makes the caller's own interface value escape (a
// PID passed to Send stays on the stack). It returns nil for nil.
func qualify(to Dest, node string) Dest {
	switch d := to.(type) {
	case PID:
		return d
	case Name:
		if d.Node == "" {
			d.Node = node
		}
		return d
	}
	return nil
}
