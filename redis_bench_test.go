//go:build redis

package aadhostlogincorrelation

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/secops-otel/aadhostlogincorrelation/internal/redistest"
	"github.com/secops-otel/aadhostlogincorrelation/internal/state"
)

// newRedisBenchProcessor returns a started processor with state redis on srv, under prefix.
func newRedisBenchProcessor(b *testing.B, srv *redistest.Server, prefix string) *correlationProcessor {
	b.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.State = StateRedis
	cfg.Redis.Endpoint = srv.Addr()
	cfg.Redis.KeyPrefix = prefix
	cfg.MaxClockSkew = 1000 * time.Hour // the batches move on in time faster than the wall clock
	p, err := newCorrelationProcessor(processortest.NewNopSettings(processortest.NopType), cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.shutdown(context.Background()) })
	return p
}

// feedBatches runs n batches of kind through p, each the next stretch of the same traffic, and
// returns how many failed (Redis must be up for the whole run).
func feedBatches(p *correlationProcessor, kind string, n int) (failed int) {
	ld := benchBatchOf(kind)
	ctx := context.Background()
	for range n {
		out, _ := p.processLogs(ctx, ld)
		if p.warnings.failing > 0 {
			failed++
		}
		out.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
			return rl.ScopeLogs().Len() > 0 && rl.ScopeLogs().At(0).Scope().Name() == scopeName
		})
		shift(ld, benchBatch*time.Millisecond)
	}
	return failed
}

// scriptStats sums the server's counts of EVAL and EVALSHA.
func scriptStats(srv *redistest.Server) redistest.CommandStat {
	st := srv.CommandStats()
	return redistest.CommandStat{Calls: st["evalsha"].Calls + st["eval"].Calls, Usec: st["evalsha"].Usec + st["eval"].Usec}
}

// BenchmarkRedis runs batches of 1000 records through one processor whose state is in a local
// redis-server: the realistic mix (90% unrelated, about 100 sign-ins and logons a batch, one alert),
// and the worst cases where every record is a failure or a logon.
func BenchmarkRedis(b *testing.B) {
	srv := redistest.Start(b)
	for _, kind := range []string{"mix", "failures", "logons"} {
		b.Run(kind, func(b *testing.B) {
			p := newRedisBenchProcessor(b, srv, "bench-"+kind+":")
			if feedBatches(p, kind, 3) > 0 { // the script is loaded
				b.Fatal("Redis failed")
			}
			before := scriptStats(srv)
			batchesBefore, _ := p.backend.(*state.Redis).RoundTrips()
			b.ReportAllocs()
			b.ResetTimer()
			failed := feedBatches(p, kind, b.N)
			b.StopTimer()
			if failed > 0 {
				b.Fatalf("%d batches failed", failed)
			}
			b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
			after, _ := p.backend.(*state.Redis).RoundTrips()
			b.ReportMetric(float64(after-batchesBefore)/float64(b.N), "roundtrips/batch")
			st := scriptStats(srv)
			b.ReportMetric(float64(st.Calls-before.Calls)/float64(b.N), "scripts/batch")
			b.ReportMetric(float64(st.Usec-before.Usec)/float64(b.N), "redis-µs/batch")
		})
	}
}

// BenchmarkRedisFleet runs the mix through two processors (two collectors) sharing one Redis,
// concurrently: what one Redis sustains for a fleet.
func BenchmarkRedisFleet(b *testing.B) {
	srv := redistest.Start(b)
	for _, collectors := range []int{2, 4} {
		b.Run(fmt.Sprintf("collectors-%d", collectors), func(b *testing.B) {
			prefix := fmt.Sprintf("fleet%d:", collectors)
			var fleet []*correlationProcessor
			var backends []state.Backend
			for range collectors {
				p := newRedisBenchProcessor(b, srv, prefix)
				if feedBatches(p, "mix", 1) > 0 {
					b.Fatal("Redis failed")
				}
				fleet = append(fleet, p)
				backends = append(backends, p.backend)
			}
			var base int64
			for _, be := range backends {
				n, _ := be.(*state.Redis).RoundTrips()
				base += n
			}
			before := scriptStats(srv)
			b.ResetTimer()
			var wg sync.WaitGroup
			var failed atomic.Int64
			per := (b.N + collectors - 1) / collectors
			for _, p := range fleet {
				wg.Add(1)
				go func() {
					defer wg.Done()
					failed.Add(int64(feedBatches(p, "mix", per)))
				}()
			}
			wg.Wait()
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d batches failed", n)
			}
			batches := per * collectors
			b.ReportMetric(float64(batches*benchBatch)/b.Elapsed().Seconds(), "records/s")
			st := scriptStats(srv)
			var requests int64
			for _, be := range backends {
				n, _ := be.(*state.Redis).RoundTrips()
				requests += n
			}
			b.ReportMetric(float64(requests-base)/float64(batches), "roundtrips/batch")
			b.ReportMetric(float64(st.Usec-before.Usec)/float64(batches), "redis-µs/batch")
		})
	}
}
