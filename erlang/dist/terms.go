package dist

import (
	"errors"
	"fmt"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/erlang/etf"
)

// Erlang PIDs and gotp PIDs map one to one: an Erlang pid's ID and serial are
// a gotp PID's low and high 32 bits.

func pidToErl(p actor.PID) etf.Pid {
	return etf.Pid{Node: etf.Atom(p.Node), ID: uint32(p.ID), Serial: uint32(p.ID >> 32), Creation: p.Creation}
}

func pidFromErl(p etf.Pid) actor.PID {
	return actor.PID{Node: string(p.Node), Creation: p.Creation, ID: uint64(p.Serial)<<32 | uint64(p.ID)}
}

// A gotp reference made here travels as a three-word Erlang reference (its
// ID in the first two words) and comes back as the same gotp reference.

func refToErl(r actor.Ref) etf.Ref {
	return etf.Ref{Node: etf.Atom(r.Node), Creation: r.Creation, IDs: []uint32{uint32(r.ID), uint32(r.ID >> 32), 0}}
}

func refFromErl(r etf.Ref) (actor.Ref, bool) {
	if len(r.IDs) != 3 || r.IDs[2] != 0 {
		return actor.Ref{}, false
	}
	return actor.Ref{Node: string(r.Node), Creation: r.Creation, ID: uint64(r.IDs[1])<<32 | uint64(r.IDs[0])}, true
}

// refKey names an Erlang reference in a table.
func refKey(r etf.Ref) string { return fmt.Sprint(r.Node, r.Creation, r.IDs) }

// toErl converts a Go message for the wire: gotp PIDs and references become
// Erlang ones, inside tuples, lists and maps too; an error becomes an exit
// reason.
func toErl(v any) any {
	switch v := v.(type) {
	case actor.PID:
		return pidToErl(v)
	case actor.Ref:
		return refToErl(v)
	case etf.Tuple:
		out := make(etf.Tuple, len(v))
		for i, e := range v {
			out[i] = toErl(e)
		}
		return out
	case etf.List:
		return toErlList(v)
	case []any:
		return toErlList(v)
	case etf.Map:
		out := make(etf.Map, len(v))
		for i, p := range v {
			out[i] = etf.Pair{Key: toErl(p.Key), Value: toErl(p.Value)}
		}
		return out
	case etf.ImproperList:
		elems := make([]any, len(v.Elems))
		for i, e := range v.Elems {
			elems[i] = toErl(e)
		}
		return etf.ImproperList{Elems: elems, Tail: toErl(v.Tail)}
	case error:
		return reasonToErl(v)
	}
	if t, ok := etf.AsTerm(v); ok {
		return toErl(t) // a registered struct, its fields converted too
	}
	return v
}

func toErlList(v []any) etf.List {
	out := make(etf.List, len(v))
	for i, e := range v {
		out[i] = toErl(e)
	}
	return out
}

// toGo converts a decoded message for gotp: Erlang pids become gotp PIDs
// and registered records their Go structs (etf.ToGo), wherever they are.
func toGo(v any) any { return etf.ToGo(fromErl(v)) }

// fromErl converts Erlang pids to gotp PIDs, wherever they are.
func fromErl(v any) any {
	switch v := v.(type) {
	case etf.Pid:
		return pidFromErl(v)
	case etf.Tuple:
		for i, e := range v {
			v[i] = fromErl(e)
		}
	case etf.List:
		for i, e := range v {
			v[i] = fromErl(e)
		}
	case etf.Map:
		for i, p := range v {
			v[i] = etf.Pair{Key: fromErl(p.Key), Value: fromErl(p.Value)}
		}
	case etf.ImproperList:
		for i, e := range v.Elems {
			v.Elems[i] = fromErl(e)
		}
		v.Tail = fromErl(v.Tail)
		return v
	}
	return v
}

// Reason is an Erlang exit reason with no gotp counterpart: the term itself.
type Reason struct{ Term any }

func (r *Reason) Error() string { return fmt.Sprintf("erlang exit: %v", r.Term) }

// shutdownReason is {shutdown, Term}: it matches actor.Shutdown.
type shutdownReason struct{ Term any }

func (r *shutdownReason) Error() string { return fmt.Sprintf("shutdown: %v", r.Term) }
func (r *shutdownReason) Unwrap() error { return actor.Shutdown }

// reasonFromErl maps an Erlang exit reason to gotp's: normal, shutdown,
// killed, kill, noproc and noconnection to their sentinels, {shutdown, X} to
// an error matching actor.Shutdown, anything else to a *Reason.
func reasonFromErl(t any) error {
	switch t := t.(type) {
	case etf.Atom:
		switch t {
		case "normal":
			return actor.Normal
		case "shutdown":
			return actor.Shutdown
		case "killed":
			return actor.Killed
		case "kill":
			return actor.Kill
		case "noproc":
			return actor.ErrNoProc
		case "noconnection":
			return actor.ErrNoConnection
		}
	case etf.Tuple:
		if len(t) == 2 && t[0] == etf.Atom("shutdown") {
			return &shutdownReason{Term: fromErl(t[1])}
		}
	}
	return &Reason{Term: fromErl(t)}
}

// reasonToErl maps a gotp exit reason to Erlang's; one with no Erlang
// counterpart travels as the binary of its text.
func reasonToErl(err error) any {
	var r *Reason
	var sr *shutdownReason
	switch {
	case err == nil || errors.Is(err, actor.Normal):
		return etf.Atom("normal")
	case errors.As(err, &r):
		return toErl(r.Term)
	case errors.As(err, &sr):
		return etf.Tuple{etf.Atom("shutdown"), toErl(sr.Term)}
	case errors.Is(err, actor.Killed):
		return etf.Atom("killed")
	case errors.Is(err, actor.Kill):
		return etf.Atom("kill")
	case errors.Is(err, actor.Shutdown):
		return etf.Atom("shutdown")
	case errors.Is(err, actor.ErrNoConnection):
		return etf.Atom("noconnection")
	case errors.Is(err, actor.ErrNoProc):
		return etf.Atom("noproc")
	}
	return []byte(err.Error())
}
