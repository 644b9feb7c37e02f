package aadhostlogincorrelation

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/secops-otel/aadhostlogincorrelation/internal/loadmix"
)

// Alert latency inside the processor: the time from calling ConsumeLogs with the batch that holds
// the deciding logon to the alert reaching the next consumer, for logons whose failed sign-ins are
// already in place, in a processor that has seen 300 000 records of the realistic mix. The
// processor (built by the factory, with processorhelper) hands the batch on synchronously, so this
// is the whole delay the processor adds.

// BenchmarkAlertLatencyLone: the deciding logon arrives alone in its batch.
func BenchmarkAlertLatencyLone(b *testing.B) { benchmarkAlertLatency(b, 0) }

// BenchmarkAlertLatencyInBatch: the deciding logon is the last record of a 1000-record batch of the
// realistic mix, so the alert waits for the whole batch.
func BenchmarkAlertLatencyInBatch(b *testing.B) { benchmarkAlertLatency(b, benchBatch-1) }

func benchmarkAlertLatency(b *testing.B, others int) {
	var arrived time.Time
	var alerts int
	next, err := consumer.NewLogs(func(_ context.Context, ld plog.Logs) error {
		arrived = time.Now()
		alerts = len(alertsIn(ld))
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	f := NewFactory()
	proc, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(f.Type()), f.CreateDefaultConfig(), next)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := proc.Start(ctx, componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = proc.Shutdown(ctx) })

	background := loadmix.NewMix(benchBatch, 0, 1)
	for range 300 {
		ld, _ := background.Batch(time.Now())
		if err := proc.ConsumeLogs(ctx, ld); err != nil {
			b.Fatal(err)
		}
	}
	mix := loadmix.NewMix(others, 0, 2)
	var latencies, onCPU []time.Duration
	i := uint32(0)
	// One OS thread throughout, so that its CPU clock measures this goroutine's work.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		ip := loadmix.AttackerAddr(i % (1 << 20))
		failures, logon := loadmix.Attack(ip, i%2 == 1, time.Now())
		i++
		if err := proc.ConsumeLogs(ctx, failures); err != nil {
			b.Fatal(err)
		}
		batch := logon
		if others > 0 {
			batch, _ = mix.Batch(time.Now())
			logon.ResourceLogs().MoveAndAppendTo(batch.ResourceLogs())
		}
		alerts = 0
		b.StartTimer()
		cpu0, cpuOK := threadCPU()
		start := time.Now()
		if err := proc.ConsumeLogs(ctx, batch); err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, arrived.Sub(start))
		if cpu1, ok := threadCPU(); ok && cpuOK {
			onCPU = append(onCPU, cpu1-cpu0)
		}
		if alerts != 1 {
			b.Fatalf("attack %d from %s: %d alerts, want 1", i, ip, alerts)
		}
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(nearestRank(latencies, 0.50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(nearestRank(latencies, 0.99).Nanoseconds()), "p99-ns")
	if len(onCPU) > 0 {
		// The same latencies counted in CPU time of the thread: what is left when the machine's
		// other jobs do not take the CPU away mid-batch.
		slices.Sort(onCPU)
		b.ReportMetric(float64(nearestRank(onCPU, 0.50).Nanoseconds()), "p50-cpu-ns")
		b.ReportMetric(float64(nearestRank(onCPU, 0.99).Nanoseconds()), "p99-cpu-ns")
	}
}

// nearestRank returns the q-quantile of sorted ds.
func nearestRank(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(q*float64(len(ds))+0.999999) - 1
	return ds[max(0, min(i, len(ds)-1))]
}
