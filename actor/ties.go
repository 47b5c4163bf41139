package actor

import (
	"slices"
	"sync"
)

// Each node keeps, per other node, the set of its processes tied to that node
// (by a link, a monitor either way, a node monitor or a call in hand), so
// that a node-down visits those and no others.

type tiedSet struct {
	mu    sync.Mutex
	procs map[*Process]struct{}
	gone  bool // emptied and dropped from the node's map; use a new one
}

// tieLocked records that p is tied to node. p.mu is held.
func (p *Process) tieLocked(node string) {
	n := p.node
	if node == "" || node == n.name {
		return
	}
	ext := p.extLocked()
	if slices.Contains(ext.nodes, node) {
		return
	}
	ext.nodes = append(ext.nodes, node)
	for {
		v, ok := n.ties.Load(node)
		if !ok {
			v, _ = n.ties.LoadOrStore(node, &tiedSet{procs: make(map[*Process]struct{})})
		}
		set := v.(*tiedSet)
		set.mu.Lock()
		if !set.gone {
			set.procs[p] = struct{}{}
			set.mu.Unlock()
			return
		}
		set.mu.Unlock()
	}
}

// untie forgets a reaped process's ties; a node no process is tied to any
// more is forgotten too.
func (n *Node) untie(p *Process, nodes []string) {
	for _, node := range nodes {
		v, ok := n.ties.Load(node)
		if !ok {
			continue
		}
		set := v.(*tiedSet)
		set.mu.Lock()
		delete(set.procs, p)
		if len(set.procs) == 0 {
			set.gone = true
			n.ties.CompareAndDelete(node, set)
		}
		set.mu.Unlock()
	}
}

// tiedTo returns the processes tied to node, in spawn order.
func (n *Node) tiedTo(node string) []*Process {
	v, ok := n.ties.Load(node)
	if !ok {
		return nil
	}
	set := v.(*tiedSet)
	set.mu.Lock()
	procs := make([]*Process, 0, len(set.procs))
	for p := range set.procs {
		procs = append(procs, p)
	}
	set.mu.Unlock()
	slices.SortFunc(procs, func(a, b *Process) int { return compareUint(a.pid.ID, b.pid.ID) })
	return procs
}
