package hyparview

import (
	"fmt"
	"slices"
	"sync"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
)

// Policy is the remote layer's policy for a HyParView node: every
// authenticated node is accepted and reached directly, and application
// traffic across an injected partition is refused (the managers' own traffic
// always flows). It is safe for concurrent use.
type Policy struct {
	mu sync.Mutex
	// cut holds the nodes application traffic may not go to, with the
	// partitions that cut each.
	cut map[string][]string
}

var (
	_ remote.Policy = (*Policy)(nil)
	_ remote.Filter = (*Policy)(nil)
)

// NewPolicy returns a policy that cuts nothing yet.
func NewPolicy() *Policy { return &Policy{cut: map[string][]string{}} }

// RemoteConfig returns rcfg with the policy installed.
func (p *Policy) RemoteConfig(rcfg remote.Config) remote.Config {
	rcfg.Policy = p
	return rcfg
}

// Accept implements remote.Policy: every node with the cookie is welcome.
func (p *Policy) Accept(remote.NodeSpec) error { return nil }

// Route implements remote.Policy: every node is reached directly.
func (p *Policy) Route(dest string) (string, error) { return dest, nil }

// Admit implements remote.Filter.
func (p *Policy) Admit(env actor.Envelope, dest string) error {
	if env.ToName.Name == ManagerName {
		return nil
	}
	if p.partitioned(dest) {
		return fmt.Errorf("%w: %s", peerservice.ErrPartitioned, dest)
	}
	return nil
}

func (p *Policy) partitioned(dest string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.cut[dest]) > 0
}

func (p *Policy) addCut(node, ref string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Contains(p.cut[node], ref) {
		p.cut[node] = append(p.cut[node], ref)
	}
}

// removeRef lifts every cut of partition ref.
func (p *Policy) removeRef(ref string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for node, refs := range p.cut {
		refs = slices.DeleteFunc(refs, func(r string) bool { return r == ref })
		if len(refs) == 0 {
			delete(p.cut, node)
		} else {
			p.cut[node] = refs
		}
	}
}
