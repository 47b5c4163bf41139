package dist

import (
	"fmt"
	"runtime/debug"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/erlang/etf"
)

// RPCFunc answers rpc:call(GoNode, Module, Function, Args) from Erlang: it
// gets Args (gotp PIDs for Erlang pids) and returns the call's result, or an
// error, which the caller gets as {badrpc, Reason}.
type RPCFunc func(args []any) (any, error)

// HandleRPC registers fn as Module:Function for rpc:call from Erlang nodes,
// replacing what was registered before.
func (d *Dist) HandleRPC(module, function string, fn RPCFunc) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rpcs == nil {
		d.rpcs = make(map[[2]string]RPCFunc)
	}
	d.rpcs[[2]string{module, function}] = fn
}

// rpc answers one request to rex: {call, M, F, Args, GroupLeader}.
func (d *Dist) rpc(req any) (result any) {
	t, ok := req.(etf.Tuple)
	if !ok || len(t) < 4 || t[0] != etf.Atom("call") {
		return etf.Tuple{etf.Atom("badrpc"), etf.Atom("badarg")}
	}
	m, ok1 := t[1].(etf.Atom)
	f, ok2 := t[2].(etf.Atom)
	args, ok3 := asList(t[3])
	if !ok1 || !ok2 || !ok3 {
		return etf.Tuple{etf.Atom("badrpc"), etf.Atom("badarg")}
	}
	d.mu.Lock()
	fn := d.rpcs[[2]string{string(m), string(f)}]
	d.mu.Unlock()
	if fn == nil {
		// As the VM answers a call of a function that does not exist.
		return etf.Tuple{etf.Atom("badrpc"), etf.Tuple{etf.Atom("EXIT"), etf.Tuple{etf.Atom("undef"),
			etf.List{etf.Tuple{m, f, etf.List(args), etf.List{}}}}}}
	}
	defer func() {
		if p := recover(); p != nil {
			d.log.Error("rpc function panicked", "module", m, "function", f, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			result = etf.Tuple{etf.Atom("badrpc"), etf.Tuple{etf.Atom("EXIT"), []byte(fmt.Sprint(p))}}
		}
	}()
	v, err := fn(args)
	if err != nil {
		return etf.Tuple{etf.Atom("badrpc"), reasonToErl(err)}
	}
	return v
}

// spawnRequest answers the peer's SPAWN_REQUEST. Only erpc's own, erpc:
// execute_call(Ref, M, F, A) (what rpc:call and erpc:call ask since OTP 23),
// is carried out: a gotp process runs the registered function and exits
// with {Ref, return, Value} (or {Ref, exit, Reason} for an error), which the
// caller's monitor of it, ReqId, reports as erpc expects. Any other spawn is
// refused with notsup.
func (c *conn) spawnRequest(reqID etf.Ref, from actor.PID, mfa etf.Tuple, opts, args any) error {
	fail := func(reason etf.Atom) error {
		return c.send(etf.Tuple{int64(opSpawnReply), reqID, pidToErl(from), int64(0), reason}, nil, false, true)
	}
	argv, _ := args.(etf.List)
	if mfa[0] != etf.Atom("erpc") || mfa[1] != etf.Atom("execute_call") || len(argv) != 4 {
		return fail("notsup")
	}
	res := argv[0]
	m, ok1 := argv[1].(etf.Atom)
	f, ok2 := argv[2].(etf.Atom)
	fargs, ok3 := asList(argv[3])
	if !ok1 || !ok2 || !ok3 {
		return fail("badarg")
	}
	monitor := false
	if ol, ok := opts.(etf.List); ok {
		for _, o := range ol {
			if o == etf.Atom("monitor") {
				monitor = true
			}
		}
	}
	start := make(chan struct{})
	d := c.d
	pid, err := d.node.Spawn(actor.Func(func(p *actor.Process, _ any) error {
		<-start
		return &Reason{Term: d.execute(res, m, f, fargs)}
	}))
	if err != nil {
		return fail("system_limit")
	}
	flags := int64(0)
	if monitor {
		// The caller's monitor of the new process, under the request's
		// reference, is in place before the process can end.
		if err := c.monitor(true, from, pidToErl(pid), reqID); err != nil {
			return err
		}
		flags = 2
	}
	if err := c.send(etf.Tuple{int64(opSpawnReply), reqID, pidToErl(from), flags, pidToErl(pid)}, nil, false, true); err != nil {
		return err
	}
	_ = d.node.Send(pid, "run")
	close(start)
	return nil
}

// execute runs M:F(Args) for erpc and returns the exit reason erpc reads:
// {Ref, return, Value}, {Ref, exit, Reason} for an error, or the undef error
// of a function not registered.
func (d *Dist) execute(res any, m, f etf.Atom, args []any) (reply any) {
	d.mu.Lock()
	fn := d.rpcs[[2]string{string(m), string(f)}]
	d.mu.Unlock()
	if fn == nil {
		return etf.Tuple{res, etf.Atom("error"), etf.Atom("undef"), etf.List{etf.Tuple{m, f, toErl(etf.List(args)), etf.List{}}}}
	}
	defer func() {
		if p := recover(); p != nil {
			d.log.Error("rpc function panicked", "module", m, "function", f, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			reply = etf.Tuple{res, etf.Atom("exit"), []byte(fmt.Sprint(p))}
		}
	}()
	v, err := fn(args)
	if err != nil {
		return etf.Tuple{res, etf.Atom("exit"), reasonToErl(err)}
	}
	return etf.Tuple{res, etf.Atom("return"), toErl(v)}
}

// asList returns a list's elements, converted for gotp; a charlist is the
// list of its codes (Erlang sends [1,2,3] compactly).
func asList(v any) ([]any, bool) {
	switch l := v.(type) {
	case etf.List:
		return []any(toGo(l).(etf.List)), true
	case etf.Charlist:
		out := make([]any, len(l))
		for i := 0; i < len(l); i++ {
			out[i] = int64(l[i])
		}
		return out, true
	}
	return nil, false
}
