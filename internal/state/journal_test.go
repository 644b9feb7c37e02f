package state

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/secops-otel/aadhostlogincorrelation/internal/window"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window/windowtest"
)

// TestJournalAgainstModelEverySetting: the memory backend journals what it observes; a restart
// restores a base snapshot taken at one random cut and replays the journal written from there to
// a later cut (taken in several chunks), and goes on. The alerts are the model's under every
// setting, in several arrival orders, and the state rebuilt is the state the uninterrupted backend
// held at the restart, byte for byte. The restart goes through a compaction half of the time: the
// base and the journal are rebuilt in a Replica, whose new base must be the bytes the memory
// backend's own snapshot of the same replay gives, and the backend restarts from that base.
func TestJournalAgainstModelEverySetting(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	scenarios := 400
	if testing.Short() {
		scenarios = 80
	}
	for sc := 0; sc < scenarios; sc++ {
		cfg, events := modelScenario(rng)
		for order := 0; order < 3; order++ {
			jitter := []int64{0, cfg.Window / 2, 3 * cfg.Window}[order]
			arrival := windowtest.Arrival(rng, events, func(ev windowtest.Event) int64 { return ev.T }, jitter)
			batch := 1 + rng.IntN(8)
			baseCut := rng.IntN(len(arrival))
			restartCut := baseCut + rng.IntN(len(arrival)-baseCut)
			emitted, ips, logons := runJournaled(t, cfg, arrival, batch, baseCut, restartCut, rng)
			checkModel(t, cfg, arrival, emitted, ips, logons,
				"base at event "+strconv.Itoa(baseCut)+", restarted at event "+strconv.Itoa(restartCut))
		}
	}
}

// runJournaled is runBackend for a journaled memory backend: the base is taken before the batch
// that holds event baseCut, the restart happens before the batch that holds restartCut.
func runJournaled(t *testing.T, cfg window.Config, arrival []windowtest.Event, batch, baseCut, restartCut int,
	rng *rand.Rand) (emitted []windowtest.Emitted, evictedIPs, evictedLogons int64) {
	t.Helper()
	m := NewMemory(cfg)
	m.Journal(true)
	var base, journal []byte
	var before Counters
	for start := 0; start < len(arrival); start += batch {
		end := min(start+batch, len(arrival))
		if baseCut >= start && baseCut < end {
			var err error
			base, err = m.Snapshot()
			require.NoError(t, err)
			m.TakeJournal() // the base holds it
		}
		if restartCut >= start && restartCut < end {
			records, _ := m.TakeJournal()
			journal = append(journal, records...)
			want, err := m.Snapshot()
			require.NoError(t, err)
			before = m.Counters()
			m = NewMemory(cfg)
			require.NoError(t, m.Restore(base))
			require.NoError(t, m.Replay(journal))
			got, err := m.Snapshot()
			require.NoError(t, err)
			// The compaction draws from a generator of its own, so that the scenarios are those
			// drawn before it was added: the check below compares states restored once more, and a
			// restore prunes failures older than any decision can use only as far as it rebuilds a
			// list, so for some histories (first met with other draws) the two states hold different
			// such failures, decisions alike.
			crng := rand.New(rand.NewPCG(uint64(len(journal)), uint64(restartCut)))
			compacted := compact(t, cfg, base, journal, crng)
			require.Equal(t, got, compacted, "the compaction's base is the replayed state's snapshot")
			if crng.IntN(2) == 0 {
				m = NewMemory(cfg) // restarted from the compacted base
				require.NoError(t, m.Restore(compacted))
			}
			// Through a restore each: a restore drops failures that no decision needs any more,
			// which the live state may still hold.
			require.Equal(t, normalized(t, cfg, want), normalized(t, cfg, got), "base and journal rebuild the state")
			m.Journal(true)
		} else if start > baseCut && rng.IntN(3) == 0 {
			records, _ := m.TakeJournal() // a flush: the chunks are replayed in order
			journal = append(journal, records...)
		}
		emitted = applyBatch(t, m, arrival[start:end], emitted)
	}
	c := m.Counters()
	return emitted, before.EvictedIPs + c.EvictedIPs, before.EvictedLogons + c.EvictedLogons
}

// compact is what a checkpoint compaction makes of base and journal: a Replica restored from base
// (nil: the empty state), the journal replayed in chunks cut at random record boundaries, and its
// snapshot in pieces of a random size, joined.
func compact(t *testing.T, cfg window.Config, base, journal []byte, rng *rand.Rand) []byte {
	t.Helper()
	paces := 0
	r := NewReplica(cfg, func() error { paces++; return nil })
	if base != nil {
		require.NoError(t, r.Restore(base))
	}
	for len(journal) > 0 {
		end := 0
		for records := 1 + rng.IntN(3); records > 0 && end < len(journal); records-- {
			n, w := binary.Uvarint(journal[end:])
			end += w + int(n)
		}
		require.NoError(t, r.Replay(journal[:end]))
		journal = journal[end:]
	}
	var out []byte
	size := 1 + rng.IntN(512)
	require.NoError(t, r.SnapshotTo(size, func(piece []byte) error {
		require.LessOrEqual(t, len(piece), size)
		out = append(out, piece...)
		return nil
	}))
	return out
}

// normalized is snapshot restored and encoded again.
func normalized(t *testing.T, cfg window.Config, snapshot []byte) []byte {
	t.Helper()
	m := NewMemory(cfg)
	require.NoError(t, m.Restore(snapshot))
	b, err := m.Snapshot()
	require.NoError(t, err)
	return b
}

// TestJournalDamageIsAnError: a journal cut short or with a byte changed is refused with an error,
// never a panic.
func TestJournalDamageIsAnError(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	cfg, events := modelScenario(rng)
	m := NewMemory(cfg)
	m.Journal(true)
	for _, ev := range events {
		_, err := m.Apply(context.Background(), farWall, 0, []Event{modelEvent(ev)}, nil)
		require.NoError(t, err)
	}
	records, entries := m.TakeJournal()
	require.Positive(t, entries)
	require.NoError(t, NewMemory(cfg).Replay(records))
	ends := map[int]bool{} // where records end: a journal cut there is a shorter journal
	for at := 0; at < len(records); {
		n, w := binary.Uvarint(records[at:])
		at += w + int(n)
		ends[at] = true
	}
	for cut := 1; cut < len(records); cut++ {
		if err := NewMemory(cfg).Replay(records[:cut]); ends[cut] {
			require.NoError(t, err, "cut at the end of a record, %d of %d", cut, len(records))
		} else {
			require.Error(t, err, "cut at %d of %d", cut, len(records))
		}
	}
	for i := range records {
		damaged := append([]byte(nil), records...)
		damaged[i] ^= 0xff
		_ = NewMemory(cfg).Replay(damaged) // an error or another reading: never a panic
	}
}

// FuzzReplay: any bytes replayed as a journal are refused or read, never a panic, and the state
// they leave is usable.
func FuzzReplay(f *testing.F) {
	rng := rand.New(rand.NewPCG(51, 52))
	cfg, events := modelScenario(rng)
	cfg.Threshold, cfg.Tables, cfg.Suppress = 2, 2, cfg.Window/10
	m := NewMemory(cfg)
	m.Journal(true)
	for _, ev := range windowtest.Arrival(rng, events, func(ev windowtest.Event) int64 { return ev.T }, 0) {
		_, err := m.Apply(context.Background(), farWall, 0, []Event{modelEvent(ev)}, nil)
		require.NoError(f, err)
	}
	records, _ := m.TakeJournal()
	f.Add(records)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewMemory(cfg)
		err := r.Replay(data)
		// A compaction's replica refuses exactly what the memory backend refuses, and encodes the
		// state it replayed (up to the damage) as the memory backend does.
		replica := NewReplica(cfg, nil)
		if replicaErr := replica.Replay(bytes.Clone(data)); (err == nil) != (replicaErr == nil) {
			t.Fatalf("memory backend: %v, replica: %v", err, replicaErr)
		}
		want, err := r.Snapshot()
		require.NoError(t, err)
		var got []byte
		require.NoError(t, replica.SnapshotTo(4096, func(p []byte) error { got = append(got, p...); return nil }))
		require.Equal(t, want, got)
		// Whatever was read must be usable.
		_, err = r.Apply(context.Background(), farWall, 0, []Event{modelEvent(events[0])}, nil)
		require.NoError(t, err)
		_, err = r.Snapshot()
		require.NoError(t, err)
	})
}
