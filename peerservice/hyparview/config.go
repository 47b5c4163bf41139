package hyparview

import (
	"errors"
	"fmt"
)

// Config sizes the views and the random walks of the protocol. The zero
// value is the configuration of the papers for a network of about 10,000
// nodes: an active view of 5, a passive view of 30, walks of 6 and 3 hops,
// shuffles of 3 active and 4 passive entries.
type Config struct {
	// ActiveSize is the size of the active view, log(n)+c. Default 5.
	ActiveSize int
	// PassiveSize is the size of the passive view, k(log(n)+c). Default 30.
	PassiveSize int
	// ActiveRandomWalkLength (ARWL) is how many hops a FORWARDJOIN travels
	// before the node it reaches takes the joining node into its active
	// view. Default 6.
	ActiveRandomWalkLength int
	// PassiveRandomWalkLength (PRWL) is the hop count left at which a
	// FORWARDJOIN puts the joining node into the passive view of the node it
	// passes. It must not exceed ActiveRandomWalkLength. Default 3.
	PassiveRandomWalkLength int
	// ShuffleActive (ka) is how many active view entries a SHUFFLE carries.
	// Default 3.
	ShuffleActive int
	// ShufflePassive (kp) is how many passive view entries a SHUFFLE
	// carries. Default 4.
	ShufflePassive int
	// ShuffleWalkLength is how many hops a SHUFFLE travels before the node
	// it reaches answers it. Default ActiveRandomWalkLength.
	ShuffleWalkLength int
	// PendingTicks is how many Tick calls a NEIGHBOR request may stay
	// unanswered before the peer is taken for failed and dropped from the
	// passive view. Default 3.
	PendingTicks int
}

// ErrConfig is returned, wrapped, for an invalid Config.
var ErrConfig = errors.New("hyparview: invalid config")

func (c Config) withDefaults() Config {
	if c.ActiveSize == 0 {
		c.ActiveSize = 5
	}
	if c.PassiveSize == 0 {
		c.PassiveSize = 30
	}
	if c.ActiveRandomWalkLength == 0 {
		c.ActiveRandomWalkLength = 6
	}
	if c.PassiveRandomWalkLength == 0 {
		c.PassiveRandomWalkLength = 3
	}
	if c.ShuffleActive == 0 {
		c.ShuffleActive = 3
	}
	if c.ShufflePassive == 0 {
		c.ShufflePassive = 4
	}
	if c.ShuffleWalkLength == 0 {
		c.ShuffleWalkLength = c.ActiveRandomWalkLength
	}
	if c.PendingTicks == 0 {
		c.PendingTicks = 3
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.ActiveSize < 1:
		return fmt.Errorf("%w: ActiveSize %d < 1", ErrConfig, c.ActiveSize)
	case c.PassiveSize < 0:
		return fmt.Errorf("%w: PassiveSize %d < 0", ErrConfig, c.PassiveSize)
	case c.ActiveRandomWalkLength < 0, c.PassiveRandomWalkLength < 0, c.ShuffleWalkLength < 0:
		return fmt.Errorf("%w: negative walk length", ErrConfig)
	case c.PassiveRandomWalkLength > c.ActiveRandomWalkLength:
		return fmt.Errorf("%w: PassiveRandomWalkLength %d > ActiveRandomWalkLength %d",
			ErrConfig, c.PassiveRandomWalkLength, c.ActiveRandomWalkLength)
	case c.ShuffleActive < 0, c.ShufflePassive < 0:
		return fmt.Errorf("%w: negative shuffle size", ErrConfig)
	case c.PendingTicks < 1:
		return fmt.Errorf("%w: PendingTicks %d < 1", ErrConfig, c.PendingTicks)
	}
	return nil
}
