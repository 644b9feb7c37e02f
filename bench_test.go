package aadhostlogincorrelation

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
)

const benchBatch = 1000

// benchBatchKinds are batch kinds the test files of a source add: each record of such a batch is
// filled by the function, from its address and time.
var benchBatchKinds = map[string]func(b *batch, ip string, t time.Time){}

// benchBatches builds the batch kinds the benchmarks run on.
func benchBatchOf(kind string) plog.Logs {
	b := newBatch()
	for i := 0; i < benchBatch; i++ {
		ip := fmt.Sprintf("198.51.%d.%d", (i/250)%250, i%250)
		t := at(time.Duration(i) * time.Millisecond)
		if fill := benchBatchKinds[kind]; fill != nil {
			fill(b, ip, t)
			continue
		}
		switch kind {
		case "unrelated":
			b.unrelated(1)
		case "failures":
			b.signin(signinLogs, ip, "50126", t)
		case "logons":
			b.sshd("web01", "sshd", accepted("alice", ip), 4, t)
		case "mix":
			// 90% unrelated traffic; the rest successful sign-ins, failures, sshd and Windows
			// logons, with one attacker whose failures and logon make one alert per batch.
			switch {
			case i%10 != 0:
				b.unrelated(1)
			case i%40 == 0:
				b.signin(signinLogs, ip, "0", t)
			case i%40 == 10:
				b.signin(signinLogs, attackerIP, "50126", t)
			case i%40 == 20:
				b.sshd("web01", "sshd", accepted("alice", ip), 4, t)
			case i%1000 == 30:
				b.sshd("web01", "sshd", accepted("alice", attackerIP), 4, t) // one alert per batch
			default:
				b.securityEvent("dc01", ip, 3, t)
			}
		}
	}
	return b.ld
}

// floor walks the batch and reads two attributes and the body type of each record: the least any
// logs processor that looks at its records can do.
func floor(ld plog.Logs) int {
	n := 0
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				if _, ok := lr.Attributes().Get("Type"); ok {
					n++
				}
				if _, ok := lr.Attributes().Get("appname"); ok {
					n++
				}
				if lr.Body().Type() == 1 {
					n++
				}
			}
		}
	}
	return n
}

func benchmarkProcessor(b *testing.B, kind string) { benchmarkProcessorWith(b, kind, nil) }

// benchmarkProcessorWith is benchmarkProcessor with the configuration changed by mutate.
func benchmarkProcessorWith(b *testing.B, kind string, mutate func(*Config)) {
	cfg := createDefaultConfig().(*Config)
	if mutate != nil {
		mutate(cfg)
	}
	p, err := newCorrelationProcessor(processortest.NewNopSettings(processortest.NopType), cfg)
	if err != nil {
		b.Fatal(err)
	}
	ld := benchBatchOf(kind)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out, _ := p.processLogs(ctx, ld)
		b.StopTimer()
		// Drop the alerts appended to the batch and move its records a batch-length on in time,
		// so every iteration is the next stretch of the same traffic.
		out.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
			return rl.ScopeLogs().Len() > 0 && rl.ScopeLogs().At(0).Scope().Name() == scopeName
		})
		shift(ld, benchBatch*time.Millisecond)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
}

func shift(ld plog.Logs, d time.Duration) {
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		lrs := rls.At(i).ScopeLogs().At(0).LogRecords()
		for k := 0; k < lrs.Len(); k++ {
			lr := lrs.At(k)
			lr.SetTimestamp(lr.Timestamp() + pcommon.Timestamp(d))
		}
	}
}

func benchmarkFloor(b *testing.B, kind string) {
	ld := benchBatchOf(kind)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		floor(ld)
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkUnrelated(b *testing.B)      { benchmarkProcessor(b, "unrelated") }
func BenchmarkUnrelatedFloor(b *testing.B) { benchmarkFloor(b, "unrelated") }
func BenchmarkFailures(b *testing.B)       { benchmarkProcessor(b, "failures") }
func BenchmarkFailuresFloor(b *testing.B)  { benchmarkFloor(b, "failures") }
func BenchmarkLogons(b *testing.B)         { benchmarkProcessor(b, "logons") }
func BenchmarkLogonsFloor(b *testing.B)    { benchmarkFloor(b, "logons") }
func BenchmarkMix(b *testing.B)            { benchmarkProcessor(b, "mix") }
func BenchmarkMixFloor(b *testing.B)       { benchmarkFloor(b, "mix") }
