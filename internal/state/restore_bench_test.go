package state_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/secops-otel/aadhostlogincorrelation/internal/state"
	"github.com/secops-otel/aadhostlogincorrelation/internal/state/statetest"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window"
)

// BenchmarkRestoreTracked100K and BenchmarkRestoreTracked1M restore a snapshot of n addresses with
// three failures each and n waiting logons (sshd logons with a shared resource): one op is one
// restore into an empty backend.
func BenchmarkRestoreTracked100K(b *testing.B) { benchmarkRestore(b, 100_000) }
func BenchmarkRestoreTracked1M(b *testing.B)   { benchmarkRestore(b, 1_000_000) }

func benchmarkRestore(b *testing.B, n int) {
	cfg := window.Config{Threshold: 5, Window: int64(24 * time.Hour), Tables: 2, MaxTrackedIPs: 4 * n, MaxPendingLogons: 4 * n}
	m := state.NewMemory(cfg)
	statetest.Prefill(b, m, n)
	snap, err := m.Snapshot()
	if err != nil {
		b.Fatal(err)
	}
	m = nil
	b.ResetTimer()
	cpu := processCPU()
	for b.Loop() {
		r := state.NewMemory(cfg)
		if err := r.Restore(snap); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(len(snap))/1e6, "snapshot-MB")
}

// processCPU is the CPU time this process has used (every thread, the garbage collector's
// included): on a shared machine, the part of a restore spent running.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSnapshotTracked100K and BenchmarkSnapshotTracked1M encode the same states: what a
// checkpoint cost the batch path before the journal, when it was taken under the batch lock (and
// what a compaction costs in the background now).
func BenchmarkSnapshotTracked100K(b *testing.B) { benchmarkSnapshot(b, 100_000) }
func BenchmarkSnapshotTracked1M(b *testing.B)   { benchmarkSnapshot(b, 1_000_000) }

func benchmarkSnapshot(b *testing.B, n int) {
	cfg := window.Config{Threshold: 5, Window: int64(24 * time.Hour), Tables: 2, MaxTrackedIPs: 4 * n, MaxPendingLogons: 4 * n}
	m := state.NewMemory(cfg)
	statetest.Prefill(b, m, n)
	b.ResetTimer()
	cpu := processCPU()
	var size int
	for b.Loop() {
		snap, err := m.Snapshot()
		if err != nil {
			b.Fatal(err)
		}
		size = len(snap)
	}
	b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(size)/1e6, "snapshot-MB")
}

// BenchmarkReplayTracked100K replays the journal of the state BenchmarkRestoreTracked100K restores
// (the same observations, in order) into an empty backend: what a restore adds per byte of journal
// not yet compacted into the base.
func BenchmarkReplayTracked100K(b *testing.B) {
	const n = 100_000
	cfg := window.Config{Threshold: 5, Window: int64(24 * time.Hour), Tables: 2, MaxTrackedIPs: 4 * n, MaxPendingLogons: 4 * n}
	m := state.NewMemory(cfg)
	m.Journal(true)
	statetest.Prefill(b, m, n)
	journal, entries := m.TakeJournal()
	snap, err := m.Snapshot()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := processCPU()
	for b.Loop() {
		if err := state.NewMemory(cfg).Replay(journal); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(len(journal))/1e6, "journal-MB")
	b.ReportMetric(float64(len(snap))/1e6, "snapshot-MB")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*entries), "ns/entry")
}

// BenchmarkCompactTracked100K and BenchmarkCompactTracked1M: what a checkpoint compaction computes
// from a base of the same states, storage aside: a Replica restored from the snapshot and encoded
// again in 256 KiB pieces (dropped), unpaced. Compare with a restore and a snapshot of the memory
// backend, what a compaction computed before the replica (BenchmarkRestoreTracked,
// BenchmarkSnapshotTracked): CPU time and bytes allocated.
func BenchmarkCompactTracked100K(b *testing.B) { benchmarkCompact(b, 100_000) }
func BenchmarkCompactTracked1M(b *testing.B)   { benchmarkCompact(b, 1_000_000) }

func benchmarkCompact(b *testing.B, n int) {
	cfg := window.Config{Threshold: 5, Window: int64(24 * time.Hour), Tables: 2, MaxTrackedIPs: 4 * n, MaxPendingLogons: 4 * n}
	m := state.NewMemory(cfg)
	statetest.Prefill(b, m, n)
	snap, err := m.Snapshot()
	if err != nil {
		b.Fatal(err)
	}
	m = nil
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for b.Loop() {
		r := state.NewReplica(cfg, nil)
		if err := r.Restore(snap); err != nil {
			b.Fatal(err)
		}
		size := 0
		if err := r.SnapshotTo(256<<10, func(p []byte) error { size += len(p); return nil }); err != nil {
			b.Fatal(err)
		}
		if size != len(snap) {
			b.Fatalf("compacted %d bytes, want %d", size, len(snap))
		}
	}
	b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(len(snap))/1e6, "snapshot-MB")
}
