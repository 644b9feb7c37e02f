package aadhostlogincorrelation

import (
	"context"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/loadmix"
)

// pendingBenchLogons is how many waiting logons BenchmarkHeapPerPendingLogon holds.
const pendingBenchLogons = 100_000

// BenchmarkHeapPerPendingLogon fills the processor with 100,000 waiting logons: the host logons of
// the realistic mix, each batch decoded from OTLP as a receiver hands it over. It reports, per
// waiting logon, the heap they hold, the heap objects the garbage collector has to visit, and the
// time of a full collection. Waiting logons are the processor's largest state in a live stream
// (a logon waits two windows for failures that may arrive late), so this is what its garbage
// collection costs.
func BenchmarkHeapPerPendingLogon(b *testing.B) {
	for b.Loop() {
		before := heapStats()
		p := newPerfProcessor(b)
		mix := loadmix.NewMix(benchBatch, 0, 0)
		var ev classify.Observation
		for {
			_, pending := p.sizes()
			if pending >= pendingBenchLogons {
				break
			}
			ld, _ := mix.Batch(time.Now())
			ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
				rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
					sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
						p.classifier.Classify(lr, &ev)
						return ev.Kind != classify.LinuxLogon && ev.Kind != classify.SecurityEventLogon && ev.Kind != classify.WindowsEventLogon
					})
					return sl.LogRecords().Len() == 0
				})
				return rl.ScopeLogs().Len() == 0
			})
			raw, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
			if err != nil {
				b.Fatal(err)
			}
			if ld, err = (&plog.ProtoUnmarshaler{}).UnmarshalLogs(raw); err != nil {
				b.Fatal(err)
			}
			if _, err := p.processLogs(context.Background(), ld); err != nil {
				b.Fatal(err)
			}
		}
		after := heapStats()
		start := time.Now()
		runtime.GC()
		gc := time.Since(start)
		_, pending := p.sizes()
		n := float64(pending)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/logon")
		b.ReportMetric(float64(after.HeapObjects-before.HeapObjects)/n, "objects/logon")
		b.ReportMetric(float64(gc.Nanoseconds())/n, "gc-ns/logon")
		runtime.KeepAlive(p)
	}
}

// heapStats returns the memory statistics after two full collections.
func heapStats() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}
