package ensemble

import (
	"testing"
	"time"
)

func TestConfigDefaultsAndValidation(t *testing.T) {
	d := Config{}.withDefaults()
	if d.Tick != 500*time.Millisecond || d.Lease != 750*time.Millisecond || d.FollowerTimeout != 3*time.Second ||
		d.RouterPoolSize != 7 || d.MaxHops != 4 || d.ReadMode != LeaseRead || d.electionTicks() != 6 {
		t.Fatalf("defaults %+v", d)
	}
	if d.Backends[MemoryBackend] == nil || d.Backends[FileBackend] == nil {
		t.Fatal("built-in backends missing")
	}
	if err := d.validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"negative tick", Config{Tick: -1}},
		{"lease not below the follower timeout", Config{Lease: 3 * time.Second}},
		{"follower timeout under two ticks", Config{Tick: time.Second, FollowerTimeout: time.Second, Lease: 500 * time.Millisecond}},
		{"unknown read mode", Config{ReadMode: 7}},
		{"negative pool", Config{RouterPoolSize: -1}},
		{"nil backend", Config{Backends: map[string]NewBackend{"x": nil}}},
	} {
		if err := tc.cfg.withDefaults().validate(); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
