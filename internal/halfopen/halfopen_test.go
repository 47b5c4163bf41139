package halfopen

import (
	"testing"
)

type closer struct{ closed bool }

func (c *closer) Close() error { c.closed = true; return nil }

func TestFullSetClosesTheOldest(t *testing.T) {
	s := New(2)
	a, b, c := &closer{}, &closer{}, &closer{}
	ida := s.Add(a)
	s.Add(b)
	s.Done(ida) // a finished its handshake: not the set's any more
	s.Add(c)
	if a.closed || b.closed || c.closed {
		t.Fatal("a set with room closed a connection")
	}
	d := &closer{}
	s.Add(d)
	if !b.closed || c.closed || d.closed {
		t.Fatalf("full set: closed b=%v c=%v d=%v, want only the oldest (b)", b.closed, c.closed, d.closed)
	}
	if s.Len() != 2 {
		t.Fatalf("Len = %d", s.Len())
	}
}

func TestOrderStaysBounded(t *testing.T) {
	s := New(4)
	for range 10000 {
		s.Done(s.Add(&closer{}))
	}
	if len(s.order) > 2*4+16 {
		t.Fatalf("order holds %d ids for an empty set", len(s.order))
	}
}
