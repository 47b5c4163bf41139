package sim

// timedEnvelope is a message in flight with the time it arrives; seq, the
// order it was sent in, breaks ties so that runs are deterministic.
type timedEnvelope struct {
	at  int64
	seq uint64
	envelope
}

// timedQueue is a binary min-heap of messages by arrival time, then send
// order.
type timedQueue []timedEnvelope

func (q timedQueue) less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}

func (q *timedQueue) push(e timedEnvelope) {
	*q = append(*q, e)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (q *timedQueue) pop() timedEnvelope {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = timedEnvelope{}
	h = h[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h.less(l, small) {
			small = l
		}
		if r < len(h) && h.less(r, small) {
			small = r
		}
		if small == i {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
	*q = h
	return top
}
