package window

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secops-otel/aadhostlogincorrelation/internal/window/windowtest"
)

const farWall = math.MaxInt64 / 2

// event is one input of a scenario: a failure of a table, or a logon (id >= 0).
type event struct {
	logon bool
	id    int
	table int
	ip    netip.Addr
	t     int64
}

// run feeds events to an engine in order and returns the (logon id, table) pairs that alerted,
// failing the test if any pair alerts twice.
func run(t *testing.T, cfg Config, events []event) map[[2]int]Alert[int] {
	t.Helper()
	e := New[int](cfg)
	got := map[[2]int]Alert[int]{}
	var out []Alert[int]
	for _, ev := range events {
		if e.Observe(ev.t, farWall, 0) != Current {
			continue
		}
		out = out[:0]
		if ev.logon {
			out = e.Logon(ev.ip, ev.t, "host", ev.id, out)
		} else {
			out = e.Failure(ev.table, ev.ip, ev.t, out)
		}
		for _, a := range out {
			k := [2]int{a.Payload, a.Table}
			if _, dup := got[k]; dup {
				t.Fatalf("logon %d alerted twice for table %d", a.Payload, a.Table)
			}
			got[k] = a
		}
	}
	return got
}

// reference decides the same scenario by brute force (windowtest.Reference).
func reference(cfg Config, events []event) map[[2]int]bool {
	wt := make([]windowtest.Event, len(events))
	for i, ev := range events {
		wt[i] = windowtest.Event{Logon: ev.logon, ID: ev.id, Table: ev.table, IP: ev.ip, T: ev.t}
	}
	return windowtest.Reference(cfg.Threshold, cfg.Window, cfg.Tables, wt)
}

func keys(m map[[2]int]Alert[int]) map[[2]int]bool {
	out := map[[2]int]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func testConfig() Config {
	return Config{Threshold: 5, Window: 100, Tables: 2, MaxTrackedIPs: 1 << 20, MaxPendingLogons: 1 << 20}
}

var attacker = netip.MustParseAddr("203.0.113.7")

func failures(table int, ip netip.Addr, times ...int64) []event {
	var out []event
	for _, t := range times {
		out = append(out, event{table: table, ip: ip, t: t})
	}
	return out
}

func logon(id int, ip netip.Addr, t int64) event { return event{logon: true, id: id, ip: ip, t: t} }

func TestBoundaries(t *testing.T) {
	cfg := testConfig() // threshold 5, window 100
	cases := []struct {
		name   string
		events []event
		want   map[[2]int]bool
	}{
		{"exactly threshold failures: no alert",
			append(failures(0, attacker, 10, 11, 12, 13, 14), logon(1, attacker, 20)), map[[2]int]bool{}},
		{"one more than threshold: alert",
			append(failures(0, attacker, 10, 11, 12, 13, 14, 15), logon(1, attacker, 20)), map[[2]int]bool{{1, 0}: true}},
		{"span exactly window: alert",
			append(failures(0, attacker, 10, 11, 12, 13, 14, 15), logon(1, attacker, 110)), map[[2]int]bool{{1, 0}: true}},
		{"span one nanosecond over window: no alert",
			append(failures(0, attacker, 10, 11, 12, 13, 14, 15), logon(1, attacker, 111)), map[[2]int]bool{}},
		{"failures spread over more than window around the logon: no alert",
			append(failures(0, attacker, 10, 11, 12, 112, 113, 114), logon(1, attacker, 111)), map[[2]int]bool{}},
		{"logon before the failures, within window: alert",
			append([]event{logon(1, attacker, 10)}, failures(0, attacker, 50, 60, 70, 80, 90, 110)...), map[[2]int]bool{{1, 0}: true}},
		{"logon before the failures, one nanosecond too early: no alert",
			append([]event{logon(1, attacker, 9)}, failures(0, attacker, 50, 60, 70, 80, 90, 110)...), map[[2]int]bool{}},
		{"failures arriving after the logon, with earlier event times: alert",
			append([]event{logon(1, attacker, 60)}, failures(0, attacker, 10, 11, 12, 13, 14, 15)...), map[[2]int]bool{{1, 0}: true}},
		{"tables are counted separately: 4 + 4 no alert",
			append(append(failures(0, attacker, 10, 11, 12, 13), failures(1, attacker, 10, 11, 12, 13)...), logon(1, attacker, 20)), map[[2]int]bool{}},
		{"a logon alerts once for each table",
			append(append(failures(0, attacker, 10, 11, 12, 13, 14, 15), failures(1, attacker, 10, 11, 12, 13, 14, 15)...), logon(1, attacker, 20)),
			map[[2]int]bool{{1, 0}: true, {1, 1}: true}},
		{"other IPs' failures do not count",
			append(append(failures(0, attacker, 10, 11, 12), failures(0, netip.MustParseAddr("198.51.100.1"), 13, 14, 15)...), logon(1, attacker, 20)), map[[2]int]bool{}},
		{"IPv4-mapped IPv6 is the same address",
			append(failures(0, attacker, 10, 11, 12, 13, 14, 15), logon(1, netip.MustParseAddr("::ffff:203.0.113.7"), 20)), map[[2]int]bool{{1, 0}: true}},
		{"more failures after alerting do not alert again",
			append(append(failures(0, attacker, 10, 11, 12, 13, 14, 15), logon(1, attacker, 20)), failures(0, attacker, 21, 22)...), map[[2]int]bool{{1, 0}: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, keys(run(t, cfg, tc.events)))
			assert.Equal(t, tc.want, reference(cfg, tc.events), "reference disagrees with the case")
		})
	}
}

func TestCountTogether(t *testing.T) {
	cfg := testConfig()
	cfg.Tables = 1
	events := append(append(failures(0, attacker, 10, 11, 12), failures(1, attacker, 13, 14, 15)...), logon(1, attacker, 20))
	assert.Equal(t, map[[2]int]bool{{1, 0}: true}, keys(run(t, cfg, events)))
}

func TestAlertCarriesTheFiringInterval(t *testing.T) {
	cfg := testConfig()
	events := append(failures(0, attacker, 5, 10, 11, 12, 13, 14, 15, 110), logon(7, attacker, 20))
	got := run(t, cfg, events)
	a := got[[2]int{7, 0}]
	assert.Equal(t, 7, a.Count)
	assert.Equal(t, int64(5), a.First)
	assert.Equal(t, int64(15), a.Last)
	assert.Equal(t, attacker, a.Addr)
	assert.Equal(t, int64(20), a.Time)
}

// TestMatchesReference checks the engine against the brute force on random scenarios, each fed in
// several random arrival orders, including orders where some events are late.
func TestMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ips := []netip.Addr{attacker, netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("198.51.100.9")}
	for scenario := 0; scenario < 3000; scenario++ {
		cfg := Config{
			Threshold: rng.IntN(5), Window: 100, Tables: 1 + rng.IntN(2),
			MaxTrackedIPs: 1 << 20, MaxPendingLogons: 1 << 20,
		}
		n := 5 + rng.IntN(60)
		var events []event
		for i := 0; i < n; i++ {
			ev := event{ip: ips[rng.IntN(len(ips))], t: 1 + rng.Int64N(500), table: rng.IntN(2)}
			if rng.IntN(4) == 0 {
				ev.logon, ev.id = true, i
			}
			events = append(events, ev)
		}
		for order := 0; order < 4; order++ {
			// Sort by time with jitter: the larger the jitter, the more disorder and late events.
			jitter := []int64{0, 30, 150, 1000}[order]
			arrival := windowtest.Arrival(rng, events, func(ev event) int64 { return ev.t }, jitter)
			want := reference(cfg, arrival)
			got := keys(run(t, cfg, arrival))
			if !assert.Equal(t, want, got, "scenario %d order %d cfg %+v", scenario, order, cfg) {
				for _, ev := range arrival {
					t.Logf("%+v", ev)
				}
				t.FailNow()
			}
		}
	}
}

// TestCompactionKeepsDecisions checks that dropping redundant failures never changes a decision,
// for any logon time, and that a long burst stays short.
func TestCompactionKeepsDecisions(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 2000; iter++ {
		k := 1 + rng.IntN(6)
		w := int64(50 + rng.IntN(100))
		f := make([]int64, 10+rng.IntN(200))
		for i := range f {
			f[i] = rng.Int64N(1000)
		}
		slices.Sort(f)
		c := compact(slices.Clone(f), w, k)
		for tl := int64(-200); tl < 1200; tl += 3 {
			a, _, _, _ := fires(f, tl, w, k)
			b, _, _, _ := fires(c, tl, w, k)
			require.Equal(t, a, b, "k=%d w=%d t=%d\nfull=%v\ncompact=%v", k, w, tl, f, c)
		}
		// At most 2k failures in any interval of length w.
		for i := range c {
			j := i
			for j < len(c) && c[j] <= c[i]+w {
				j++
			}
			require.LessOrEqual(t, j-i, 2*k, fmt.Sprintf("compact=%v", c))
		}
	}
}

func TestBurstFromOneIPStaysBounded(t *testing.T) {
	cfg := testConfig()
	e := New[int](cfg)
	for i := int64(1); i <= 100_000; i++ {
		require.Equal(t, Current, e.Observe(i, farWall, 0))
		e.Failure(0, attacker, i, nil)
	}
	idx, ok := e.ips.find(keyOf(attacker), 0)
	require.True(t, ok)
	assert.LessOrEqual(t, len(e.ips.failures(e.ips.rec(idx))), 6*(cfg.Threshold+1))
	out := e.Logon(attacker, 100_000, "h", 1, nil)
	assert.Len(t, out, 1)
}

func TestTrackedIPsNeverExceedTheBound(t *testing.T) {
	cfg := testConfig()
	cfg.MaxTrackedIPs = 1000
	cfg.Window = 1_000_000 // nothing expires: every drop is an eviction
	e := New[int](cfg)
	for i := 0; i < 50_000; i++ {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		e.Observe(int64(i+1), farWall, 0)
		e.Failure(0, ip, int64(i+1), nil)
		require.LessOrEqual(t, e.TrackedIPs(), 1000)
	}
	assert.Equal(t, int64(49_000), e.Stats.EvictedIPs)
	// The newest IPs survive: an attacker's burst after the spray still alerts.
	for i := int64(0); i < 6; i++ {
		e.Observe(50_001+i, farWall, 0)
		e.Failure(0, attacker, 50_001+i, nil)
	}
	assert.Len(t, e.Logon(attacker, 50_010, "h", 1, nil), 1)
}

func TestPendingLogonsNeverExceedTheBound(t *testing.T) {
	cfg := testConfig()
	cfg.MaxPendingLogons = 10
	e := New[int](cfg)
	for i := 0; i < 100; i++ {
		ip := netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})
		e.Observe(int64(i+1), farWall, 0)
		e.Logon(ip, int64(i+1), "h", i, nil)
		require.LessOrEqual(t, e.PendingLogons(), 10)
	}
	assert.Equal(t, int64(90), e.Stats.EvictedLogons)
}

func TestStateExpiresWithTheClock(t *testing.T) {
	cfg := testConfig()
	e := New[int](cfg)
	e.Observe(10, farWall, 0)
	e.Failure(0, attacker, 10, nil)
	e.Logon(netip.MustParseAddr("198.51.100.1"), 10, "h", 1, nil)
	require.Equal(t, 1, e.TrackedIPs())
	require.Equal(t, 1, e.PendingLogons())
	e.Observe(10+2*cfg.Window, farWall, 0)
	assert.Equal(t, 1, e.TrackedIPs(), "still within two windows of the clock")
	e.Observe(11+2*cfg.Window, farWall, 0)
	assert.Equal(t, 0, e.TrackedIPs())
	assert.Equal(t, 0, e.PendingLogons())
}

func TestClock(t *testing.T) {
	cfg := testConfig()
	e := New[int](cfg)
	const wall, skew = 1_000_000, 1000
	assert.Equal(t, Future, e.Observe(wall+skew+1, wall, skew), "beyond the skew")
	assert.Equal(t, int64(0), e.Clock(), "a future event does not move the clock")
	assert.Equal(t, Current, e.Observe(wall+skew, wall, skew))
	assert.Equal(t, Late, e.Observe(wall+skew-cfg.Window-1, wall, skew))
	assert.Equal(t, Current, e.Observe(wall+skew-cfg.Window, wall, skew))
}

func TestSuppress(t *testing.T) {
	cfg := testConfig()
	cfg.Suppress = 50
	events := failures(0, attacker, 10, 11, 12, 13, 14, 15)
	events = append(events, logon(1, attacker, 20), logon(2, attacker, 60), logon(3, attacker, 71))
	assert.Equal(t, map[[2]int]bool{{1, 0}: true, {3, 0}: true}, keys(run(t, cfg, events)))
}

// compactOneAtATime is compact as first written: the fast rule and redundant tried on each failure,
// dropping one at a time; its counts are made by a plain scan of the list, not by binary search.
// compact must keep exactly what it keeps.
func compactOneAtATime(f []int64, w int64, k int) []int64 {
	others := func(f []int64, j int, a, w int64) int {
		n := 0
		for i, x := range f {
			if i != j && x >= a && x <= a+w {
				n++
			}
		}
		return n
	}
	redundant := func(f []int64, j int, w int64, k int) bool {
		x := f[j]
		if others(f, j, x-w, w) < k {
			return false
		}
		for i := j - 1; i >= 0 && f[i] >= x-w; i-- {
			if f[i] != x && others(f, j, f[i]+1, w) < k {
				return false
			}
		}
		return true
	}
	for j := 0; j < len(f); {
		if j >= k && j+k < len(f) && f[j+k]-f[j-k] <= w || redundant(f, j, w, k) {
			f = slices.Delete(f, j, j+1)
			continue
		}
		j++
	}
	return f
}

// TestCompactMatchesOneAtATime: compact drops runs of failures at once and rules some out by their
// positions alone; what it keeps is what dropping one at a time keeps, for bursts (many failures
// inside one window, as a spray makes), duplicates and spread-out failures.
func TestCompactMatchesOneAtATime(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for iter := 0; iter < 20_000; iter++ {
		k := 1 + rng.IntN(7)
		w := int64(1 + rng.IntN(200))
		f := make([]int64, rng.IntN(80))
		spread := []int64{3, 50, 1000, 100_000}[rng.IntN(4)] // 3: mostly duplicates; 100_000: few in a window
		for i := range f {
			f[i] = rng.Int64N(spread)
		}
		slices.Sort(f)
		want := compactOneAtATime(slices.Clone(f), w, k)
		require.Equal(t, want, compact(slices.Clone(f), w, k), "k=%d w=%d f=%v", k, w, f)
	}
}

// TestLogonHeapAgainstSort: the heap of waiting successes, after any pushes and removals, has the
// first in the order of expiry at its root, and every success knows its position.
func TestLogonHeapAgainstSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var h logonHeap[int]
	var model []*pendingLogon[int]
	for step := 0; step < 20_000; step++ {
		if len(h) > 200 || len(h) > 0 && rng.IntN(3) == 0 {
			l := h[rng.IntN(len(h))]
			h.remove(l.heapIdx)
			model = slices.DeleteFunc(model, func(m *pendingLogon[int]) bool { return m == l })
		} else {
			l := &pendingLogon[int]{due: rng.Int64N(50), seq: uint64(step)}
			h.push(l)
			model = append(model, l)
		}
		require.Len(t, h, len(model))
		for i, l := range h {
			if l.heapIdx != i {
				t.Fatalf("step %d: position %d holds heapIdx %d", step, i, l.heapIdx)
			}
		}
		if len(model) > 0 {
			first := slices.MinFunc(model, func(a, b *pendingLogon[int]) int {
				if a.before(b) {
					return -1
				}
				return 1
			})
			require.Same(t, first, h[0], "step %d", step)
		}
	}
}
