package aadhostlogincorrelation

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/loadmix"
	"github.com/secops-otel/aadhostlogincorrelation/internal/state"
)

// Scaling: the cost per record of the realistic mix through the whole processor with N addresses
// already tracked (one failed sign-in each, half an hour ago). The mix's failed sign-ins come from
// addresses drawn at random among the N, so that every one is a lookup into the full table (not
// the few that stay in cache); its logons come from fresh addresses, so no alert is made at any N.
// Only processLogs is timed. The FailuresTracked benchmarks are the table's worst case: every record
// of the batch is a failed sign-in from one of the N.

func BenchmarkMixTracked1K(b *testing.B)        { benchmarkTracked(b, 1_000, "mix") }
func BenchmarkMixTracked100K(b *testing.B)      { benchmarkTracked(b, 100_000, "mix") }
func BenchmarkMixTracked1M(b *testing.B)        { benchmarkTracked(b, 1_000_000, "mix") }
func BenchmarkFailuresTracked1K(b *testing.B)   { benchmarkTracked(b, 1_000, "failures") }
func BenchmarkFailuresTracked100K(b *testing.B) { benchmarkTracked(b, 100_000, "failures") }
func BenchmarkFailuresTracked1M(b *testing.B)   { benchmarkTracked(b, 1_000_000, "failures") }

func benchmarkTracked(b *testing.B, n int, kind string) {
	p := newPerfProcessor(b)
	ctx := context.Background()
	now := time.Now()
	prefilled := now.Add(-30 * time.Minute).UnixNano()
	events := make([]state.Event, 0, 10_000)
	for i := 0; i < n; i++ {
		events = append(events, state.Event{Table: 0, Addr: trackedAddr(i), Time: prefilled + int64(i)})
		if len(events) == cap(events) || i == n-1 {
			if _, err := p.backend.Apply(ctx, now.UnixNano(), int64(time.Minute), events, nil); err != nil {
				b.Fatal(err)
			}
			events = events[:0]
		}
	}
	if ips, _ := p.sizes(); ips != n {
		b.Fatalf("%d tracked IPs after the prefill, want %d", ips, n)
	}

	mix := loadmix.NewMix(benchBatch, 0, 3)
	failures := benchBatchOf("failures")
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	pick := func() string { return trackedAddr(rng.IntN(n)).String() }
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		var ld plog.Logs
		if kind == "failures" {
			ld = failures
			restamp(ld, time.Now())
		} else {
			ld, _ = mix.Batch(time.Now())
		}
		retargetFailures(ld, pick)
		b.StartTimer()
		_, _ = p.processLogs(ctx, ld)
	}
	reportPerRecord(b, benchBatch)
	ips, _ := p.sizes()
	b.ReportMetric(float64(ips), "tracked-IPs")
}

// trackedAddr is tracked address number i, in 11.0.0.0/8 and up (no record of the mix comes from there).
func trackedAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(11 + i>>24), byte(i >> 16), byte(i >> 8), byte(i)})
}

// restamp sets the time of every record of ld to t.
func restamp(ld plog.Logs, t time.Time) {
	ts := pcommon.NewTimestampFromTime(t)
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				lr.SetTimestamp(ts)
			}
		}
	}
}

// retargetFailures moves every failed SigninLogs sign-in of ld to an address from pick.
func retargetFailures(ld plog.Logs, pick func() string) {
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				a := lr.Attributes()
				if rt, ok := a.Get("ResultType"); ok && rt.Str() != "0" {
					a.PutStr("IPAddress", pick())
				}
			}
		}
	}
}
