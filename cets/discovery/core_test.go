package discovery

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/remote"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testCore(t *testing.T, connected ...string) *core {
	t.Helper()
	cfg := Config{Tables: []string{"t"}}.withDefaults(nil)
	c, eff := newCore(cfg, "a", connected, t0)
	if len(eff) == 0 || !reflect.DeepEqual(eff[0], effGetNodes{}) {
		t.Fatalf("first effect %v, want a backend call", eff)
	}
	return c
}

func hasEffect[T any](effs []effect) (T, bool) {
	for _, e := range effs {
		if v, ok := e.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func specs(names ...string) []remote.NodeSpec {
	var out []remote.NodeSpec
	for _, n := range names {
		out = append(out, remote.NodeSpec{Name: n})
	}
	return out
}

func TestCoreNodesConnectedAtStartGetStartTimeAndTimestamps(t *testing.T) {
	cfg := Config{}.withDefaults(nil)
	c, eff := newCore(cfg, "a", []string{"c", "b", "a"}, t0)
	var sent []string
	for _, e := range eff {
		if s, ok := e.(effSendStartTime); ok {
			sent = append(sent, s.node)
		}
	}
	if !reflect.DeepEqual(sent, []string{"b", "c"}) || !reflect.DeepEqual(c.connected, []string{"b", "c"}) {
		t.Fatalf("start time sent to %v, connected %v", sent, c.connected)
	}
	if !c.nodeUp["b"].Equal(t0) {
		t.Fatal("no node-up timestamp")
	}
}

func TestCoreLatePangAfterNodeUp(t *testing.T) {
	c := testCore(t)
	eff := c.getNodesResult(specs("a", "b"), nil, nil, t0)
	if conn, ok := hasEffect[effConnect](eff); !ok || conn.nodes[0].Name != "b" {
		t.Fatalf("b not connected to: %v", eff)
	}
	c.nodeUpEvent("b", t0.Add(time.Second))
	c.pingResult("b", false, t0.Add(2*time.Second))
	if len(c.unavailable) != 0 {
		t.Fatalf("a late pang made b unavailable: %v", c.unavailable)
	}
}

func TestCoreUnexpectedNodeDown(t *testing.T) {
	c := testCore(t)
	c.getNodesResult(specs("a"), nil, nil, t0)
	c.nodeDownEvent("x", t0)
	// As in CETS, the node is unavailable until the next backend call
	// prunes it: readiness waits for that call.
	if !slices.Contains(c.unavailable, "x") || c.verifyReady().Ready() {
		t.Fatalf("unavailable %v ready %v", c.unavailable, c.verifyReady())
	}
	c.check()
	c.getNodesResult(specs("a"), nil, nil, t0.Add(time.Second))
	if len(c.unavailable) != 0 {
		t.Fatalf("not pruned: %v", c.unavailable)
	}
}

func TestCoreNodeUpDownTimestamps(t *testing.T) {
	c := testCore(t)
	c.nodeUpEvent("b", t0.Add(time.Second))
	c.nodeDownEvent("b", t0.Add(2*time.Second))
	if _, ok := c.nodeUp["b"]; ok {
		t.Fatal("node-up timestamp kept after node down")
	}
	if !c.nodeDown["b"].Equal(t0.Add(2 * time.Second)) {
		t.Fatal("node-down timestamp not recorded")
	}
	eff := c.nodeUpEvent("b", t0.Add(5*time.Second))
	if !c.nodeUp["b"].Equal(t0.Add(5 * time.Second)) {
		t.Fatal("node-up timestamp not updated on reconnect")
	}
	l, ok := hasEffect[effLog](eff)
	if !ok || !slices.Contains(l.attrs, any("downtime")) {
		t.Fatalf("node up after downtime not logged with it: %+v", l)
	}
}

func TestCoreStartTimes(t *testing.T) {
	c := testCore(t, "b")
	// A start time not seen before is answered.
	if eff := c.receiveStartTime("b", 100); !reflect.DeepEqual(eff, []effect{effSendStartTime{node: "b"}}) || c.phase != PhaseRegular {
		t.Fatalf("first start time: %v, phase %s", eff, c.phase)
	}
	// Same start time again: the node reconnects after a netsplit.
	if _, ok := hasEffect[effLog](c.receiveStartTime("b", 100)); !ok {
		t.Fatal("reconnect not logged")
	}
	// Another start time: the node restarted.
	if eff := c.receiveStartTime("b", 200); len(eff) != 1 || c.nodeStart["b"] != 200 {
		t.Fatalf("restart: %v %d", eff, c.nodeStart["b"])
	}
}

func TestCoreRetryFlagChecksAtOnceAndStaleTimersAreIgnored(t *testing.T) {
	c := testCore(t)
	if eff := c.check(); len(eff) != 0 || !c.retryGetNodes {
		t.Fatalf("check while running: %v, flag %v", eff, c.retryGetNodes)
	}
	eff := c.getNodesResult(nil, nil, nil, t0)
	if _, ok := hasEffect[effGetNodes](eff); !ok {
		t.Fatalf("retry flag did not call again: %v", eff)
	}
	if _, ok := hasEffect[effSetTimer](eff); ok || c.retryGetNodes {
		t.Fatal("timer set or flag kept on an immediate retry")
	}
	eff = c.getNodesResult(nil, errors.New("boom"), nil, t0)
	tm, ok := hasEffect[effSetTimer](eff)
	if !ok || tm.after != time.Second {
		t.Fatalf("timer after error: %v", eff)
	}
	// A manual check, then the result: the new timer replaces the first,
	// whose message, if already sent, is ignored.
	c.check()
	eff = c.getNodesResult(nil, nil, nil, t0)
	tm2, _ := hasEffect[effSetTimer](eff)
	if eff := c.timerFired(tm.gen); len(eff) != 0 {
		t.Fatalf("stale timer acted: %v", eff)
	}
	if eff := c.timerFired(tm2.gen); len(eff) != 1 {
		t.Fatalf("current timer did not check: %v", eff)
	}
}

func TestCoreJoinRetryFlag(t *testing.T) {
	c := testCore(t, "b")
	c.getNodesResult(specs("a", "b"), nil, nil, t0)
	if !c.joinRunning {
		t.Fatal("no join round after the backend call")
	}
	c.nodeUpEvent("c", t0)
	if !c.retryJoin {
		t.Fatal("join asked during a round did not set the retry flag")
	}
	eff := c.joiningFinished(nil, t0)
	j, ok := hasEffect[effJoin](eff)
	if !ok || !reflect.DeepEqual(j.pairs, []NodeTable{{Node: "b", Table: "t"}}) { // c is not discovered
		t.Fatalf("retried join: %v", eff)
	}
	eff = c.joiningFinished([]JoinResult{{Node: "b", Table: "t", What: WhatJoinResult}}, t0)
	if _, ok := hasEffect[effJoin](eff); ok || c.joinRunning {
		t.Fatal("join repeated without a reason")
	}
	if !c.verifyReady().Ready() {
		t.Fatalf("not ready: %+v", c.verifyReady())
	}
}
