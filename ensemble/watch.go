package ensemble

import (
	"context"
	"slices"

	"github.com/gotp-dev/gotp/actor"
)

// LeaderStatus is the message a watcher gets (riak's is_leading and
// is_not_leading): once when it starts watching, then each time the
// ensemble's peer on Node starts or stops leading.
type LeaderStatus struct {
	Ensemble string
	Node     string
	Leading  bool
	Epoch    uint64 // the Raft term
}

type (
	watchReq struct {
		Ens     string
		Watcher actor.PID
		Stop    bool
	}
	watchRouted struct {
		Watcher actor.PID
		Stop    bool
	}
)

func init() {
	mustRegister[LeaderStatus]("gotp.ensemble.LeaderStatus")
	mustRegister[watchReq]("gotp.ensemble.watch")
}

// WatchLeaderStatus makes watcher receive LeaderStatus messages from the
// local peer of ensemble ens (riak_ensemble_peer:watch_leader_status). The
// watch ends with StopWatchingLeaderStatus or when the watcher exits.
func (s *Service) WatchLeaderStatus(ctx context.Context, ens string, watcher actor.PID) error {
	_, err := s.node.Call(ctx, s.local(), watchReq{Ens: ens, Watcher: watcher})
	return err
}

// StopWatchingLeaderStatus ends a watch: the peer sends the watcher no
// LeaderStatus once it has handled the request (which follows the call).
func (s *Service) StopWatchingLeaderStatus(ctx context.Context, ens string, watcher actor.PID) error {
	_, err := s.node.Call(ctx, s.local(), watchReq{Ens: ens, Watcher: watcher, Stop: true})
	return err
}

// watchers is a peer's list of leadership watchers, in the order they
// came, each monitored so that it is dropped when it exits.
type watchers struct {
	list    []watcher
	leading bool
	epoch   uint64
}

type watcher struct {
	pid actor.PID
	ref actor.Ref
}

func (w *watchers) add(p *actor.Process, s LeaderStatus, pid actor.PID) {
	if slices.ContainsFunc(w.list, func(x watcher) bool { return x.pid == pid }) {
		return
	}
	w.list = append(w.list, watcher{pid: pid, ref: p.Monitor(pid)})
	_ = p.Send(pid, s)
}

func (w *watchers) remove(p *actor.Process, pid actor.PID) {
	w.list = slices.DeleteFunc(w.list, func(x watcher) bool {
		if x.pid == pid {
			p.Demonitor(x.ref)
			return true
		}
		return false
	})
}

// update tells every watcher when leading changed.
func (w *watchers) update(p *actor.Process, s LeaderStatus) {
	if s.Leading == w.leading && (!s.Leading || s.Epoch == w.epoch) {
		return
	}
	w.leading, w.epoch = s.Leading, s.Epoch
	for _, x := range w.list {
		_ = p.Send(x.pid, s)
	}
}
