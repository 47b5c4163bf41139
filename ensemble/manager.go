package ensemble

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

// managerName is the registered name of each node's manager.
const managerName = "gotp_ensemble_manager"

// routerName is the registered name of router i of a node's pool.
func routerName(i int) string { return fmt.Sprintf("gotp_ensemble_router_%d", i) }

// manager is a node's riak_ensemble_manager and its multi-raft host in one
// process. As host it drives every local peer with one ticker (a tick goes
// only to peers that are not quiescent), batches the peers' messages into
// one frame per destination node per flush, hands arriving messages to the
// peers, and wakes quiescent peers when a node that hosts another member
// falls silent. As manager it holds the cluster state (id, members) and the
// views of every ensemble this node knows, which it publishes to the
// lock-free directory, and it starts and stops the local peers.
type manager struct {
	cfg  Config
	dir  *directory
	node string
	log  *slog.Logger

	peers      map[string]actor.PID
	member     map[string]bool      // the local peer has reported itself a member
	rejoin     map[string]rejoinReq // added again while its old peer ran
	byPID      map[actor.PID]string
	awake      map[string]bool
	awakeList  []string // sorted: the peers that get ticks
	awakeDirty bool
	views      map[string]View
	viewsDirty bool
	peersDirty bool

	outbox      map[string]*hostBatch
	flushQueued bool
	lastHeard   map[string]time.Time
	silent      map[string]bool
	ticks       uint64

	cluster clusterState
}

// clusterState is the cluster's identity and membership as the root
// ensemble committed it: Version is the index of the root's log entry that
// wrote it, so a later state has a greater one. A node hosting a root peer
// pushes each new state to every member (and to a node it removed), and
// managers pass it on to one member now and then; the newer state wins,
// and a state of another cluster id is refused.
type clusterState struct {
	ID      string
	Version uint64
	Members []string
}

func (s clusterState) newer(o clusterState) bool { return s.Version > o.Version }

// Requests to a manager.
type (
	startPeerReq struct {
		Ens       string
		Members   []string
		Backend   string
		Bootstrap bool // create the ensemble with Members (else join it)
		Cluster   string
		// Resume: a peer this node ran before, started again from its
		// Raft state under DataDir.
		Resume bool
	}
	stopPeerReq struct{ Ens string }
	viewsReq    struct{ All bool }
	viewsReply  struct{ Views []View }
	clusterReq  struct{}
	enableReq   struct{ ID string }
	joinReq     struct{ Node, Cluster string }
	adoptReq    struct {
		State clusterState
		Views []View
	}
	nodeDownMsg struct{ Node string }
	// addedReq tells a node's manager that the leader added it to an
	// ensemble, with the start of a peer that joins it.
	addedReq struct{ Start startPeerReq }
)

var (
	_ actor.GenServer   = (*manager)(nil)
	_ actor.Initializer = (*manager)(nil)
	_ actor.InfoHandler = (*manager)(nil)
)

func newManager(cfg Config, dir *directory) *manager {
	return &manager{
		cfg: cfg, dir: dir, log: cfg.Logger,
		peers: map[string]actor.PID{}, member: map[string]bool{}, rejoin: map[string]rejoinReq{},
		byPID: map[actor.PID]string{}, awake: map[string]bool{},
		views: map[string]View{}, outbox: map[string]*hostBatch{},
		lastHeard: map[string]time.Time{}, silent: map[string]bool{},
	}
}

func (m *manager) Init(p *actor.Process) error {
	m.node = p.Node().Name()
	p.SendAfter(m.cfg.Tick, p.Self(), tickMsg{})
	return nil
}

func (m *manager) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	var ret any
	switch r := req.(type) {
	case startPeerReq:
		ret = m.startPeer(p, r)
	case addedReq:
		// The leader added this node. A peer still running may be the one
		// of an earlier membership on its way out: if it goes soon, a new
		// one joins; with none running, one joins now.
		if _, running := m.peers[r.Start.Ens]; running {
			m.rejoin[r.Start.Ens] = rejoinReq{req: r.Start, at: time.Now()}
			ret = okReply{OK: true}
		} else if ret = m.startPeer(p, r.Start); ret == ErrExists {
			ret = okReply{OK: true}
		}
	case stopPeerReq:
		ret = m.stopPeer(p, r.Ens)
	case viewsReq:
		ids := make([]string, 0, len(m.views))
		for id := range m.views {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		vs := make([]View, 0, len(ids))
		for _, id := range ids {
			vs = append(vs, m.views[id])
		}
		ret = viewsReply{Views: vs}
	case clusterReq:
		ret = m.cluster
	case enableReq:
		_, rooted := m.peers[RootEnsemble]
		switch {
		case m.cluster.ID != "" && m.cluster.Version == 0 && rooted && slices.Equal(m.cluster.Members, []string{m.node}):
			// Enabled here, but the cluster state never reached the root
			// (the caller's ctx ran out): the caller writes it again.
			ret = m.cluster
		case m.cluster.ID != "":
			ret = fmt.Errorf("ensemble: cluster %s already enabled", m.cluster.ID)
		default:
			m.cluster = clusterState{ID: r.ID, Members: []string{m.node}}
			root := startPeerReq{Ens: RootEnsemble, Members: []string{m.node}, Backend: MemoryBackend, Bootstrap: true, Cluster: r.ID}
			if ret = m.startPeer(p, root); ret == (okReply{OK: true}) {
				ret = m.cluster
			} else {
				m.cluster = clusterState{}
			}
		}
	case joinReq:
		ret = m.join(r)
	case adoptReq:
		if m.cluster.ID != "" && m.cluster.ID != r.State.ID {
			ret = ErrOtherCluster
			break
		}
		if m.cluster.ID == "" || r.State.newer(m.cluster) {
			m.cluster = r.State
		}
		for _, v := range r.Views {
			m.notice(p, v)
		}
		m.resumePeers(p, r.Views)
		ret = okReply{OK: true}
	case rootState:
		m.adoptRoot(p, r.Obj)
		ret = okReply{OK: true}
	case updateMembersReq:
		pid, ok := m.peers[r.Ens]
		if !ok {
			ret = ErrTimeout
			break
		}
		if err := p.Send(pid, confRouted{From: from, Add: r.Add, Del: r.Del}); err != nil {
			ret = ErrTimeout
			break
		}
		ret = actor.NoReply
	case watchReq:
		pid, ok := m.peers[r.Ens]
		if !ok {
			ret = ErrUnavailable
			break
		}
		_ = p.Send(pid, watchRouted{Watcher: r.Watcher, Stop: r.Stop})
		ret = okReply{OK: true}
	case statusReq:
		pid, ok := m.peers[r.Ens]
		if !ok {
			ret = ErrUnavailable
			break
		}
		// The peer answers the caller; the manager does not wait.
		if err := p.Send(pid, statusRouted{From: from}); err != nil {
			ret = ErrUnavailable
			break
		}
		ret = actor.NoReply
	default:
		ret = fmt.Errorf("ensemble: unknown request %T", req)
	}
	return ret, m.flush(p)
}

func (m *manager) HandleInfo(p *actor.Process, msg any) error {
	now := time.Now()
	switch x := msg.(type) {
	case tickMsg:
		m.tick(p, now)
		p.SendAfter(m.cfg.Tick, p.Self(), tickMsg{})
	case outbound:
		for _, o := range x.Msgs {
			b := m.batchFor(o.node)
			if b.Envs == nil {
				b.Envs = make([]peerEnv, 0, len(x.Msgs))
			}
			b.Envs = append(b.Envs, o.env)
		}
		return m.deferFlush(p)
	case hostBatch:
		m.receive(p, x, now)
		return m.deferFlush(p)
	case peerState:
		m.peerChanged(p, x)
	case clusterState:
		if x.ID == m.cluster.ID && x.newer(m.cluster) {
			m.setCluster(x)
		}
	case rootState:
		m.adoptRoot(p, x.Obj)
	case View:
		m.notice(p, x)
	case nodeDownMsg:
		m.fallSilent(p, x.Node)
	case flushNow:
		m.flushQueued = false
	case actor.ExitMessage:
		if x.From == p.Parent() {
			return x.Reason
		}
		if ens, ok := m.byPID[x.From]; ok {
			m.log.Warn("ensemble: peer exited", "ensemble", ens, "reason", fmt.Sprint(x.Reason))
			m.forget(ens)
		}
	}
	return m.flush(p)
}

func (m *manager) batchFor(node string) *hostBatch {
	b, ok := m.outbox[node]
	if !ok {
		b = &hostBatch{From: m.node, Cluster: m.cluster.ID}
		m.outbox[node] = b
	}
	return b
}

// tick drives the awake peers, sends a heartbeat to every node that hosts
// another member of a local ensemble, and finds the silent ones.
func (m *manager) tick(p *actor.Process, now time.Time) {
	m.ticks++
	if m.awakeDirty {
		m.awakeList = m.awakeList[:0]
		for ens, on := range m.awake {
			if on {
				m.awakeList = append(m.awakeList, ens)
			}
		}
		slices.Sort(m.awakeList)
		m.awakeDirty = false
	}
	for _, ens := range m.awakeList {
		_ = p.Send(m.peers[ens], tickMsg{})
	}
	for _, n := range m.neighbours() {
		m.batchFor(n) // an empty batch is a heartbeat
		heard, ok := m.lastHeard[n]
		if !ok {
			m.lastHeard[n] = now
			continue
		}
		if now.Sub(heard) > m.cfg.silence() && !m.silent[n] {
			m.fallSilent(p, n)
		}
	}
	// Anti-entropy of the cluster state and of the views this node leads:
	// now and then to one member, so that a node that missed a notice (cut
	// off when the leader changed) catches up without another change.
	if m.cluster.ID != "" && m.ticks%20 == 0 && len(m.cluster.Members) > 1 {
		others := slices.DeleteFunc(slices.Clone(m.cluster.Members), func(n string) bool { return n == m.node })
		to := others[int(m.ticks/20)%len(others)]
		_ = p.Send(actor.Name{Node: to, Name: managerName}, m.cluster)
		if led := m.led(); len(led) > 0 {
			b := m.batchFor(to)
			b.Notices = append(b.Notices, led...)
		}
	}
}

// led is the views of the ensembles whose leader is on this node, sorted.
func (m *manager) led() []View {
	var led []View
	for _, v := range m.views {
		if v.Leader == m.node {
			led = append(led, v)
		}
	}
	slices.SortFunc(led, func(a, b View) int { return strings.Compare(a.Ensemble, b.Ensemble) })
	return led
}

// neighbours are the other nodes that host members of local ensembles,
// sorted.
func (m *manager) neighbours() []string {
	seen := map[string]bool{}
	var out []string
	for ens := range m.peers {
		v := m.views[ens]
		for _, n := range slices.Concat(v.Members, v.OldMembers) {
			if n != m.node && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

// fallSilent wakes every quiescent local peer with a member on node, so
// that its followers notice a lost leader and its leader a lost majority.
func (m *manager) fallSilent(p *actor.Process, node string) {
	m.silent[node] = true
	ids := make([]string, 0, len(m.peers))
	for ens := range m.peers {
		ids = append(ids, ens)
	}
	slices.Sort(ids)
	for _, ens := range ids {
		v := m.views[ens]
		if !m.awake[ens] && (slices.Contains(v.Members, node) || slices.Contains(v.OldMembers, node)) {
			_ = p.Send(m.peers[ens], wakeMsg{})
		}
	}
}

// receive hands a batch's messages to the local peers, one inbound per
// peer in order of first appearance, and takes its leader notices.
func (m *manager) receive(p *actor.Process, b hostBatch, now time.Time) {
	if b.Cluster != m.cluster.ID {
		m.log.Warn("ensemble: refused messages of another cluster", "from", b.From, "cluster", b.Cluster)
		return
	}
	m.lastHeard[b.From] = now
	m.silent[b.From] = false
	// Grouped by ensemble, each group in the order it came: a stable sort
	// of the batch's own envelopes (decoded for this manager alone), and
	// one inbound per run, sharing them.
	envs := b.Envs
	byEns := func(x, y peerEnv) int { return strings.Compare(x.Ens, y.Ens) }
	if !slices.IsSortedFunc(envs, byEns) {
		slices.SortStableFunc(envs, byEns)
	}
	for i := 0; i < len(envs); {
		j := i + 1
		for j < len(envs) && envs[j].Ens == envs[i].Ens {
			j++
		}
		if pid, ok := m.peers[envs[i].Ens]; ok {
			_ = p.Send(pid, inbound{From: b.From, Envs: envs[i:j:j]})
		}
		i = j
	}
	for _, v := range b.Notices {
		m.notice(p, v)
	}
}

// notice merges another node's view of an ensemble: a newer term wins.
// A local peer whose ensemble no longer lists this node is stopped.
func (m *manager) notice(p *actor.Process, v View) {
	cur, ok := m.views[v.Ensemble]
	if ok && v.Term < cur.Term {
		return
	}
	if ok && v.Term == cur.Term && v.Leader == "" && cur.Leader != "" {
		return
	}
	m.views[v.Ensemble] = v
	m.viewsDirty = true
	// A peer still joining is not in the views yet: only one that has been
	// a member is stopped.
	if _, local := m.peers[v.Ensemble]; local && m.member[v.Ensemble] && len(v.OldMembers) == 0 &&
		len(v.Members) > 0 && !slices.Contains(v.Members, m.node) {
		m.removed(p, v.Ensemble)
	}
}

func (m *manager) peerChanged(p *actor.Process, s peerState) {
	if _, ok := m.peers[s.Ens]; !ok {
		return
	}
	if s.Removed {
		m.removed(p, s.Ens)
		return
	}
	if m.awake[s.Ens] == s.Quiescent {
		m.awake[s.Ens] = !s.Quiescent
		m.awakeDirty = true
	}
	if slices.Contains(s.View.Members, m.node) {
		m.member[s.Ens] = true
	}
	old := m.views[s.Ens]
	v := s.View
	if len(v.Members) == 0 {
		v.Members, v.OldMembers = old.Members, old.OldMembers // not configured yet
	}
	if v.Term < old.Term {
		// A notice already told of a newer term than this peer knows.
		v.Leader, v.Term = old.Leader, old.Term
	}
	changed := v.Leader != old.Leader || v.Term != old.Term || !slices.Equal(v.Members, old.Members) ||
		!slices.Equal(v.OldMembers, old.OldMembers)
	if !changed {
		return
	}
	m.views[s.Ens] = v
	m.viewsDirty = true
	if v.Leader == m.node {
		// Leader change notification: to every cluster member.
		for _, n := range m.cluster.Members {
			if n != m.node {
				b := m.batchFor(n)
				b.Notices = append(b.Notices, v)
			}
		}
		for _, n := range slices.Concat(v.Members, v.OldMembers) {
			if n != m.node && !slices.Contains(m.cluster.Members, n) {
				b := m.batchFor(n)
				b.Notices = append(b.Notices, v)
			}
		}
		_ = m.deferFlush(p)
	}
}

func (m *manager) startPeer(p *actor.Process, r startPeerReq) any {
	if r.Cluster != m.cluster.ID {
		return ErrOtherCluster
	}
	if _, ok := m.peers[r.Ens]; ok {
		return ErrExists
	}
	name := r.Backend
	if name == "" {
		name = MemoryBackend
	}
	nb, ok := m.cfg.Backends[name]
	if !ok {
		return fmt.Errorf("ensemble: unknown backend %q", name)
	}
	dir, raftDir := "", ""
	if m.cfg.DataDir != "" {
		dir = filepath.Join(m.cfg.DataDir, r.Ens)
		raftDir = filepath.Join(dir, raftDirName)
		if err := m.preparePeerDir(dir, raftDir, name, r.Resume); err != nil {
			return err
		}
	}
	be, err := nb(r.Ens, dir)
	if err != nil {
		return fmt.Errorf("ensemble: backend %q: %w", name, err)
	}
	if r.Ens == RootEnsemble {
		node, self := p.Node(), p.Self()
		be = rootBackend{Backend: be, notify: func(o Object) { _ = node.Send(self, rootState{Obj: o}) }}
	}
	in := peerInit{ens: r.Ens, node: m.node, cfg: m.cfg, backend: be, log: m.log.With("ensemble", r.Ens), dir: raftDir}
	if r.Bootstrap {
		in.members = slices.Clone(r.Members)
		slices.Sort(in.members)
	}
	pid, err := p.Spawn(actor.Server(&peer{in: in, manager: p.Self()}), actor.WithLink())
	if err != nil {
		_ = be.Close()
		return err
	}
	m.peers[r.Ens], m.byPID[pid] = pid, r.Ens
	m.awake[r.Ens], m.awakeDirty, m.peersDirty = true, true, true
	if _, ok := m.views[r.Ens]; !ok {
		members := slices.Clone(r.Members)
		slices.Sort(members)
		m.views[r.Ens] = View{Ensemble: r.Ens, Members: members}
		m.viewsDirty = true
	}
	return okReply{OK: true}
}

// rejoinReq is a start of a peer that found the peer of an earlier
// membership still running, and when.
type rejoinReq struct {
	req startPeerReq
	at  time.Time
}

// removed stops the local peer of an ensemble that no longer has this
// node, and starts a new one to join it if it was added again meanwhile.
func (m *manager) removed(p *actor.Process, ens string) {
	m.stopPeer(p, ens)
	if r, ok := m.rejoin[ens]; ok {
		delete(m.rejoin, ens)
		// Only a removal soon after: one much later is another matter
		// (the add found the peer a member, and nothing was to be done).
		if time.Since(r.at) > 2*m.cfg.FollowerTimeout {
			return
		}
		if ret := m.startPeer(p, r.req); ret != (okReply{OK: true}) {
			m.log.Error("ensemble: rejoin", "ensemble", ens, "err", fmt.Sprint(ret))
		}
	}
}

func (m *manager) stopPeer(p *actor.Process, ens string) any {
	pid, ok := m.peers[ens]
	if !ok {
		return ErrUnavailable
	}
	p.Unlink(pid)
	_ = p.Send(pid, stopMsg{})
	m.forget(ens)
	return okReply{OK: true}
}

func (m *manager) forget(ens string) {
	pid := m.peers[ens]
	delete(m.peers, ens)
	delete(m.member, ens)
	delete(m.byPID, pid)
	delete(m.awake, ens)
	m.awakeDirty, m.peersDirty = true, true
}

// join answers a node that asks to join: the cluster state, if it is of
// this cluster. The joining node changes the state through the root.
func (m *manager) join(r joinReq) any {
	if m.cluster.ID == "" {
		return ErrNotEnabled
	}
	if r.Cluster != "" && r.Cluster != m.cluster.ID {
		return ErrOtherCluster
	}
	return m.cluster
}

// adoptRoot takes a cluster state the root committed, if it is newer than
// the one held, and pushes it to every member of the old and the new
// state, so that a removed node learns it is out.
func (m *manager) adoptRoot(p *actor.Process, o Object) {
	st, err := clusterOf(o)
	if err != nil {
		m.log.Error("ensemble: the root's cluster state", "err", err)
		return
	}
	if m.cluster.ID != "" && st.ID != m.cluster.ID {
		m.log.Warn("ensemble: the root holds another cluster", "cluster", st.ID)
		return
	}
	if m.cluster.ID != "" && !st.newer(m.cluster) {
		return
	}
	old := m.cluster
	m.setCluster(st)
	to := slices.Concat(old.Members, st.Members)
	slices.Sort(to)
	for _, n := range slices.Compact(to) {
		if n != m.node {
			_ = p.Send(actor.Name{Node: n, Name: managerName}, st)
		}
	}
}

// setCluster takes a newer cluster state. The views this node leads go to
// the nodes that came in: what a joining node pulled from a member may
// have missed a change the leader's notice was still bringing there.
func (m *manager) setCluster(st clusterState) {
	old := m.cluster
	m.cluster = st
	led := m.led()
	if len(led) == 0 {
		return
	}
	for _, n := range st.Members {
		if n != m.node && !slices.Contains(old.Members, n) {
			b := m.batchFor(n)
			b.Notices = append(b.Notices, led...)
		}
	}
}

func (m *manager) deferFlush(p *actor.Process) error {
	if m.flushQueued {
		return nil
	}
	if err := p.Send(p.Self(), flushNow{}); err != nil {
		return m.flush(p)
	}
	m.flushQueued = true
	return nil
}

// flush sends each node its batch (one message per node, nodes in order)
// and publishes the directory if it changed.
func (m *manager) flush(p *actor.Process) error {
	if len(m.outbox) > 0 {
		nodes := make([]string, 0, len(m.outbox))
		for n := range m.outbox {
			nodes = append(nodes, n)
		}
		slices.Sort(nodes)
		for _, n := range nodes {
			b := m.outbox[n]
			b.Cluster = m.cluster.ID
			for _, part := range splitBatch(*b, m.cfg.maxMessage()) {
				if err := p.Send(actor.Name{Node: n, Name: managerName}, part); err != nil && !errors.Is(err, actor.ErrNoConnection) {
					m.log.Debug("ensemble: batch not sent", "node", n, "err", err)
				}
			}
		}
		clear(m.outbox)
	}
	if m.viewsDirty || m.peersDirty {
		var views map[string]View
		var peers map[string]actor.PID
		if m.viewsDirty {
			views = m.views
		}
		if m.peersDirty {
			peers = m.peers
		}
		m.dir.publish(views, peers)
		m.viewsDirty, m.peersDirty = false, false
	}
	return nil
}

// splitBatch cuts a batch into batches of about max bytes at most, in
// order (a single envelope larger than that, which raft's limits keep
// within a frame, goes alone).
func splitBatch(h hostBatch, max int) []hostBatch {
	total := 0
	for _, e := range h.Envs {
		total += e.size()
	}
	for _, v := range h.Notices {
		total += v.size()
	}
	if total <= max {
		return []hostBatch{h}
	}
	var out []hostBatch
	cur, size := hostBatch{From: h.From, Cluster: h.Cluster}, 0
	add := func(n int) {
		if size > 0 && size+n > max {
			out = append(out, cur)
			cur, size = hostBatch{From: h.From, Cluster: h.Cluster}, 0
		}
		size += n
	}
	for _, e := range h.Envs {
		add(e.size())
		cur.Envs = append(cur.Envs, e)
	}
	for _, v := range h.Notices {
		add(v.size())
		cur.Notices = append(cur.Notices, v)
	}
	return append(out, cur)
}

// raftDirName is the directory, in an ensemble's directory under DataDir,
// where its peer keeps its Raft state; peerMetaName the file that says which
// cluster the peer belongs to and which backend it stores in.
const (
	raftDirName  = "raft"
	peerMetaName = "peer"
)

// preparePeerDir makes an ensemble's directory ready for its peer. A new
// peer (not resume) finding the Raft state of a peer of another cluster, or
// of none, there starts afresh: that state is removed. It records the
// cluster and the backend for a later resume.
func (m *manager) preparePeerDir(dir, raftDir, backend string, resume bool) error {
	if !resume {
		if cluster, _, ok := readPeerMeta(dir); !ok || cluster != m.cluster.ID {
			if err := os.RemoveAll(raftDir); err != nil {
				return err
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	meta := "cluster " + m.cluster.ID + "\nbackend " + backend + "\n"
	return os.WriteFile(filepath.Join(dir, peerMetaName), []byte(meta), 0o644)
}

func readPeerMeta(dir string) (cluster, backend string, ok bool) {
	b, err := os.ReadFile(filepath.Join(dir, peerMetaName))
	if err != nil {
		return "", "", false
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "cluster":
			cluster = v
		case "backend":
			backend = v
		}
	}
	return cluster, backend, cluster != ""
}

// resumePeers starts again, from their Raft state under DataDir, the peers
// this node ran in this cluster before it restarted: those of the ensembles
// whose views list it. A peer that cannot start (its directory damaged) is
// logged and left stopped, for UpdateMembers to replace.
func (m *manager) resumePeers(p *actor.Process, views []View) {
	if m.cfg.DataDir == "" {
		return
	}
	for _, v := range views {
		if _, running := m.peers[v.Ensemble]; running {
			continue
		}
		if !slices.Contains(v.Members, m.node) && !slices.Contains(v.OldMembers, m.node) {
			continue
		}
		dir := filepath.Join(m.cfg.DataDir, v.Ensemble)
		cluster, backend, ok := readPeerMeta(dir)
		if !ok || cluster != m.cluster.ID {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, raftDirName, "id")); err != nil {
			continue
		}
		r := startPeerReq{Ens: v.Ensemble, Members: v.Members, Backend: backend, Cluster: m.cluster.ID, Resume: true}
		if ret := m.startPeer(p, r); ret != (okReply{OK: true}) {
			m.log.Error("ensemble: resume peer", "ensemble", v.Ensemble, "err", fmt.Sprint(ret))
		}
	}
}
