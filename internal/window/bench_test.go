package window

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
)

func ipv4(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(11 + i>>24), byte(i >> 16), byte(i >> 8), byte(i)})
}

func ipv6(i int) netip.Addr {
	return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 12: byte(i >> 24), 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)})
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// benchmarkHeapPerIP reports the heap held per tracked IP after one failed sign-in from each of n IPs.
func benchmarkHeapPerIP(b *testing.B, n int, addr func(int) netip.Addr) {
	for b.Loop() {
		cfg := Config{Threshold: 5, Window: 24 * 3600e9, Tables: 2, MaxTrackedIPs: 4_000_000, MaxPendingLogons: 1_000_000}
		before := heapInUse()
		e := New[int](cfg)
		t0 := int64(1_700_000_000e9)
		for i := 0; i < n; i++ {
			e.Observe(t0+int64(i), farWall, 0)
			e.Failure(i&1, addr(i), t0+int64(i), nil)
		}
		after := heapInUse()
		b.ReportMetric(float64(after-before)/float64(n), "heap-B/ip")
		runtime.KeepAlive(e)
	}
}

func BenchmarkHeapPerIPv4_1M(b *testing.B) { benchmarkHeapPerIP(b, 1_000_000, ipv4) }
func BenchmarkHeapPerIPv6_1M(b *testing.B) { benchmarkHeapPerIP(b, 1_000_000, ipv6) }

// tracking returns an engine with the default settings tracking n IPs, one failure each at t0.
func tracking(n int, t0 int64) *Engine[int] {
	cfg := Config{Threshold: 5, Window: 24 * 3600e9, Tables: 2, MaxTrackedIPs: 4_000_000, MaxPendingLogons: 1_000_000}
	e := New[int](cfg)
	for i := 0; i < n; i++ {
		e.Observe(t0, farWall, 0)
		e.Failure(0, ipv4(i), t0, nil)
	}
	return e
}

// benchmarkFailure measures one failed sign-in with n IPs already tracked.
func benchmarkFailure(b *testing.B, n int) {
	t0 := int64(1_700_000_000e9)
	e := tracking(n, t0)
	i := 0
	for b.Loop() {
		e.Observe(t0, farWall, 0)
		e.Failure(0, ipv4(i%n), t0, nil)
		i += 7919
	}
}

func BenchmarkFailureTracked1K(b *testing.B)   { benchmarkFailure(b, 1_000) }
func BenchmarkFailureTracked100K(b *testing.B) { benchmarkFailure(b, 100_000) }
func BenchmarkFailureTracked1M(b *testing.B)   { benchmarkFailure(b, 1_000_000) }

// benchmarkFailureOutOfOrder measures one failed sign-in with n IPs already tracked when failures
// arrive up to five minutes out of order (sign-in logs from several sources, each late by its own
// delay): about half of the updates are older than the newest one queued and take the heap of late
// updates instead of the queue.
func benchmarkFailureOutOfOrder(b *testing.B, n int) {
	t0 := int64(1_700_000_000e9)
	e := tracking(n, t0)
	rng := rand.New(rand.NewPCG(1, 2))
	const jitter = int64(300e9)
	t, i := t0+jitter, 0
	for b.Loop() {
		t += 1e6 // a thousand failures a second
		ts := t - rng.Int64N(jitter)
		e.Observe(ts, farWall, 0)
		e.Failure(0, ipv4(i%n), ts, nil)
		i += 7919
	}
}

func BenchmarkFailureOutOfOrderTracked100K(b *testing.B) { benchmarkFailureOutOfOrder(b, 100_000) }
func BenchmarkFailureOutOfOrderTracked1M(b *testing.B)   { benchmarkFailureOutOfOrder(b, 1_000_000) }

// BenchmarkMemoryLatency is what bounds the large tables: one random load from 256 MB when each
// load needs the one before (a lookup that misses every cache), and when the loads are
// independent (what the batch prefetch turns a batch's lookups into).
func BenchmarkMemoryLatency(b *testing.B) {
	const n = 32 << 20 // 256 MB of uint64
	next := make([]uint64, n)
	perm := make([]uint32, n)
	for i := range perm {
		perm[i] = uint32(i)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := n - 1; i > 0; i-- { // Sattolo: a single cycle through all of them
		j := rng.IntN(i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	for i := range perm {
		next[perm[i]] = uint64(perm[(i+1)%n])
	}
	idx := make([]uint32, 1<<20)
	for i := range idx {
		idx[i] = uint32(rng.IntN(n))
	}
	b.Run("dependent", func(b *testing.B) {
		j := uint64(0)
		for b.Loop() {
			for range idx {
				j = next[j]
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(idx)), "ns/load")
		runtime.KeepAlive(j)
	})
	b.Run("independent", func(b *testing.B) {
		s := uint64(0)
		for b.Loop() {
			for _, i := range idx {
				s += next[i]
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(idx)), "ns/load")
		runtime.KeepAlive(s)
	})
}
