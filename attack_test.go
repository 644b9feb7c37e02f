//go:build !race

// The spray is ten million records: too slow under the race detector, so `make test` runs this
// file in its own pass without -race (the race pass compiles it out rather than skipping it).

package aadhostlogincorrelation

import (
	"context"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/secops-otel/aadhostlogincorrelation/internal/metadatatest"
)

const (
	sprayTotal = 10_000_000
	sprayBatch = 10_000
)

// sprayer rewrites one batch of failed sign-ins in place with fresh source addresses, so ten
// million records cost no ten million records' worth of building.
type sprayer struct {
	ld   plog.Logs
	next uint32
}

func newSprayer() *sprayer {
	b := newBatch()
	for i := 0; i < sprayBatch; i++ {
		b.signin(signinLogs, "192.0.2.1", "50126", at(0))
	}
	return &sprayer{ld: b.ld}
}

// fill gives every record of the batch a new address (IPv4 and IPv6 alternately) and a time.
func (s *sprayer) fill(t time.Time) plog.Logs {
	rls := s.ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		lr := rls.At(i).ScopeLogs().At(0).LogRecords().At(0)
		n := s.next
		s.next++
		var addr netip.Addr
		if n%2 == 0 {
			addr = netip.AddrFrom4([4]byte{byte(16 + n>>24), byte(n >> 16), byte(n >> 8), byte(n)})
		} else {
			addr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 12: byte(n >> 24), 13: byte(n >> 16), 14: byte(n >> 8), 15: byte(n)})
		}
		lr.Attributes().PutStr("IPAddress", addr.String())
		lr.SetTimestamp(pcommon.NewTimestampFromTime(t))
	}
	return s.ld
}

func TestSprayOfTenMillionAddresses(t *testing.T) {
	const bound = 10_000
	h := newHarness(t, func(c *Config) { c.MaxTrackedIPs = bound })
	s := newSprayer()
	ctx := context.Background()
	var sizes func() (int, int)
	for sent := 0; sent < sprayTotal; sent += sprayBatch {
		require.NoError(t, h.proc.ConsumeLogs(ctx, s.fill(at(time.Duration(sent)*time.Microsecond))))
		if sizes == nil {
			sizes = trackedSizes(t, h)
		}
		ips, _ := sizes()
		require.LessOrEqual(t, ips, bound, "after %d records", sent+sprayBatch)
	}
	metadatatest.AssertEqualProcessorAadhostlogincorrelationEvictions(t, h.tel, []metricdata.DataPoint[int64]{
		{Value: sprayTotal - bound, Attributes: attribute.NewSet(attribute.String("reason", "max_tracked_ips"))},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorAadhostlogincorrelationFailedSignins(t, h.tel,
		[]metricdata.DataPoint[int64]{{Value: sprayTotal}}, metricdatatest.IgnoreTimestamp())

	// The attacker's real burst, after the spray, still alerts.
	burstAt := at(11 * time.Second)
	got := h.consume(newBatch().failures(signinLogs, attackerIP, 6, burstAt).
		sshd("web01", "sshd", accepted("alice", attackerIP), 4, burstAt.Add(time.Minute)))
	assert.Equal(t, []summary{{attackerIP, "web01", signinLogs, "Syslog"}}, summarize(got))
}

// trackedSizes reads the tracked-IP gauge the processor reports.
func trackedSizes(t *testing.T, h *harness) func() (int, int) {
	return func() (int, int) {
		m, err := h.tel.GetMetric("otelcol_processor_aadhostlogincorrelation_tracked_ips")
		require.NoError(t, err)
		sum := m.Data.(metricdata.Sum[int64])
		return int(sum.DataPoints[0].Value), 0
	}
}

// BenchmarkSprayHeap reports the heap held after a spray of distinct addresses against a
// bound of 100,000 tracked IPs: it stays at the bound's size, not the spray's.
func BenchmarkSprayHeap(b *testing.B) {
	for b.Loop() {
		cfg := createDefaultConfig().(*Config)
		cfg.MaxTrackedIPs = 100_000
		before := heapAlloc()
		p, err := newCorrelationProcessor(processortest.NewNopSettings(processortest.NopType), cfg)
		require.NoError(b, err)
		s := newSprayer()
		for sent := 0; sent < 2_000_000; sent += sprayBatch {
			_, _ = p.processLogs(context.Background(), s.fill(at(time.Duration(sent)*time.Microsecond)))
		}
		s.ld = plog.NewLogs()
		after := heapAlloc()
		b.ReportMetric(float64(after-before)/1e6, "heap-MB")
		b.ReportMetric(float64(after-before)/float64(cfg.MaxTrackedIPs), "heap-B/bound-ip")
		runtime.KeepAlive(p)
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
