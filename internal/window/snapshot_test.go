package window

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func encodeInt(b []byte, p *int) ([]byte, error) { return binary.AppendVarint(b, int64(*p)), nil }

func decodeInt(b []byte) (int, error) {
	v, n := binary.Varint(b)
	if n <= 0 || n != len(b) {
		return 0, errors.New("bad payload")
	}
	return int(v), nil
}

// feed runs events through e and collects the alerted (logon, table) pairs into got.
func feed(e *Engine[int], events []event, got map[[2]int]bool) {
	for _, ev := range events {
		if e.Observe(ev.t, farWall, 0) != Current {
			continue
		}
		var out []Alert[int]
		if ev.logon {
			out = e.Logon(ev.ip, ev.t, "host", ev.id, nil)
		} else {
			out = e.Failure(ev.table, ev.ip, ev.t, nil)
		}
		for _, a := range out {
			got[[2]int{a.Payload, a.Table}] = true
		}
	}
}

func randomScenario(rng *rand.Rand) []event {
	ips := []netip.Addr{attacker, netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("198.51.100.9")}
	var events []event
	for i := 0; i < 80; i++ {
		ev := event{ip: ips[rng.IntN(len(ips))], t: 1 + int64(i)*3 + rng.Int64N(40), table: rng.IntN(2)}
		if rng.IntN(4) == 0 {
			ev.logon, ev.id = true, i
		}
		events = append(events, ev)
	}
	return events
}

// TestRestoreContinuesAsIfUninterrupted stops an engine half way through random scenarios,
// restores a new one from its snapshot, and checks the alerts equal an uninterrupted run's.
func TestRestoreContinuesAsIfUninterrupted(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for scenario := 0; scenario < 500; scenario++ {
		cfg := testConfig()
		cfg.Threshold = rng.IntN(4)
		cfg.Suppress = []int64{0, 20}[rng.IntN(2)]
		events := randomScenario(rng)
		half := len(events) / 2

		want := map[[2]int]bool{}
		feed(New[int](cfg), events, want)

		got := map[[2]int]bool{}
		first := New[int](cfg)
		feed(first, events[:half], got)
		snap, err := first.Snapshot(encodeInt)
		require.NoError(t, err)
		second := New[int](cfg)
		require.NoError(t, second.Restore(snap, decodeInt))
		assert.Equal(t, first.TrackedIPs(), second.TrackedIPs())
		assert.Equal(t, first.PendingLogons(), second.PendingLogons())
		assert.Equal(t, first.Clock(), second.Clock())
		feed(second, events[half:], got)
		require.Equal(t, want, got, "scenario %d", scenario)
	}
}

func TestRestoreRefusesOtherConfigurations(t *testing.T) {
	cfg := testConfig()
	e := New[int](cfg)
	feed(e, failures(0, attacker, 1, 2, 3), map[[2]int]bool{})
	snap, err := e.Snapshot(encodeInt)
	require.NoError(t, err)
	for _, mutate := range []func(*Config){
		func(c *Config) { c.Threshold = 3 },
		func(c *Config) { c.Window = 50 },
		func(c *Config) { c.Tables = 1 },
	} {
		other := cfg
		mutate(&other)
		o := New[int](other)
		err := o.Restore(snap, decodeInt)
		assert.ErrorIs(t, err, ErrIncompatible)
		assert.Equal(t, 0, o.TrackedIPs())
	}
	// Bounds may change: a smaller bound keeps the newest IPs.
	small := cfg
	small.MaxTrackedIPs = 1
	s := New[int](small)
	require.NoError(t, s.Restore(snap, decodeInt))
	assert.Equal(t, 1, s.TrackedIPs())
}

// TestRestoreRejectsCorruption flips and cuts bytes of a real snapshot: every damaged copy is
// refused with an error, never a panic, and leaves the engine empty.
func TestRestoreRejectsCorruption(t *testing.T) {
	cfg := testConfig()
	cfg.Suppress = 10
	e := New[int](cfg)
	rng := rand.New(rand.NewPCG(7, 8))
	feed(e, randomScenario(rng), map[[2]int]bool{})
	snap, err := e.Snapshot(encodeInt)
	require.NoError(t, err)
	for i := 0; i < len(snap); i++ {
		damaged := append([]byte(nil), snap...)
		damaged[i] ^= 1 << rng.IntN(8)
		o := New[int](cfg)
		require.Error(t, o.Restore(damaged, decodeInt), "byte %d", i)
		require.Equal(t, 0, o.TrackedIPs())
		require.Equal(t, 0, o.PendingLogons())
		err := New[int](cfg).Restore(snap[:i], decodeInt)
		require.Error(t, err, "cut at %d", i)
		// A cut snapshot is damage, not the work of another version: it must be warned about.
		require.NotErrorIs(t, err, ErrIncompatible, "cut at %d", i)
	}
}

func FuzzRestore(f *testing.F) {
	cfg := testConfig()
	e := New[int](cfg)
	feed(e, randomScenario(rand.New(rand.NewPCG(9, 10))), map[[2]int]bool{})
	snap, _ := e.Snapshot(encodeInt)
	f.Add(snap)
	f.Add([]byte(snapshotMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		o := New[int](cfg)
		if err := o.Restore(data, decodeInt); err != nil {
			if o.TrackedIPs() != 0 || o.PendingLogons() != 0 {
				t.Fatal("a refused snapshot left state behind")
			}
			return
		}
		// Whatever was accepted must be usable.
		o.Observe(o.Clock(), farWall, 0)
		o.Failure(0, attacker, o.Clock(), nil)
		o.Logon(attacker, o.Clock(), "h", 1, nil)
	})
}
