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
		// A paced restore accepts exactly what a restore does.
		paced := New[int](cfg)
		pacedErr := paced.RestorePaced(data, decodeInt, func() error { return nil })
		o := New[int](cfg)
		err := o.Restore(data, decodeInt)
		if (err == nil) != (pacedErr == nil) {
			t.Fatalf("restore: %v, paced: %v", err, pacedErr)
		}
		if pacedErr != nil && (paced.TrackedIPs() != 0 || paced.PendingLogons() != 0) {
			t.Fatal("a refused snapshot left state behind")
		}
		if err != nil {
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

// crowd is a state of many addresses with failures, waiting logons and suppress marks: enough
// entries for a paced snapshot or restore to rest several times.
func crowd(t *testing.T) (Config, *Engine[int]) {
	t.Helper()
	cfg := testConfig()
	cfg.Suppress = 5
	cfg.MaxTrackedIPs, cfg.MaxPendingLogons = 10_000, 10_000
	e := New[int](cfg)
	rng := rand.New(rand.NewPCG(11, 12))
	var events []event
	for i := range 3000 {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		t0 := int64(1 + i/100)
		for k := range rng.IntN(9) {
			events = append(events, event{ip: ip, t: t0 + int64(k), table: rng.IntN(2)})
		}
		if rng.IntN(3) == 0 {
			events = append(events, event{ip: ip, t: t0 + 9, logon: true, id: i})
		}
	}
	feed(e, events, map[[2]int]bool{})
	require.Greater(t, e.PendingLogons(), 3*paceEvery)
	require.Positive(t, e.marks.len())
	return cfg, e
}

// TestSnapshotInPieces: the pieces SnapshotTo hands out, joined, are Snapshot's bytes, each of the
// size asked but the last; a paced one rests as it goes; an error from emit or pace stops it.
func TestSnapshotInPieces(t *testing.T) {
	_, e := crowd(t)
	want, err := e.Snapshot(encodeInt)
	require.NoError(t, err)
	for _, size := range []int{1, 7, 4096, len(want) - 1, len(want), len(want) + 100} {
		var got []byte
		var pieces, paces int
		emit := func(p []byte) error {
			require.LessOrEqual(t, len(p), size)
			if len(got)+len(p) < len(want) {
				require.Len(t, p, size, "a piece before the last")
			}
			got = append(got, p...)
			pieces++
			return nil
		}
		require.NoError(t, e.SnapshotTo(size, encodeInt, emit, func() error { paces++; return nil }))
		require.Equal(t, want, got, "size %d", size)
		require.Equal(t, (len(want)+size-1)/size, pieces)
		require.Greater(t, paces, 3, "rests along the way")
	}
	stop := errors.New("stop")
	require.ErrorIs(t, e.SnapshotTo(4096, encodeInt, func([]byte) error { return stop }, nil), stop)
	calls := 0
	require.ErrorIs(t, e.SnapshotTo(4096, encodeInt, func([]byte) error { return nil }, func() error {
		if calls++; calls == 3 {
			return stop
		}
		return nil
	}), stop)
}

// TestPacedRestore: RestorePaced rebuilds what Restore does, resting as it goes; an error from pace
// stops it and leaves the engine empty; damage is refused as by Restore.
func TestPacedRestore(t *testing.T) {
	cfg, e := crowd(t)
	snap, err := e.Snapshot(encodeInt)
	require.NoError(t, err)
	plain := New[int](cfg)
	require.NoError(t, plain.Restore(snap, decodeInt))
	want, err := plain.Snapshot(encodeInt)
	require.NoError(t, err)

	paced := New[int](cfg)
	paces := 0
	require.NoError(t, paced.RestorePaced(snap, decodeInt, func() error { paces++; return nil }))
	got, err := paced.Snapshot(encodeInt)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Greater(t, paces, 3)
	require.Equal(t, plain.Stats, paced.Stats)

	stop := errors.New("stop")
	for _, at := range []int{1, paces / 2, paces} {
		calls := 0
		o := New[int](cfg)
		err := o.RestorePaced(snap, decodeInt, func() error {
			if calls++; calls == at {
				return stop
			}
			return nil
		})
		require.ErrorIs(t, err, stop)
		require.Zero(t, o.TrackedIPs())
		require.Zero(t, o.PendingLogons())
	}

	rng := rand.New(rand.NewPCG(13, 14))
	for range 200 {
		i := rng.IntN(len(snap))
		damaged := append([]byte(nil), snap...)
		damaged[i] ^= 1 << rng.IntN(8)
		o := New[int](cfg)
		require.Error(t, o.RestorePaced(damaged, decodeInt, nil), "byte %d", i)
		require.Zero(t, o.TrackedIPs())
		require.Error(t, New[int](cfg).RestorePaced(snap[:i], decodeInt, nil), "cut at %d", i)
	}
}
