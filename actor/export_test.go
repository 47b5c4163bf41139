package actor

// CallMonitors returns how many pending calls' monitors (alias watchers) the
// process holds. Every call's monitor must go once the call is over.
func CallMonitors(n *Node, pid PID) int {
	p := n.lookup(pid)
	if p == nil {
		return -1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.callerCountLocked()
}
