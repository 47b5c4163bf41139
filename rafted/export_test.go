package rafted

// SetUnguarded turns the vote guard and the config-change lease rule off
// (or back on) for every member at once; see unguarded.
func SetUnguarded(off bool) { unguarded.Store(off) }
