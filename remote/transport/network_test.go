package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// memPair returns a network with nodes "a" (dialing) and "b" (listening) and
// both ends of one connection between them.
func memPair(t *testing.T, seed int64) (n *Network, a, b Conn) {
	t.Helper()
	n = NewNetwork(seed)
	l := mustListen(t, n.Transport("b"), "")
	a, b = connect(t, n.Transport("a"), l)
	return n, a, b
}

// readN reads count frames.
func readN(t *testing.T, c Conn, count int) [][]byte {
	t.Helper()
	frames := make([][]byte, count)
	for i := range frames {
		frame, err := c.ReadFrame()
		if err != nil {
			t.Fatalf("ReadFrame %d of %d: %v", i, count, err)
		}
		frames[i] = frame
	}
	return frames
}

// arrival is a frame and the (fake) time it was read.
type arrival struct {
	frame string
	at    time.Duration
}

// collect reads c on a goroutine until it fails, recording when each frame
// arrives relative to start; the result is ready once c ends.
func collect(c Conn, start time.Time) <-chan []arrival {
	out := make(chan []arrival, 1)
	go func() {
		var got []arrival
		for {
			frame, err := c.ReadFrame()
			if err != nil {
				out <- got
				return
			}
			got = append(got, arrival{string(frame), time.Since(start)})
		}
	}()
	return out
}

func TestNetworkRoundTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, a, b := memPair(t, 1)
		buf := []byte("ping")
		mustWrite(t, a, buf, []byte{}, []byte("second"))
		copy(buf, "XXXX") // frames are copied on write
		mustRead(t, b, []byte("ping"))
		mustRead(t, b, []byte{})
		mustRead(t, b, []byte("second"))
		mustWrite(t, b, []byte("pong"))
		mustRead(t, a, []byte("pong"))

		if a.LocalAddr() != "a" || a.RemoteAddr() != "b" || b.LocalAddr() != "b" || b.RemoteAddr() != "a" {
			t.Errorf("addresses: a %s→%s, b %s→%s", a.LocalAddr(), a.RemoteAddr(), b.LocalAddr(), b.RemoteAddr())
		}
		if a.TLSState() != nil {
			t.Error("TLSState is not nil")
		}
	})
}

func TestNetworkListen(t *testing.T) {
	n := NewNetwork(1)
	a := n.Transport("a")
	l := mustListen(t, a, "a")
	if l.Addr() != "a" {
		t.Errorf("Addr = %q", l.Addr())
	}
	if _, err := a.Listen(""); err == nil {
		t.Error("second Listen on a succeeded")
	}
	if _, err := a.Listen("b"); err == nil {
		t.Error("node a listened on b")
	}
	if _, err := n.Transport("").Listen(""); err == nil {
		t.Error("listened on the empty address")
	}
	l.Close()
	mustListen(t, a, "") // free again
}

func TestNetworkDialUnreachable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(1)
		a := n.Transport("a")
		if _, err := a.Dial(t.Context(), "b"); !errors.Is(err, ErrUnreachable) {
			t.Fatalf("Dial(no listener) = %v, want ErrUnreachable", err)
		}

		l := mustListen(t, n.Transport("b"), "")
		n.Partition([]string{"a"}, []string{"b"})
		if _, err := a.Dial(t.Context(), "b"); !errors.Is(err, ErrUnreachable) {
			t.Fatalf("Dial(partitioned) = %v, want ErrUnreachable", err)
		}
		n.Heal()

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := a.Dial(ctx, "b"); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnreachable) {
			t.Fatalf("Dial(cancelled) = %v, want context.Canceled only", err)
		}

		l.Close()
		if _, err := a.Dial(t.Context(), "b"); !errors.Is(err, ErrUnreachable) {
			t.Fatalf("Dial(closed listener) = %v, want ErrUnreachable", err)
		}
	})
}

func TestNetworkAccept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(1)
		l := mustListen(t, n.Transport("b"), "")

		start := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := l.Accept(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Accept = %v, want context.DeadlineExceeded", err)
		}
		if waited := time.Since(start); waited != time.Second {
			t.Errorf("Accept waited %v, want 1s", waited)
		}

		// Dial does not wait for Accept; the listener queues connections.
		var dialed []Conn
		for _, from := range []string{"a", "c", "d"} {
			c, err := n.Transport(from).Dial(t.Context(), "b")
			if err != nil {
				t.Fatal(err)
			}
			dialed = append(dialed, c)
		}
		first, err := l.Accept(t.Context())
		if err != nil || first.RemoteAddr() != "a" {
			t.Fatalf("Accept = %v, %v; want the connection from a", first, err)
		}
		defer first.Close()

		acceptErr := make(chan error, 1)
		go func() {
			_, err := l.Accept(t.Context())
			acceptErr <- err
		}()
		// Closing the listener closes the queued connections: their dialers
		// read io.EOF.
		l.Close()
		<-acceptErr // took "c" or saw the close
		if _, err := l.Accept(t.Context()); !errors.Is(err, ErrClosed) {
			t.Fatalf("Accept after Close = %v, want ErrClosed", err)
		}
		if _, err := dialed[2].ReadFrame(); err != io.EOF {
			t.Fatalf("ReadFrame on a connection never accepted = %v, want io.EOF", err)
		}
		for _, c := range dialed {
			c.Close()
		}
	})
}

func TestNetworkClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, a, b := memPair(t, 1)
		mustWrite(t, a, numbered(3)...)
		a.Close()
		if err := a.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
		// Frames written before the close are still read, then io.EOF.
		for _, want := range numbered(3) {
			mustRead(t, b, want)
		}
		if _, err := b.ReadFrame(); err != io.EOF {
			t.Fatalf("ReadFrame after peer close = %v, want io.EOF", err)
		}
		if err := b.WriteFrames([][]byte{[]byte("x")}); !errors.Is(err, ErrClosed) {
			t.Fatalf("WriteFrames to a closed peer = %v, want ErrClosed", err)
		}
		if _, err := a.ReadFrame(); !errors.Is(err, ErrClosed) || !errors.Is(err, net.ErrClosed) {
			t.Fatalf("ReadFrame after Close = %v, want ErrClosed and net.ErrClosed", err)
		}
		if err := a.WriteFrames([][]byte{[]byte("x")}); !errors.Is(err, ErrClosed) {
			t.Fatalf("WriteFrames after Close = %v, want ErrClosed", err)
		}
	})
}

func TestNetworkCloseUnblocksReadFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, a, _ := memPair(t, 1)
		readErr := make(chan error, 1)
		go func() {
			_, err := a.ReadFrame()
			readErr <- err
		}()
		synctest.Wait() // the reader is durably blocked on a channel
		a.Close()
		if err := <-readErr; !errors.Is(err, ErrClosed) {
			t.Fatalf("ReadFrame = %v, want ErrClosed", err)
		}
	})
}

func TestNetworkOversizeFrames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(1)
		if err := n.SetMaxFrameSize(16); err != nil {
			t.Fatal(err)
		}
		if err := n.SetMaxFrameSize(-1); err == nil {
			t.Error("SetMaxFrameSize(-1) succeeded")
		}
		l := mustListen(t, n.Transport("b"), "")
		a, b := connect(t, n.Transport("a"), l)

		err := a.WriteFrames([][]byte{[]byte("fits"), make([]byte, 17)})
		if !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("WriteFrames(oversize) = %v, want ErrFrameTooLarge", err)
		}
		if sent := n.Stats().Sent; sent != 0 {
			t.Errorf("%d frames of a rejected batch were sent", sent)
		}
		// A hook that grows a frame past the limit: the reader rejects it
		// as a TCP reader would.
		n.SetHook(func(from, to string, frame []byte) ([]byte, bool) {
			return append(frame, make([]byte, 16)...), true
		})
		mustWrite(t, a, []byte("grows"))
		if _, err := b.ReadFrame(); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("ReadFrame(oversize) = %v, want ErrFrameTooLarge", err)
		}
	})
}

func TestNetworkPartitionAndHeal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(1)
		for _, addr := range []string{"a", "b", "c"} {
			mustListen(t, n.Transport(addr), "")
		}
		ad, da := connect(t, n.Transport("a"), mustListen(t, n.Transport("d"), ""))
		a, b := n.Transport("a"), n.Transport("b")
		n.Partition([]string{"a", "d"}, []string{"b"})

		if _, err := a.Dial(t.Context(), "b"); !errors.Is(err, ErrUnreachable) {
			t.Errorf("a→b across the partition: %v", err)
		}
		if _, err := b.Dial(t.Context(), "d"); !errors.Is(err, ErrUnreachable) {
			t.Errorf("b→d across the partition: %v", err)
		}
		// Same side, and addresses in no group, are reachable.
		for _, dial := range []struct{ from, to string }{{"c", "a"}, {"c", "b"}, {"b", "c"}} {
			c, err := n.Transport(dial.from).Dial(t.Context(), dial.to)
			if err != nil {
				t.Errorf("%s→%s: %v", dial.from, dial.to, err)
				continue
			}
			c.Close()
		}

		// An open connection stays open but loses frames across the split.
		be, eb := connect(t, b, mustListen(t, n.Transport("e"), ""))
		n.Partition([]string{"b"}, []string{"e"})
		mustWrite(t, be, []byte("lost"))
		mustWrite(t, ad, []byte("a and d are on the same side"))
		mustRead(t, da, []byte("a and d are on the same side"))
		n.Heal()
		mustWrite(t, be, []byte("after heal"))
		mustRead(t, eb, []byte("after heal"))
		if dropped := n.Stats().Dropped; dropped != 1 {
			t.Errorf("Dropped = %d, want 1", dropped)
		}
		c, err := a.Dial(t.Context(), "b")
		if err != nil {
			t.Fatalf("a→b after Heal: %v", err)
		}
		c.Close()
	})
}

func TestNetworkIsolate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(1)
		lb := mustListen(t, n.Transport("b"), "")
		mustListen(t, n.Transport("c"), "")
		ab, ba := connect(t, n.Transport("a"), lb)
		n.Isolate("a")
		for _, dial := range []struct{ from, to string }{{"a", "b"}, {"a", "c"}, {"b", "a"}} {
			if _, err := n.Transport(dial.from).Dial(t.Context(), dial.to); !errors.Is(err, ErrUnreachable) {
				t.Errorf("%s→%s with a isolated: %v", dial.from, dial.to, err)
			}
		}
		c, err := n.Transport("b").Dial(t.Context(), "c")
		if err != nil {
			t.Fatalf("b→c with a isolated: %v", err)
		}
		c.Close()
		mustWrite(t, ab, []byte("into the void"))
		mustWrite(t, ba, []byte("into the void"))
		n.Heal()
		mustWrite(t, ab, []byte("healed"))
		mustRead(t, ba, []byte("healed"))
	})
}

func TestNetworkDisconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(1)
		lb := mustListen(t, n.Transport("b"), "")
		lc := mustListen(t, n.Transport("c"), "")
		ab, ba := connect(t, n.Transport("a"), lb)
		ba2, ab2 := connect(t, n.Transport("b"), mustListen(t, n.Transport("a"), "")) // b dialed a: the other way round
		ac, ca := connect(t, n.Transport("a"), lc)

		mustWrite(t, ab, []byte("delivered"))
		n.SetDelay("a", "b", time.Second, 0)
		mustWrite(t, ab, []byte("in flight"))
		readers := []<-chan []arrival{collect(ba, time.Now()), collect(ab, time.Now()), collect(ab2, time.Now()), collect(ba2, time.Now())}
		synctest.Wait()

		n.Disconnect("b", "a")
		// Every end of every a–b connection ends; what was delivered before
		// the link went down is still read, what was in flight is lost.
		want := [][]string{{"delivered"}, nil, nil, nil}
		for i, r := range readers {
			var got []string
			for _, arr := range <-r {
				got = append(got, arr.frame)
			}
			if !slices.Equal(got, want[i]) {
				t.Errorf("reader %d got %q, want %q", i, got, want[i])
			}
		}
		for _, c := range []Conn{ab, ba, ab2, ba2} {
			if err := c.WriteFrames([][]byte{[]byte("x")}); !errors.Is(err, ErrClosed) {
				t.Errorf("WriteFrames on %s→%s after Disconnect = %v, want ErrClosed", c.LocalAddr(), c.RemoteAddr(), err)
			}
		}
		time.Sleep(2 * time.Second) // fake time: the lost frame's timer fires harmlessly
		if lost := n.Stats().Lost; lost != 1 {
			t.Errorf("Lost = %d, want 1", lost)
		}

		// a–c is untouched, and a can dial b again.
		mustWrite(t, ac, []byte("still up"))
		mustRead(t, ca, []byte("still up"))
		n.SetDelay("a", "b", 0, 0)
		ab3, ba3 := connect(t, n.Transport("a"), lb)
		mustWrite(t, ab3, []byte("new link"))
		mustRead(t, ba3, []byte("new link"))
	})
}

func TestNetworkDelayKeepsFIFOUnderJitter(t *testing.T) {
	run := func(t *testing.T, seed int64) []arrival {
		n, a, b := memPair(t, seed)
		n.SetDelay("a", "b", 10*time.Millisecond, 50*time.Millisecond)
		start := time.Now()
		arrivals := collect(b, start)
		for i := range 200 {
			mustWrite(t, a, []byte(strconv.Itoa(i)))
			if i%10 == 0 {
				time.Sleep(time.Millisecond) // fake time: spread the sends out
			}
		}
		sentUntil := time.Since(start)
		a.Close()
		got := <-arrivals
		if len(got) != 200 {
			t.Fatalf("%d frames arrived, want 200", len(got))
		}
		for i, arr := range got {
			if arr.frame != strconv.Itoa(i) {
				t.Fatalf("frame %d is %q: order broken", i, arr.frame)
			}
			if arr.at < 10*time.Millisecond {
				t.Fatalf("frame %d arrived after %v, before the 10ms delay", i, arr.at)
			}
		}
		if last := got[len(got)-1].at; last > sentUntil+60*time.Millisecond {
			t.Errorf("last frame after %v, later than sending (%v) plus delay and jitter", last, sentUntil)
		}
		distinct := map[time.Duration]bool{}
		for _, arr := range got {
			distinct[arr.at] = true
		}
		if len(distinct) < 5 {
			t.Errorf("only %d distinct arrival times: jitter not applied", len(distinct))
		}
		return got
	}
	synctest.Test(t, func(t *testing.T) {
		first := run(t, 42)
		again := run(t, 42)
		if !slices.Equal(first, again) {
			t.Error("the same seed gave different arrival times")
		}
	})
}

func TestNetworkDelayChangeKeepsOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, a, b := memPair(t, 1)
		start := time.Now()
		arrivals := collect(b, start)
		n.SetDelay("a", "b", 100*time.Millisecond, 0)
		mustWrite(t, a, []byte("slow"))
		n.SetDelay("a", "b", 0, 0)
		mustWrite(t, a, []byte("fast"))
		a.Close()
		want := []arrival{{"slow", 100 * time.Millisecond}, {"fast", 100 * time.Millisecond}}
		if got := <-arrivals; !slices.Equal(got, want) {
			t.Fatalf("arrivals %v, want %v", got, want)
		}
	})
}

func TestNetworkRulePrecedence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, a, b := memPair(t, 1)
		n.SetDelay("", "", time.Second, 0)
		n.SetDelay("a", "", 200*time.Millisecond, 0)
		n.SetDelay("", "b", 300*time.Millisecond, 0) // less specific than ("a", "")
		n.SetDelay("b", "a", 10*time.Millisecond, 0)
		start := time.Now()
		toB, toA := collect(b, start), collect(a, start)
		mustWrite(t, a, []byte("a→b"))
		mustWrite(t, b, []byte("b→a"))
		synctest.Wait()
		time.Sleep(time.Second) // fake time
		a.Close()
		if got, want := <-toB, []arrival{{"a→b", 200 * time.Millisecond}}; !slices.Equal(got, want) {
			t.Errorf("a→b: %v, want %v", got, want)
		}
		if got, want := <-toA, []arrival{{"b→a", 10 * time.Millisecond}}; !slices.Equal(got, want) {
			t.Errorf("b→a: %v, want %v", got, want)
		}

		n.SetDrop("", "", 1)
		n.SetDrop("a", "c", 0) // removes nothing: there is no such rule
		_, c := connect(t, n.Transport("c"), mustListen(t, n.Transport("d"), ""))
		mustWrite(t, c, []byte("dropped by the wildcard"))
		if dropped := n.Stats().Dropped; dropped != 1 {
			t.Errorf("Dropped = %d, want 1", dropped)
		}
	})
}

func TestNetworkDropsAreDeterministic(t *testing.T) {
	delivered := func(t *testing.T, seed int64) []string {
		n, a, b := memPair(t, seed)
		n.SetDrop("a", "b", 0.5)
		arrivals := collect(b, time.Now())
		mustWrite(t, a, numbered(500)...)
		a.Close()
		var got []string
		for _, arr := range <-arrivals {
			got = append(got, arr.frame)
		}
		if stats := n.Stats(); stats.Sent != 500 || stats.Dropped+stats.Delivered != 500 || int(stats.Delivered) != len(got) {
			t.Errorf("stats %+v with %d frames read", stats, len(got))
		}
		return got
	}
	synctest.Test(t, func(t *testing.T) {
		first := delivered(t, 7)
		if len(first) < 150 || len(first) > 350 {
			t.Errorf("%d of 500 frames delivered with drop probability 0.5", len(first))
		}
		if again := delivered(t, 7); !slices.Equal(first, again) {
			t.Error("the same seed delivered a different set of frames")
		}
		if other := delivered(t, 8); slices.Equal(first, other) {
			t.Error("a different seed delivered the same set of frames")
		}
	})
}

func TestNetworkHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, a, b := memPair(t, 1)
		var mu sync.Mutex
		var seen []string
		n.SetHook(func(from, to string, frame []byte) ([]byte, bool) {
			mu.Lock()
			seen = append(seen, from+"→"+to+":"+string(frame))
			mu.Unlock()
			switch {
			case bytes.HasPrefix(frame, []byte("drop")):
				return nil, false
			case bytes.HasPrefix(frame, []byte("rewrite")):
				return []byte("rewritten"), true
			}
			return bytes.ToUpper(frame), true // in place is fine: the frame is the network's copy
		})
		sent := []byte("hello")
		mustWrite(t, a, sent, []byte("drop me"), []byte("rewrite me"))
		mustWrite(t, b, []byte("back"))
		mustRead(t, b, []byte("HELLO"))
		mustRead(t, b, []byte("rewritten"))
		mustRead(t, a, []byte("BACK"))
		if string(sent) != "hello" {
			t.Errorf("the hook changed the sender's buffer: %q", sent)
		}
		want := []string{"a→b:hello", "a→b:drop me", "a→b:rewrite me", "b→a:back"}
		if !slices.Equal(seen, want) {
			t.Errorf("hook saw %q, want %q", seen, want)
		}

		n.SetHook(nil)
		mustWrite(t, a, []byte("plain"))
		mustRead(t, b, []byte("plain"))
		if stats := n.Stats(); stats.Dropped != 1 {
			t.Errorf("Dropped = %d, want 1", stats.Dropped)
		}
	})
}

// TestNetworkConcurrentFaults runs traffic on several connections while
// faults change, for the race detector.
func TestNetworkConcurrentFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(3)
		l := mustListen(t, n.Transport("hub"), "")
		var wg sync.WaitGroup
		for _, addr := range []string{"a", "b", "c", "d"} {
			client, server := connect(t, n.Transport(addr), l)
			wg.Go(func() {
				for i := range 100 {
					if err := client.WriteFrames(numbered(i % 5)); err != nil {
						return // disconnected
					}
					time.Sleep(time.Millisecond) // fake time
				}
				client.Close()
			})
			wg.Go(func() {
				for {
					if _, err := server.ReadFrame(); err != nil {
						return
					}
				}
			})
		}
		wg.Go(func() {
			for i := range 50 {
				n.SetDrop("", "hub", float64(i%3)/4)
				n.SetDelay("a", "", time.Duration(i%4)*time.Millisecond, time.Millisecond)
				n.Partition([]string{"b"}, []string{"hub"})
				n.Isolate("c")
				time.Sleep(time.Millisecond)
				n.Heal()
				if i == 25 {
					n.Disconnect("d", "hub")
				}
				_ = n.Stats()
			}
		})
		wg.Wait()
	})
}
