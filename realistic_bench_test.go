package aadhostlogincorrelation

import (
	"context"
	"runtime/pprof"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/secops-otel/aadhostlogincorrelation/internal/loadmix"
)

// BenchmarkRealisticMix runs the load generator's mix (internal/loadmix, what tools/cmd/loadgen
// sends in the end-to-end comparison: sources grouped in their own ResourceLogs, 90% application
// logs, fresh addresses, one attack per ten batches) through the processor as live traffic: every
// iteration is a new batch stamped now, so the state grows as it does in a collector. Building the
// batch is not timed, and in a CPU profile only the processor's samples carry the label
// work=processor (make bench-profile keeps those: go tool pprof -tagfocus work=processor).
func BenchmarkRealisticMix(b *testing.B) { benchmarkRealisticMix(b, nil) }

func benchmarkRealisticMix(b *testing.B, mutate func(*Config)) {
	cfg := createDefaultConfig().(*Config)
	if mutate != nil {
		mutate(cfg)
	}
	p, err := newCorrelationProcessor(processortest.NewNopSettings(processortest.NopType), cfg)
	if err != nil {
		b.Fatal(err)
	}
	mix := loadmix.NewMix(benchBatch, 10, 0)
	ctx := context.Background()
	// Labels made once: switching them is a pointer store, no allocation inside the timed loop.
	building := pprof.WithLabels(ctx, pprof.Labels("work", "building"))
	processing := pprof.WithLabels(ctx, pprof.Labels("work", "processor"))
	defer pprof.SetGoroutineLabels(ctx)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		pprof.SetGoroutineLabels(building)
		ld, _ := mix.Batch(time.Now())
		pprof.SetGoroutineLabels(processing)
		b.StartTimer()
		_, _ = p.processLogs(ctx, ld)
	}
	reportPerRecord(b, benchBatch)
	ips, logons := p.sizes()
	b.ReportMetric(float64(ips), "tracked-IPs")
	b.ReportMetric(float64(logons), "pending-logons")
}

// BenchmarkRealisticMixFloor is floor (bench_test.go) on the same batches.
func BenchmarkRealisticMixFloor(b *testing.B) {
	mix := loadmix.NewMix(benchBatch, 10, 0)
	batches := make([]plog.Logs, 16)
	for i := range batches {
		batches[i], _ = mix.Batch(time.Now())
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		floor(batches[i%len(batches)])
		i++
	}
	reportPerRecord(b, benchBatch)
}

// newPerfProcessor is a processor with the default configuration and no-op telemetry.
func newPerfProcessor(b *testing.B) *correlationProcessor {
	b.Helper()
	p, err := newCorrelationProcessor(processortest.NewNopSettings(processortest.NopType), createDefaultConfig().(*Config))
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// reportPerRecord reports the cost per record of batches of n records, and records per second.
func reportPerRecord(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
}
