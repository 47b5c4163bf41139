package supervisor

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gotp-dev/gotp/actor"
)

// Start starts a supervisor running spec from outside any process, unlinked
// (OTP's supervisor:start_link with no caller to link to). Its children are
// started, in order, before Start returns; if one fails the others are
// stopped and Start returns a *StartError. opts may name it
// (actor.WithName); the supervisor always traps exits.
func Start(node *actor.Node, spec Spec, opts ...actor.SpawnOption) (actor.PID, error) {
	if node == nil {
		return actor.PID{}, errors.New("supervisor: Start: nil node")
	}
	s, err := newServer(spec)
	if err != nil {
		return actor.PID{}, err
	}
	opts = append(opts[:len(opts):len(opts)], actor.WithTrapExit())
	return node.Spawn(actor.Server(s), opts...)
}

// StartLink starts a supervisor running spec linked to the process p, which
// becomes its parent: OTP's supervisor:start_link. When p exits, the
// supervisor stops its children and exits with p's reason. A ChildSpec's
// StartFunc for a nested supervisor calls StartLink (see ChildSupervisor).
func StartLink(p *actor.Process, spec Spec, opts ...actor.SpawnOption) (actor.PID, error) {
	if p == nil {
		return actor.PID{}, errors.New("supervisor: StartLink: nil process")
	}
	s, err := newServer(spec)
	if err != nil {
		return actor.PID{}, err
	}
	opts = append(opts[:len(opts):len(opts)], actor.WithLink(), actor.WithTrapExit())
	return p.Spawn(actor.Server(s), opts...)
}

// ChildInfo describes a child, as OTP's which_children does.
type ChildInfo struct {
	// ID is the child's ID; empty for the children of a SimpleOneForOne
	// supervisor.
	ID string
	// PID is the child's process, or zero when it is not running (it was
	// terminated, its start was ignored, or it is restarting).
	PID actor.PID
	// Restarting is set when a restart of the child failed and the
	// supervisor is about to try again.
	Restarting bool
	Type       ChildType
	Restart    Restart
}

// Counts are a supervisor's child counts, as OTP's count_children reports
// them.
type Counts struct {
	// Specs is the number of children, running or not (a SimpleOneForOne
	// supervisor reports its one template).
	Specs int
	// Active is the number of children whose process is alive.
	Active int
	// Supervisors and Workers count children by type, running or not.
	Supervisors int
	Workers     int
}

// Requests, the supervisor's gen_server calls.
type (
	startChildReq        struct{ spec ChildSpec }
	startChildArgsReq    struct{ args []any }
	terminateChildReq    struct{ id string }
	terminateChildPIDReq struct{ pid actor.PID }
	restartChildReq      struct{ id string }
	deleteChildReq       struct{ id string }
	getChildSpecReq      struct{ id string }
	whichChildrenReq     struct{}
	countChildrenReq     struct{}
	stopReq              struct{}
)

// StartChild adds spec to the supervisor sup and starts it (OTP's
// start_child with a child spec). It returns the new child's PID, or a zero
// PID if the start returned actor.Ignore (a temporary child is then not
// kept; any other keeps its spec, not running). Errors: ErrAlreadyPresent,
// *AlreadyStartedError (matches ErrAlreadyStarted), ErrInvalidSpec,
// *StartError if the start failed (the spec is not kept),
// ErrSimpleOneForOne, or the error of the call itself (actor.ErrNoProc, ...).
func StartChild(ctx context.Context, c actor.Caller, sup actor.Dest, spec ChildSpec) (actor.PID, error) {
	return callPID(unbounded(ctx), c, sup, startChildReq{spec: spec})
}

// StartChildArgs starts a child of the SimpleOneForOne supervisor sup from
// its template, passing args to the template's StartFunc (OTP's start_child
// with extra arguments). The child keeps args and gets them again on every
// restart. It returns a zero PID if the start returned actor.Ignore (no child
// is kept). Errors: *StartError, ErrNotSimpleOneForOne, or the call's.
func StartChildArgs(ctx context.Context, c actor.Caller, sup actor.Dest, args ...any) (actor.PID, error) {
	// The supervisor keeps the arguments: copy them, so that a caller reusing
	// its slice does not change them under it.
	return callPID(unbounded(ctx), c, sup, startChildArgsReq{args: slices.Clone(args)})
}

// TerminateChild stops the child id of sup as its Shutdown says. A temporary
// child is then forgotten; any other keeps its spec and can be restarted with
// RestartChild or removed with DeleteChild. A pending restart of the child is
// cancelled. Errors: ErrNotFound, ErrSimpleOneForOne (use TerminateChildPID),
// or the call's.
func TerminateChild(ctx context.Context, c actor.Caller, sup actor.Dest, id string) error {
	return callErr(unbounded(ctx), c, sup, terminateChildReq{id: id})
}

// TerminateChildPID stops the child of sup whose process is pid and forgets
// it if it is a child of a SimpleOneForOne supervisor (or a temporary one).
// As in OTP, a pid that is no longer alive counts as terminated for a
// SimpleOneForOne supervisor. Errors: ErrNotFound, or the call's.
func TerminateChildPID(ctx context.Context, c actor.Caller, sup actor.Dest, pid actor.PID) error {
	return callErr(unbounded(ctx), c, sup, terminateChildPIDReq{pid: pid})
}

// RestartChild starts the child id of sup again, which must have been
// terminated (OTP's restart_child). It returns the new PID, or a zero PID if
// the start returned actor.Ignore. Errors: ErrRunning, ErrRestarting,
// ErrNotFound, ErrSimpleOneForOne, *StartError, or the call's.
func RestartChild(ctx context.Context, c actor.Caller, sup actor.Dest, id string) (actor.PID, error) {
	return callPID(unbounded(ctx), c, sup, restartChildReq{id: id})
}

// DeleteChild removes the spec of the child id of sup, which must not be
// running. Errors: ErrRunning, ErrRestarting, ErrNotFound,
// ErrSimpleOneForOne, or the call's.
func DeleteChild(ctx context.Context, c actor.Caller, sup actor.Dest, id string) error {
	return callErr(unbounded(ctx), c, sup, deleteChildReq{id: id})
}

// GetChildSpec returns the spec of the child id of sup, with its defaults
// filled in (for a SimpleOneForOne supervisor, id names the template).
// Errors: ErrNotFound, or the call's.
func GetChildSpec(ctx context.Context, c actor.Caller, sup actor.Dest, id string) (ChildSpec, error) {
	v, err := c.Call(unbounded(ctx), sup, getChildSpecReq{id: id})
	if err != nil {
		return ChildSpec{}, err
	}
	spec, ok := v.(ChildSpec)
	if !ok {
		return ChildSpec{}, fmt.Errorf("supervisor: unexpected reply %T", v)
	}
	return spec, nil
}

// WhichChildren lists the children of sup: static children in start order,
// dynamic ones in the order they were started.
func WhichChildren(ctx context.Context, c actor.Caller, sup actor.Dest) ([]ChildInfo, error) {
	v, err := c.Call(unbounded(ctx), sup, whichChildrenReq{})
	if err != nil {
		return nil, err
	}
	infos, ok := v.([]ChildInfo)
	if !ok {
		return nil, fmt.Errorf("supervisor: unexpected reply %T", v)
	}
	return infos, nil
}

// CountChildren counts the children of sup.
func CountChildren(ctx context.Context, c actor.Caller, sup actor.Dest) (Counts, error) {
	v, err := c.Call(unbounded(ctx), sup, countChildrenReq{})
	if err != nil {
		return Counts{}, err
	}
	counts, ok := v.(Counts)
	if !ok {
		return Counts{}, fmt.Errorf("supervisor: unexpected reply %T", v)
	}
	return counts, nil
}

// Stop stops sup: its children are stopped in reverse start order, each as
// its Shutdown says, and then it exits with reason actor.Normal (as
// gen_server:stop). Stop returns once the supervisor is gone, or with ctx's
// error first. It returns actor.ErrNoProc if sup does not exist, and an
// *actor.ExitError if sup exited with another reason meanwhile. A child must
// not stop its own supervisor this way: the supervisor would wait for it.
func Stop(ctx context.Context, c actor.Caller, sup actor.Dest) error {
	_, err := c.Call(unbounded(ctx), sup, stopReq{})
	var exit *actor.ExitError
	if errors.As(err, &exit) && exit.PID == sup && errors.Is(exit.Reason, actor.Normal) {
		return nil
	}
	return err
}

func callPID(ctx context.Context, c actor.Caller, sup actor.Dest, req any) (actor.PID, error) {
	v, err := c.Call(unbounded(ctx), sup, req)
	if err != nil {
		return actor.PID{}, err
	}
	pid, ok := v.(actor.PID)
	if !ok {
		return actor.PID{}, fmt.Errorf("supervisor: unexpected reply %T", v)
	}
	return pid, nil
}

func callErr(ctx context.Context, c actor.Caller, sup actor.Dest, req any) error {
	_, err := c.Call(unbounded(ctx), sup, req)
	return err
}

// unbounded lifts the node's default call timeout from a ctx without a
// deadline: supervisor calls wait as long as a shutdown takes, as OTP's
// infinity does.
func unbounded(ctx context.Context) context.Context {
	if _, ok := ctx.Deadline(); ok {
		return ctx
	}
	return actor.WithoutCallTimeout(ctx)
}
