package remote

// ProtocolVersion is the protocol version this build speaks, for tests that
// handshake by hand.
const ProtocolVersion = protocolVersion

// SetDepartedLimit sets how many departed peers r remembers.
func SetDepartedLimit(r *Remote, n int) {
	r.mu.Lock()
	r.departedLimit = n
	r.mu.Unlock()
}

// Remembered is how many peer names r keeps anything for.
func Remembered(r *Remote) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return max(len(r.known), len(r.lastTokens))
}

// SetNodeDownHook makes r call f(node) right after it has told its node that
// node went down.
func SetNodeDownHook(r *Remote, f func(node string)) { r.nodeDownHook = f }

// LockFree reports whether r's table lock, the one every send takes, is free
// at this moment.
func LockFree(r *Remote) bool {
	if !r.mu.TryLock() {
		return false
	}
	r.mu.Unlock()
	return true
}
