package aadhostlogincorrelation

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/trace"
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
//     activity (500 batches). On 2 vCPUs the compaction also takes CPU time from the batches; the
//     batch path shares no lock with it, but a batch that carries an alert writes the journal, in
//     the storage the compaction writes too;
//   - for each of the two phases (batch-… and quiet-…), what the runtime says of it
//     (runtime/metrics): gc-cycles completed, gc-assist-cpu-s (mark assists, drafted from
//     allocating goroutines), gc-bg-cpu-s (background marking), stw-max-µs (the longest
//     stop-the-world pause, as the bucket of a histogram), sched-p99-µs / sched-max-µs (how long
//     goroutines waited for a CPU once runnable), heap-peak-MB (heap objects, sampled after each
//     batch), cpu-s the process's CPU time (getrusage: every thread);
//   - batch-own-p99-µs / batch-own-max-µs and quiet-own-…: the same latencies less the time the
//     batches' thread (they run locked to one) waited in the kernel's run queue for a CPU
//     (/proc/thread-self/schedstat, Linux only): on a shared machine, what the other processes
//     took is not the checkpoint's;
//   - journal-B/record: journal bytes written per record of the realistic mix;
//   - hour-written-MB: bytes written over an hour of event time of the realistic mix at 1000 records
//     a second, written every 30 s and compacted as the processor does; hour-storage-MB and
//     hour2-storage-MB: the storage file after that hour and after a second one, and hour-state-MB
//     and hour2-state-MB the state then, encoded (the mix brings new addresses: the state grows).
//
// The timed loop (ns/op) is a batch of the realistic mix with the checkpoint on.
//
// -checkpoint.trace=FILE writes an execution trace of the two phases (go tool trace FILE), where
// each batch is a region "batch" and the compaction a region "compaction": where a slow batch's
// time went (running, waiting for a CPU, for a lock, in the storage), and what ran meanwhile.
// checkpointTrace names a file for an execution trace of the quiet and compaction phases of the
// checkpoint benchmarks (batches are regions "batch", the compaction a region "compaction").
var checkpointTrace = flag.String("checkpoint.trace", "", "write an execution trace of the checkpoint benchmarks' batch phases to this file")

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
	// wait is the time the batch goroutine's thread waited for a CPU in the kernel's run queue during
	// the last batch: the machine is shared, and what other processes take is not the checkpoint's.
	var wait time.Duration
	batch := func() time.Duration {
		ld, _ := mix.Batch(time.Now())
		_, w0, _ := threadSched()
		t := time.Now()
		trace.WithRegion(ctx, "batch", func() { _, _ = p.processLogs(ctx, ld) })
		d := time.Since(t)
		_, w1, _ := threadSched()
		wait = w1 - w0
		return d
	}
	var peak uint64         // the largest heap sampled after a batch of paced
	var own []time.Duration // each batch of paced less its thread's wait for a CPU in the kernel
	paced := func(atLeast int, until func() bool) []time.Duration {
		var d []time.Duration
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		peak, own = 0, nil
		for len(d) < atLeast || !until() {
			d = append(d, batch())
			own = append(own, d[len(d)-1]-min(wait, d[len(d)-1]))
			peak = max(peak, heapObjects())
			<-tick.C
		}
		return d
	}
	// One OS thread for the batches, so that its run-queue wait is theirs.
	runtime.LockOSThread()
	if *checkpointTrace != "" {
		f, err := os.Create(*checkpointTrace)
		if err != nil {
			b.Fatal(err)
		}
		if err := trace.Start(f); err != nil {
			b.Fatal(err)
		}
	}
	gc0, cpu0 := readGC(), processCPU()
	quiet := paced(500, func() bool { return true })
	gcQuiet, quietOwn := readGC().since(gc0, peak), own
	gcQuiet.cpu = processCPU() - cpu0

	// Batches while a compaction runs.
	p.flushCheckpoint(ctx)
	done := make(chan time.Duration, 1)
	go func() {
		t := time.Now()
		trace.WithRegion(ctx, "compaction", func() {
			if err := p.compactCheckpoint(ctx); err != nil {
				b.Error(err)
			}
		})
		done <- time.Since(t)
	}()
	var compact time.Duration
	gc0, cpu0 = readGC(), processCPU()
	busy := paced(100, func() bool {
		select {
		case compact = <-done:
			return true
		default:
			return false
		}
	})
	gcBusy, busyOwn := readGC().since(gc0, peak), own
	gcBusy.cpu = processCPU() - cpu0
	if *checkpointTrace != "" {
		trace.Stop()
	}
	runtime.UnlockOSThread()

	// Journal bytes per record of the mix.
	p.flushCheckpoint(ctx)
	w0 := p.checkpoints.store.Written()
	for range 100 {
		batch()
	}
	p.flushCheckpoint(ctx)
	journal := float64(p.checkpoints.store.Written()-w0) / float64(100*benchBatch)

	// Two hours of event time, ending now, at 1000 records a second, written every 30 s: the bytes
	// written in the first and the storage file after each (does it stay bounded?). The loop runs
	// an hour of event time in seconds; a compaction, paced, takes seconds too: it is let finish
	// before the loop goes on, as it would between two writes 30 s apart (batches that alert still
	// write the journal meanwhile, as they would).
	waitCompaction := func() {
		for p.checkpoints.compacting.Load() {
			time.Sleep(10 * time.Millisecond)
		}
	}
	w0 = p.checkpoints.store.Written()
	var hourWritten int64
	var hourStorage, hourState [2]int64
	start := time.Now().Add(-2 * time.Hour)
	for s := range 7200 {
		ld, _ := mix.Batch(start.Add(time.Duration(s) * time.Second))
		_, _ = p.processLogs(ctx, ld)
		if s%30 == 29 {
			p.flushCheckpoint(ctx)
			waitCompaction()
		}
		if s%3600 == 3599 {
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
	if _, _, ok := threadSched(); ok {
		reportPercentiles(b, "batch-own", busyOwn)
		reportPercentiles(b, "quiet-own", quietOwn)
	}
	gcQuiet.report(b, "quiet")
	gcBusy.report(b, "batch")
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

// gcStats are the runtime's garbage-collection and scheduling figures (runtime/metrics) over a
// phase of the benchmark: where a batch's added latency can come from besides its own work.
type gcStats struct {
	cycles    uint64   // GC cycles completed
	assist    float64  // CPU seconds of mark assists (drafted from allocating goroutines)
	bg        float64  // CPU seconds of background marking (dedicated, fractional and idle workers)
	pause     float64  // CPU seconds of stop-the-world pauses (as GOMAXPROCS times their length)
	pauses    []uint64 // histogram counts of /sched/pauses/total/gc (buckets: pauseBuckets)
	latencies []uint64 // histogram counts of /sched/latencies: runnable to running
	buckets   [2][]float64
	heapPeak  uint64        // bytes in heap objects, the largest sampled
	cpu       time.Duration // the process's CPU time (getrusage), every thread
}

var gcSamples = []string{
	"/gc/cycles/total:gc-cycles",
	"/cpu/classes/gc/mark/assist:cpu-seconds",
	"/cpu/classes/gc/mark/dedicated:cpu-seconds",
	"/cpu/classes/gc/mark/idle:cpu-seconds",
	"/cpu/classes/gc/pause:cpu-seconds",
	"/sched/pauses/total/gc:seconds",
	"/sched/latencies:seconds",
	"/memory/classes/heap/objects:bytes",
}

func readGC() gcStats {
	s := make([]metrics.Sample, len(gcSamples))
	for i, n := range gcSamples {
		s[i].Name = n
	}
	metrics.Read(s)
	pauses, lat := s[5].Value.Float64Histogram(), s[6].Value.Float64Histogram()
	return gcStats{
		cycles: s[0].Value.Uint64(), assist: s[1].Value.Float64(),
		bg: s[2].Value.Float64() + s[3].Value.Float64(), pause: s[4].Value.Float64(),
		pauses: pauses.Counts, latencies: lat.Counts, buckets: [2][]float64{pauses.Buckets, lat.Buckets},
		heapPeak: s[7].Value.Uint64(),
	}
}

// heapObjects samples the bytes in heap objects.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// since returns the figures of the phase from s0 to s; peak is the largest heap sampled in it.
func (s gcStats) since(s0 gcStats, peak uint64) gcStats {
	d := s
	d.cycles -= s0.cycles
	d.assist -= s0.assist
	d.bg -= s0.bg
	d.pause -= s0.pause
	d.pauses = slices.Clone(s.pauses)
	for i := range d.pauses {
		d.pauses[i] -= s0.pauses[i]
	}
	d.latencies = slices.Clone(s.latencies)
	for i := range d.latencies {
		d.latencies[i] -= s0.latencies[i]
	}
	d.heapPeak = max(peak, s.heapPeak, s0.heapPeak)
	return d
}

// quantile is the upper bound of the bucket holding quantile q of histogram counts (buckets).
func quantile(counts []uint64, buckets []float64, q float64) float64 {
	var n uint64
	for _, c := range counts {
		n += c
	}
	if n == 0 {
		return 0
	}
	want := uint64(q*float64(n-1)) + 1
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= want {
			return buckets[i+1]
		}
	}
	return buckets[len(buckets)-1]
}

// report reports the phase's figures under prefix.
func (s gcStats) report(b *testing.B, prefix string) {
	b.ReportMetric(float64(s.cycles), prefix+"-gc-cycles")
	b.ReportMetric(s.assist, prefix+"-gc-assist-cpu-s")
	b.ReportMetric(s.bg, prefix+"-gc-bg-cpu-s")
	b.ReportMetric(s.cpu.Seconds(), prefix+"-cpu-s")
	b.ReportMetric(quantile(s.pauses, s.buckets[0], 1)*1e6, prefix+"-stw-max-µs")
	b.ReportMetric(quantile(s.latencies, s.buckets[1], 0.99)*1e6, prefix+"-sched-p99-µs")
	b.ReportMetric(quantile(s.latencies, s.buckets[1], 1)*1e6, prefix+"-sched-max-µs")
	b.ReportMetric(float64(s.heapPeak)/1e6, prefix+"-heap-peak-MB")
}
