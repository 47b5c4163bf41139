package hyparview

// Message is one of the protocol's messages: Join, JoinAccept, ForwardJoin,
// Neighbor, NeighborReply, Disconnect, Shuffle and ShuffleReply. The sender
// is not part of the message; whoever carries it hands it to Core.Handle
// together with the sender's name.
type Message interface{ isMessage() }

// Join asks a contact node to take the sender into the overlay.
type Join struct{}

// JoinAccept tells the receiver that the sender put it into its active view
// (the answer to a Join, or the end of a FORWARDJOIN walk); the receiver
// puts the sender into its own, which keeps the views symmetric.
type JoinAccept struct{}

// ForwardJoin walks the overlay on behalf of a joining node New; TTL is the
// number of hops left.
type ForwardJoin[N comparable] struct {
	New N
	TTL int
}

// Priority is the priority of a NEIGHBOR request.
type Priority int

// Priorities: a node with an empty active view asks with High, which the
// receiver never refuses; otherwise with Low, which the receiver accepts only
// if its active view has room.
const (
	Low Priority = iota
	High
)

func (p Priority) String() string {
	if p == High {
		return "high"
	}
	return "low"
}

// Neighbor asks the receiver to put the sender into its active view.
type Neighbor struct {
	Priority Priority
}

// NeighborReply answers a Neighbor request.
type NeighborReply struct {
	Accepted bool
}

// Disconnect tells the receiver that the sender dropped it from its active
// view; the receiver does the same and keeps the sender as a passive peer.
type Disconnect struct{}

// Shuffle walks the overlay for TTL more hops carrying a sample of the
// views of Origin (Origin itself among Nodes); the node where it stops
// answers Origin directly with a ShuffleReply.
type Shuffle[N comparable] struct {
	Origin N
	TTL    int
	Nodes  []N
}

// ShuffleReply carries a sample of the passive view of the node that
// answered a Shuffle, as large as the Shuffle's sample.
type ShuffleReply[N comparable] struct {
	Nodes []N
}

func (Join) isMessage()            {}
func (JoinAccept) isMessage()      {}
func (ForwardJoin[N]) isMessage()  {}
func (Neighbor) isMessage()        {}
func (NeighborReply) isMessage()   {}
func (Disconnect) isMessage()      {}
func (Shuffle[N]) isMessage()      {}
func (ShuffleReply[N]) isMessage() {}
