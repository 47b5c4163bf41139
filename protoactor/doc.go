// Package protoactor bridges gotp processes and Proto.Actor Go actors, so
// that a team running Proto.Actor can move to gotp one service at a time:
// each side addresses the other through a proxy that is a native address of
// its own kind, in one OS process or across processes over Proto.Actor's own
// remote (its gRPC transport and protobuf messages).
//
//	b := protoactor.New(node, system)
//	gp, _ := b.GotpPID(paPID)                   // a gotp PID for a Proto.Actor actor, local or remote
//	reply, err := node.Call(ctx, gp, &pb.Ping{})
//	pp, _ := b.ProtoPID(actor.Name{Name: "kv"}) // a Proto.Actor PID for a gotp process
//	res, err := system.Root.RequestFuture(pp, &pb.Get{}, time.Second).Result()
//	_, _ = b.Expose("kv", actor.Name{Name: "kv"}) // reachable elsewhere as pa.NewPID(system.Address(), "kv")
//
// # What maps to what
//
//	gotp                         Proto.Actor
//	Send / Cast                  Send (a cast arrives as its message)
//	Call                         RequestFuture (its error, a timeout, is the call's error)
//	monitor of the proxy         Watch of the actor: DOWN when it terminates
//	the process exits            Terminated to those that Watch the proxy
//	noconnection                 Terminated with AddressTerminated (the remote address was lost)
//
// # Across OS processes
//
// Start the actor system's remote (remote.NewRemote(sys, ...).Start()) and
// the bridge reaches actors of other Proto.Actor systems by their PIDs
// (GotpPID(pa.NewPID(addr, id))), and Expose makes a gotp process reachable
// under a name of this system. An unchanged Proto.Actor service on the other
// side needs nothing of gotp. Proto.Actor's remote carries protobuf messages
// only: a gotp Call or Send of anything else to a remote actor fails with
// ErrNotProto (a Send, which cannot fail, is dropped, logged and counted by
// Dropped); a gotp reply that is not one, and every error, goes back to a
// remote requester as a *bridgepb.Error, which a bridge at the other end
// turns back into a *RemoteError that matches the sentinel of its kind
// (actor.ErrNoProc, actor.ErrTimeout, ErrBusy, ...).
//
// # Bounds
//
// Requests in flight through one proxy are at most MaxInFlight (1024); past
// that a request fails at once with ErrBusy. A gotp proxy's mailbox holds at
// most MailboxBound (10,000) messages: when the Proto.Actor actor behind it is
// slow and its mailbox is bounded (pa.Bounded blocks its senders), the proxy
// waits, its mailbox fills and gotp senders get actor.ErrMailboxFull. Sends
// from Proto.Actor to a gotp process with a full bounded mailbox are refused
// by gotp and counted as dropped. So a slow side never makes the other grow
// without bound, as long as the receiving mailbox is bounded on its own side.
//
// # Where it differs
//
// Proto.Actor has no links and no exit reasons: a gotp monitor of a bridged
// actor gets DOWN with Normal when the actor stopped, ErrNoProc when it was
// not found, and ErrNoConnection when its address went away; Proto.Actor
// watchers of a bridged gotp process get Terminated, whatever its reason. A
// Proto.Actor actor that crashes and is restarted by its supervisor stays the
// same actor: the proxy goes on. In one OS process messages pass as they are
// (any Go value); a gotp error reply reaches a Proto.Actor future in the same
// process as the error value itself.
package protoactor
