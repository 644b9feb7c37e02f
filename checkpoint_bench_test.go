package aadhostlogincorrelation

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/secops-otel/aadhostlogincorrelation/internal/loadmix"
	"github.com/secops-otel/aadhostlogincorrelation/internal/state"
	"github.com/secops-otel/aadhostlogincorrelation/internal/state/statetest"
)

// Checkpoints at scale, through a real file_storage: n tracked addresses (three failed sign-ins
// each) and n waiting logons, checkpointed as a base. Reported:
//
//   - base-MB: the base snapshot; restore-s: a new processor on the storage, from Start until the
//     state is live (it restores in the background), and restore-cpu-s the process CPU time it took
//     (the machine is shared: wall time includes waiting for a CPU);
//   - compact-s: one compaction of the whole state (read back, replayed, encoded, written);
//   - batch-p99-µs / batch-max-µs: processLogs of realistic-mix batches (1000 records, one every
//     10 ms) while that compaction runs, and quiet-p99-µs / quiet-max-µs the same with no checkpoint
//     activity. On 2 vCPUs the compaction also takes CPU time from the batches; the batch path
//     shares no lock with it;
//   - journal-B/record: journal bytes written per record of the realistic mix;
//   - hour-written-MB: bytes written over an hour of event time of the realistic mix at 1000 records
//     a second, written every 30 s and compacted as the processor does; hour-storage-MB and
//     hour2-storage-MB: the storage file after that hour and after a second one, and hour-state-MB
//     and hour2-state-MB the state then, encoded (the mix brings new addresses: the state grows).
//
// The timed loop (ns/op) is a batch of the realistic mix with the checkpoint on.
func BenchmarkCheckpointTracked100K(b *testing.B) { benchmarkCheckpoint(b, 100_000) }
func BenchmarkCheckpointTracked1M(b *testing.B)   { benchmarkCheckpoint(b, 1_000_000) }

func benchmarkCheckpoint(b *testing.B, n int) {
	ctx := context.Background()
	dir := b.TempDir()
	ext, id := benchStorage(b, dir)
	p := startBenchCheckpoints(b, ext, id)
	prefillCheckpointed(b, p, n)
	base, _ := p.checkpoints.store.Sizes()

	// Restore into a new processor, which goes on.
	if err := p.stopCheckpoints(ctx); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	cpu0, started := processCPU(), time.Now()
	p = startBenchCheckpoints(b, ext, id)
	restore, restoreCPU := time.Since(started), processCPU()-cpu0
	if ips, logons := p.sizes(); ips != n || logons != n {
		b.Fatalf("restored %d IPs and %d logons, want %d and %d", ips, logons, n, n)
	}

	mix := loadmix.NewMix(benchBatch, 10, 0)
	batch := func() time.Duration {
		ld, _ := mix.Batch(time.Now())
		t := time.Now()
		_, _ = p.processLogs(ctx, ld)
		return time.Since(t)
	}
	paced := func(until func() bool) []time.Duration {
		var d []time.Duration
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for len(d) < 100 || !until() {
			d = append(d, batch())
			<-tick.C
		}
		return d
	}
	quiet := paced(func() bool { return true })

	// Batches while a compaction runs.
	p.flushCheckpoint(ctx)
	done := make(chan time.Duration, 1)
	go func() {
		t := time.Now()
		if err := p.checkpoints.store.Compact(ctx, state.NewMemory(p.engine)); err != nil {
			b.Error(err)
		}
		done <- time.Since(t)
	}()
	var compact time.Duration
	busy := paced(func() bool {
		select {
		case compact = <-done:
			return true
		default:
			return false
		}
	})

	// Journal bytes per record of the mix.
	p.flushCheckpoint(ctx)
	w0 := p.checkpoints.store.Written()
	for range 100 {
		batch()
	}
	p.flushCheckpoint(ctx)
	journal := float64(p.checkpoints.store.Written()-w0) / float64(100*benchBatch)

	// Two hours of event time, ending now, at 1000 records a second, written every 30 s: the bytes
	// written in the first and the storage file after each (does it stay bounded?).
	w0 = p.checkpoints.store.Written()
	var hourWritten int64
	var hourStorage, hourState [2]int64
	start := time.Now().Add(-2 * time.Hour)
	for s := range 7200 {
		ld, _ := mix.Batch(start.Add(time.Duration(s) * time.Second))
		_, _ = p.processLogs(ctx, ld)
		if s%30 == 29 {
			p.flushCheckpoint(ctx)
		}
		if s%3600 == 3599 {
			for p.checkpoints.compacting.Load() {
				time.Sleep(10 * time.Millisecond) // a compaction the flushes started
			}
			if s == 3599 {
				hourWritten = p.checkpoints.store.Written() - w0
			}
			hourStorage[s/3600] = dirSize(b, dir)
			state, _ := p.checkpoints.memory.Snapshot() // what a base of the state would be now
			hourState[s/3600] = int64(len(state))
		}
	}

	b.ResetTimer()
	for b.Loop() {
		batch()
	}
	b.StopTimer()
	if err := p.stopCheckpoints(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(base)/1e6, "base-MB")
	b.ReportMetric(restore.Seconds(), "restore-s")
	b.ReportMetric(restoreCPU.Seconds(), "restore-cpu-s")
	b.ReportMetric(compact.Seconds(), "compact-s")
	reportPercentiles(b, "batch", busy)
	reportPercentiles(b, "quiet", quiet)
	b.ReportMetric(journal, "journal-B/record")
	b.ReportMetric(float64(hourWritten)/1e6, "hour-written-MB")
	b.ReportMetric(float64(hourStorage[0])/1e6, "hour-storage-MB")
	b.ReportMetric(float64(hourStorage[1])/1e6, "hour2-storage-MB")
	b.ReportMetric(float64(hourState[0])/1e6, "hour-state-MB")
	b.ReportMetric(float64(hourState[1])/1e6, "hour2-state-MB")
}

// processCPU is the CPU time this process has used (every thread, the garbage collector's included).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportPercentiles reports the 99th percentile and the maximum of d in µs.
func reportPercentiles(b *testing.B, name string, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)*99/100].Microseconds()), name+"-p99-µs")
	b.ReportMetric(float64(d[len(d)-1].Microseconds()), name+"-max-µs")
}

// benchStorage starts a file_storage extension over dir.
func benchStorage(b *testing.B, dir string) (component.Component, component.ID) {
	factory := filestorage.NewFactory()
	cfg := factory.CreateDefaultConfig().(*filestorage.Config)
	cfg.Directory = dir
	ext, err := factory.Create(context.Background(), extensiontest.NewNopSettings(factory.Type()), cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := ext.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ext.Shutdown(context.Background()) })
	return ext, component.MustNewIDWithName("file_storage", "bench")
}

// startBenchCheckpoints starts a processor with bounds for 4M addresses and logons, checkpointing
// into ext, and waits for its restore.
func startBenchCheckpoints(b *testing.B, ext component.Component, id component.ID) *correlationProcessor {
	cfg := createDefaultConfig().(*Config)
	cfg.Storage = &id
	cfg.CheckpointInterval = time.Hour // the benchmark flushes
	cfg.MaxTrackedIPs, cfg.MaxPendingLogons = 4_000_000, 4_000_000
	p, err := newCorrelationProcessor(processortest.NewNopSettings(processortest.NopType), cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.start(context.Background(), hostWith{id: ext}); err != nil {
		b.Fatal(err)
	}
	<-p.checkpoints.restored
	return p
}

// prefillCheckpointed gives p n addresses with three failures each and n waiting logons
// (statetest.Prefill), and writes that state as the checkpoint's base.
func prefillCheckpointed(b *testing.B, p *correlationProcessor, n int) {
	mem := p.checkpoints.memory
	mem.Journal(false)
	statetest.Prefill(b, mem, n)
	if err := p.rebase(context.Background(), p.checkpoints.store, mem); err != nil {
		b.Fatal(err)
	}
	mem.Journal(true)
}

// dirSize is the bytes of the files in dir.
func dirSize(b *testing.B, dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		if info, err := os.Stat(filepath.Join(dir, e.Name())); err == nil {
			n += info.Size()
		}
	}
	return n
}
