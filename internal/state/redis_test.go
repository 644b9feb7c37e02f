//go:build redis

package state

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secops-otel/aadhostlogincorrelation/internal/alert"
	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/redistest"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window/windowtest"
)

// step is one input of a scenario: a failure of a table, or a logon with an id.
type step struct {
	logon bool
	id    int
	table int
	ip    netip.Addr
	t     int64
}

func fail(table int, ip netip.Addr, times ...int64) []step {
	var out []step
	for _, t := range times {
		out = append(out, step{table: table, ip: ip, t: base + t})
	}
	return out
}

func logonAt(id int, ip netip.Addr, t int64) step {
	return step{logon: true, id: id, ip: ip, t: base + t}
}

func cat(parts ...[]step) []step { return slices.Concat(parts...) }

func (s step) event(host string) Event {
	ev := Event{Logon: s.logon, Table: s.table, Addr: s.ip, Time: s.t}
	if s.logon {
		ev.Payload = &alert.Logon{Kind: classify.LinuxLogon, Addr: s.ip.Unmap(), Time: s.t,
			Cols: classify.Columns{classify.HostComputer: host, classify.HostLogonUser: strconv.Itoa(s.id)}}
	}
	return ev
}

// fed is what a scenario produced: the (logon id, table) pairs that alerted and every verdict.
type fed struct {
	alerts   map[[2]int]Alert
	verdicts []window.Verdict
}

// feed gives b the steps in batches of batchSize and collects the alerts, failing the test if a
// pair alerts twice.
func feed(t testing.TB, b Backend, steps []step, batchSize int, into *fed) {
	t.Helper()
	if into.alerts == nil {
		into.alerts = map[[2]int]Alert{}
	}
	for start := 0; start < len(steps); start += batchSize {
		batch := steps[start:min(start+batchSize, len(steps))]
		events := make([]Event, len(batch))
		for i, s := range batch {
			events[i] = s.event("host")
		}
		out, err := b.Apply(context.Background(), farWall, 0, events, nil)
		require.NoError(t, err)
		for _, ev := range events {
			into.verdicts = append(into.verdicts, ev.Verdict)
		}
		for _, a := range out {
			id, err := strconv.Atoi(a.Payload.Cols[classify.HostLogonUser])
			require.NoError(t, err)
			k := [2]int{id, a.Table}
			if _, dup := into.alerts[k]; dup {
				t.Fatalf("logon %d alerted twice for table %d", id, a.Table)
			}
			into.alerts[k] = a
		}
	}
}

func alertKeys(m map[[2]int]Alert) map[[2]int]bool {
	out := map[[2]int]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// reference decides a scenario by brute force (windowtest.Reference).
func reference(cfg window.Config, steps []step) map[[2]int]bool {
	wt := make([]windowtest.Event, len(steps))
	for i, s := range steps {
		wt[i] = windowtest.Event{Logon: s.logon, ID: s.id, Table: s.table, IP: s.ip, T: s.t}
	}
	return windowtest.Reference(cfg.Threshold, cfg.Window, cfg.Tables, wt)
}

func testConfig() window.Config {
	return window.Config{Threshold: 5, Window: 100, Tables: 2, MaxTrackedIPs: 1 << 20, MaxPendingLogons: 1 << 20}
}

var prefixSeq struct {
	sync.Mutex
	n int
}

// newRedis returns a backend on srv under a key prefix of its own.
func newRedis(t testing.TB, srv *redistest.Server, cfg window.Config) *Redis {
	t.Helper()
	prefixSeq.Lock()
	prefixSeq.n++
	prefix := fmt.Sprintf("t%d:", prefixSeq.n)
	prefixSeq.Unlock()
	return newRedisPrefix(t, srv, cfg, prefix)
}

func newRedisPrefix(t testing.TB, srv *redistest.Server, cfg window.Config, prefix string) *Redis {
	t.Helper()
	r := NewRedis(RedisOptions{Addr: srv.Addr(), KeyPrefix: prefix, Timeout: 2 * time.Second}, cfg)
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

// TestRedisBoundaries runs every case of internal/window's TestBoundaries through Redis, at a
// realistic magnitude (nanoseconds of 2025) where the inclusive boundary is one nanosecond wide.
func TestRedisBoundaries(t *testing.T) {
	srv := redistest.Start(t)
	cfg := testConfig() // threshold 5, window 100 ns
	cases := []struct {
		name  string
		steps []step
		want  map[[2]int]bool
	}{
		{"exactly threshold failures: no alert",
			cat(fail(0, attacker, 10, 11, 12, 13, 14), []step{logonAt(1, attacker, 20)}), map[[2]int]bool{}},
		{"one more than threshold: alert",
			cat(fail(0, attacker, 10, 11, 12, 13, 14, 15), []step{logonAt(1, attacker, 20)}), map[[2]int]bool{{1, 0}: true}},
		{"span exactly window: alert",
			cat(fail(0, attacker, 10, 11, 12, 13, 14, 15), []step{logonAt(1, attacker, 110)}), map[[2]int]bool{{1, 0}: true}},
		{"span one nanosecond over window: no alert",
			cat(fail(0, attacker, 10, 11, 12, 13, 14, 15), []step{logonAt(1, attacker, 111)}), map[[2]int]bool{}},
		{"failures spread over more than window around the logon: no alert",
			cat(fail(0, attacker, 10, 11, 12, 112, 113, 114), []step{logonAt(1, attacker, 111)}), map[[2]int]bool{}},
		{"logon before the failures, within window: alert",
			cat([]step{logonAt(1, attacker, 10)}, fail(0, attacker, 50, 60, 70, 80, 90, 110)), map[[2]int]bool{{1, 0}: true}},
		{"logon before the failures, one nanosecond too early: no alert",
			cat([]step{logonAt(1, attacker, 9)}, fail(0, attacker, 50, 60, 70, 80, 90, 110)), map[[2]int]bool{}},
		{"failures arriving after the logon, with earlier event times: alert",
			cat([]step{logonAt(1, attacker, 60)}, fail(0, attacker, 10, 11, 12, 13, 14, 15)), map[[2]int]bool{{1, 0}: true}},
		{"tables are counted separately: 4 + 4 no alert",
			cat(fail(0, attacker, 10, 11, 12, 13), fail(1, attacker, 10, 11, 12, 13), []step{logonAt(1, attacker, 20)}), map[[2]int]bool{}},
		{"a logon alerts once for each table",
			cat(fail(0, attacker, 10, 11, 12, 13, 14, 15), fail(1, attacker, 10, 11, 12, 13, 14, 15), []step{logonAt(1, attacker, 20)}),
			map[[2]int]bool{{1, 0}: true, {1, 1}: true}},
		{"other IPs' failures do not count",
			cat(fail(0, attacker, 10, 11, 12), fail(0, other, 13, 14, 15), []step{logonAt(1, attacker, 20)}), map[[2]int]bool{}},
		{"IPv4-mapped IPv6 is the same address",
			cat(fail(0, attacker, 10, 11, 12, 13, 14, 15), []step{logonAt(1, netip.MustParseAddr("::ffff:203.0.113.7"), 20)}), map[[2]int]bool{{1, 0}: true}},
		{"more failures after alerting do not alert again",
			cat(fail(0, attacker, 10, 11, 12, 13, 14, 15), []step{logonAt(1, attacker, 20)}, fail(0, attacker, 21, 22)), map[[2]int]bool{{1, 0}: true}},
		{"IPv6",
			cat(fail(1, v6, 10, 11, 12, 13, 14, 15), []step{logonAt(1, v6, 110)}), map[[2]int]bool{{1, 1}: true}},
		{"late event (older than clock - window) is not taken",
			cat([]step{logonAt(1, attacker, 300)}, fail(0, attacker, 199, 250, 251, 252, 253, 254)), map[[2]int]bool{}},
		{"event exactly at clock - window is taken",
			cat([]step{logonAt(1, attacker, 300)}, fail(0, attacker, 200, 250, 251, 252, 253, 254)), map[[2]int]bool{{1, 0}: true}},
	}
	for _, tc := range cases {
		for _, batch := range []int{1, 3, 100} {
			t.Run(fmt.Sprintf("%s/batch %d", tc.name, batch), func(t *testing.T) {
				var got fed
				feed(t, newRedis(t, srv, cfg), tc.steps, batch, &got)
				assert.Equal(t, tc.want, alertKeys(got.alerts))
				assert.Equal(t, tc.want, reference(cfg, tc.steps), "reference disagrees with the case")
			})
		}
	}
}

// TestRedisNanosecondResolution checks the inclusive boundary of a realistic window that is not a
// whole number of microseconds, at every nanosecond offset below the microsecond.
func TestRedisNanosecondResolution(t *testing.T) {
	srv := redistest.Start(t)
	cfg := testConfig()
	cfg.Window = int64(24*time.Hour) + 123
	for _, sub := range []int64{0, 1, 122, 123, 124, 876, 877, 999} {
		for _, over := range []int64{0, 1} {
			t0 := (base/1000)*1000 + sub
			steps := []step{{logon: true, id: 1, ip: attacker, t: t0}}
			for i := int64(0); i < 6; i++ {
				steps = append(steps, step{ip: attacker, t: t0 + cfg.Window + over - i})
			}
			want := map[[2]int]bool{}
			if over == 0 {
				want[[2]int{1, 0}] = true
			}
			var got fed
			feed(t, newRedis(t, srv, cfg), steps, 10, &got)
			assert.Equal(t, want, alertKeys(got.alerts), "sub-microsecond %d, %d ns over the window", sub, over)
			assert.Equal(t, want, reference(cfg, steps))
		}
	}
}

func TestRedisCountTogether(t *testing.T) {
	srv := redistest.Start(t)
	cfg := testConfig()
	cfg.Tables = 1
	var got fed
	feed(t, newRedis(t, srv, cfg), cat(fail(0, attacker, 10, 11, 12), fail(1, attacker, 13, 14, 15), []step{logonAt(1, attacker, 20)}), 2, &got)
	assert.Equal(t, map[[2]int]bool{{1, 0}: true}, alertKeys(got.alerts))
}

func TestRedisAlertCarriesTheFiringInterval(t *testing.T) {
	srv := redistest.Start(t)
	for _, logonFirst := range []bool{false, true} {
		steps := fail(0, attacker, 5, 10, 11, 12, 13, 14, 15, 110)
		if logonFirst {
			steps = cat([]step{logonAt(7, attacker, 20)}, steps)
		} else {
			steps = append(steps, logonAt(7, attacker, 20))
		}
		var got fed
		feed(t, newRedis(t, srv, testConfig()), steps, 1, &got)
		a := got.alerts[[2]int{7, 0}]
		if !logonFirst {
			assert.Equal(t, 7, a.Count) // the first interval that fires holds 5 and 10-15
		}
		assert.Equal(t, base+5, a.First)
		assert.Equal(t, attacker, a.Addr)
		assert.Equal(t, base+20, a.Time)
		assert.Equal(t, "host", a.Host)
		assert.Equal(t, "7", a.Payload.Cols[classify.HostLogonUser])
	}
}

func TestRedisSuppress(t *testing.T) {
	srv := redistest.Start(t)
	cfg := testConfig()
	cfg.Suppress = 50
	steps := cat(fail(0, attacker, 10, 11, 12, 13, 14, 15), []step{logonAt(1, attacker, 20), logonAt(2, attacker, 69), logonAt(3, attacker, 70)})
	var got fed
	feed(t, newRedis(t, srv, cfg), steps, 1, &got)
	assert.Equal(t, map[[2]int]bool{{1, 0}: true, {3, 0}: true}, alertKeys(got.alerts), "|t - last| < suppress is suppressed, = is not")
}

// scenario is a random mix of failures and logons from a few addresses, in an arrival order that
// is sorted by time with jitter (the larger the jitter, the more disorder and late events).
func scenario(rng *rand.Rand, n int, jitter, span int64) []step {
	ips := []netip.Addr{attacker, v6, other}
	var steps []step
	for i := 0; i < n; i++ {
		s := step{ip: ips[rng.IntN(len(ips))], t: base + 1 + rng.Int64N(span), table: rng.IntN(2)}
		if rng.IntN(4) == 0 {
			s.logon, s.id = true, i
		}
		steps = append(steps, s)
	}
	return windowtest.Arrival(rng, steps, func(s step) int64 { return s.t }, jitter)
}

// TestRedisMatchesMemory feeds random scenarios to the memory backend and to Redis, in random
// batches, and wants the same alerts (with the same firing intervals) and the same verdicts.
func TestRedisMatchesMemory(t *testing.T) {
	srv := redistest.Start(t)
	rng := rand.New(rand.NewPCG(5, 6))
	scenarios := 400
	if testing.Short() {
		scenarios = 50
	}
	for sc := 0; sc < scenarios; sc++ {
		cfg := window.Config{
			Threshold: rng.IntN(5), Window: 100 + rng.Int64N(2000), Tables: 1 + rng.IntN(2),
			MaxTrackedIPs: 1 << 20, MaxPendingLogons: 1 << 20,
		}
		if rng.IntN(3) == 0 {
			cfg.Suppress = 1 + rng.Int64N(3*cfg.Window)
		}
		jitter := []int64{0, cfg.Window / 3, 2 * cfg.Window, 10 * cfg.Window}[rng.IntN(4)]
		steps := scenario(rng, 5+rng.IntN(80), jitter, 5*cfg.Window)
		batch := 1 + rng.IntN(20)

		var mem, red fed
		memory, redis := NewMemory(cfg), newRedis(t, srv, cfg)
		feed(t, memory, steps, batch, &mem)
		feed(t, redis, steps, batch, &red)
		ok := assert.Equal(t, mem.verdicts, red.verdicts, "scenario %d verdicts", sc)
		ok = assert.Equal(t, alertKeys(mem.alerts), alertKeys(red.alerts), "scenario %d cfg %+v", sc, cfg) && ok
		if cfg.Suppress == 0 {
			ok = assert.Equal(t, reference(cfg, steps), alertKeys(red.alerts), "scenario %d: reference", sc) && ok
		}
		// Compaction keeps decisions, not counts: compare the firing intervals when neither compacted.
		compacted := memory.Counters().FailuresCompacted+redis.Counters().FailuresCompacted > 0
		for k, m := range mem.alerts {
			if compacted {
				break
			}
			r := red.alerts[k]
			ok = assert.Equal(t, [3]int64{int64(m.Count), m.First, m.Last}, [3]int64{int64(r.Count), r.First, r.Last},
				"scenario %d alert %v: count, first, last", sc, k) && ok
		}
		if !ok {
			for _, s := range steps {
				t.Logf("%+v (t = base%+d)", s, s.t-base)
			}
			t.FailNow()
		}
	}
}

// TestRedisFleetExactlyOnce splits scenarios between collectors (one backend each, one Redis):
// batch by batch in turn, the alerts are those of one collector that saw everything; concurrently
// (no event late, so the outcome does not depend on the interleaving) they are the reference's,
// and every pair alerts exactly once between them.
func TestRedisFleetExactlyOnce(t *testing.T) {
	srv := redistest.Start(t)
	rng := rand.New(rand.NewPCG(7, 8))
	cfg := testConfig()
	cfg.Window = 1000

	t.Run("in turn", func(t *testing.T) {
		for sc := 0; sc < 100; sc++ {
			steps := scenario(rng, 20+rng.IntN(80), cfg.Window/2, 3*cfg.Window)
			prefix := fmt.Sprintf("turn%d:", sc)
			fleet := []*Redis{newRedisPrefix(t, srv, cfg, prefix), newRedisPrefix(t, srv, cfg, prefix), newRedisPrefix(t, srv, cfg, prefix)}
			var one, all fed
			batch := 1 + rng.IntN(5)
			feed(t, NewMemory(cfg), steps, batch, &one)
			for i, start := 0, 0; start < len(steps); i, start = i+1, start+batch {
				feed(t, fleet[i%len(fleet)], steps[start:min(start+batch, len(steps))], batch, &all)
			}
			require.Equal(t, alertKeys(one.alerts), alertKeys(all.alerts), "scenario %d", sc)
		}
	})

	t.Run("concurrently", func(t *testing.T) {
		for sc := 0; sc < 30; sc++ {
			steps := scenario(rng, 200, 0, cfg.Window/2) // all within half a window: nothing is late
			prefix := fmt.Sprintf("conc%d:", sc)
			halves := [2][]step{}
			for i, s := range steps {
				halves[i%2] = append(halves[i%2], s)
			}
			var mu sync.Mutex
			seen := map[[2]int]int{}
			var wg sync.WaitGroup
			for h := range halves {
				b := newRedisPrefix(t, srv, cfg, prefix)
				wg.Add(1)
				go func() { // no require here: t.FailNow belongs to the test's goroutine
					defer wg.Done()
					for start := 0; start < len(halves[h]); start += 3 {
						var events []Event
						for _, s := range halves[h][start:min(start+3, len(halves[h]))] {
							events = append(events, s.event("host"))
						}
						out, err := b.Apply(context.Background(), farWall, 0, events, nil)
						if !assert.NoError(t, err) {
							return
						}
						mu.Lock()
						for _, a := range out {
							id, _ := strconv.Atoi(a.Payload.Cols[classify.HostLogonUser])
							seen[[2]int{id, a.Table}]++
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			want := reference(cfg, steps)
			got := map[[2]int]bool{}
			for k, n := range seen {
				assert.Equal(t, 1, n, "scenario %d: %v alerted %d times", sc, k, n)
				got[k] = true
			}
			require.Equal(t, want, got, "scenario %d", sc)
		}
	})
}

// TestRedisSharedClock: the late rule uses the fleet's clock, so a collector that saw only old
// events still refuses what is late for the fleet.
func TestRedisSharedClock(t *testing.T) {
	srv := redistest.Start(t)
	cfg := testConfig()
	a, b := newRedisPrefix(t, srv, cfg, "clock:"), newRedisPrefix(t, srv, cfg, "clock:")
	var fa, fb fed
	feed(t, a, fail(0, attacker, 1000), 1, &fa)
	feed(t, b, fail(0, attacker, 899, 900), 1, &fb)
	assert.Equal(t, []window.Verdict{window.Late, window.Current}, fb.verdicts)
	assert.Equal(t, base+1000, b.Clock())
}

func TestRedisFutureEventsStayLocal(t *testing.T) {
	srv := redistest.Start(t)
	r := newRedis(t, srv, testConfig())
	before := srv.Scripts()
	events := []Event{fail(0, attacker, 10)[0].event("")}
	_, err := r.Apply(context.Background(), base, 5, events, nil)
	require.NoError(t, err)
	assert.Equal(t, window.Future, events[0].Verdict)
	_, err = r.Apply(context.Background(), base, 5, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, before, srv.Scripts(), "nothing to send: no round trip")
	batches, _ := r.RoundTrips()
	assert.Zero(t, batches)
}

// TestRedisOneRoundTripPerBatch counts, on the server, the scripts run per batch.
func TestRedisOneRoundTripPerBatch(t *testing.T) {
	srv := redistest.Start(t)
	r := newRedis(t, srv, testConfig())
	rng := rand.New(rand.NewPCG(9, 10))
	steps := scenario(rng, 1000, 50, 10_000)
	for i, start := 0, 0; start < len(steps); i, start = i+1, start+100 {
		before := srv.Scripts()
		var got fed
		feed(t, r, steps[start:start+100], 100, &got)
		assert.Equal(t, 1, srv.Scripts()-before, "batch %d: scripts run", i)
	}
	requests, scriptSent := r.RoundTrips()
	assert.Equal(t, int64(10), requests)
	assert.Equal(t, int64(1), scriptSent, "the script is sent once, then run by its digest")
}

// TestRedisStateExpires: once the fleet's clock is two windows past an IP's newest failure and
// a logon's time, their keys are gone; and every key carries a TTL. Expiry never changes a
// decision and works on whole microseconds (state may outlive the horizon by less than one), so
// this test's window is in microseconds.
func TestRedisStateExpires(t *testing.T) {
	srv := redistest.Start(t)
	cfg := testConfig()
	cfg.Window = 100_000
	cfg.Suppress = 10_000
	us := func(n int64) int64 { return n * 1000 }
	r := newRedisPrefix(t, srv, cfg, "exp:")
	var got fed
	feed(t, r, cat(fail(0, attacker, us(10), us(11), us(12), us(13), us(14), us(15)), fail(1, v6, us(10)),
		[]step{logonAt(1, attacker, us(20)), logonAt(2, other, us(10))}), 100, &got)
	require.Len(t, got.alerts, 1)
	ips, logons := r.Sizes()
	assert.Equal(t, 2, ips)
	assert.Equal(t, 2, logons)
	for _, k := range srv.Keys("exp:") {
		ttl, err := srv.Do("PTTL", k)
		require.NoError(t, err)
		n, _ := strconv.Atoi(ttl)
		assert.Positive(t, n, "key %s has no TTL", k)
		assert.LessOrEqual(t, n, int(minTTL/time.Millisecond))
	}
	assert.Greater(t, len(srv.Keys("exp:")), 6)

	spray := netip.MustParseAddr("192.0.2.1")
	feed(t, r, fail(0, spray, us(10)+2*cfg.Window), 1, &got)
	assert.Contains(t, srv.Keys("exp:"), "exp:f:0|"+AddrID(attacker), "still within two windows of the clock")
	assert.Contains(t, srv.Keys("exp:"), "exp:w:0|"+AddrID(other), "still within two windows of the clock")
	feed(t, r, fail(0, spray, us(21)+2*cfg.Window), 1, &got)
	keys := srv.Keys("exp:")
	sort.Strings(keys)
	// The suppress mark of the alert at 20 µs stays while a logon it holds back (up to 30 µs) may
	// still alert: until the clock is two windows past 30 µs.
	assert.Equal(t, []string{"exp:clock", "exp:f:0|" + AddrID(spray), "exp:ips", "exp:marks", "exp:newest",
		"exp:s:0|0|" + AddrID(attacker) + "|host", "exp:seq"}, keys)
	feed(t, r, fail(0, spray, us(30)+2*cfg.Window-1), 1, &got)
	assert.Contains(t, srv.Keys("exp:"), "exp:s:0|0|"+AddrID(attacker)+"|host", "a logon at 30 µs - 1 ns may still alert")
	feed(t, r, fail(0, spray, us(30)+2*cfg.Window), 1, &got)
	assert.NotContains(t, srv.Keys("exp:"), "exp:s:0|0|"+AddrID(attacker)+"|host")
	assert.NotContains(t, srv.Keys("exp:"), "exp:marks")
	ips, logons = r.Sizes()
	assert.Equal(t, 1, ips)
	assert.Equal(t, 0, logons)
	c := r.Counters()
	assert.Equal(t, int64(2), c.ExpiredIPs)
	assert.Equal(t, int64(2), c.ExpiredLogons)
}

func TestRedisBurstFromOneIPStaysBounded(t *testing.T) {
	srv := redistest.Start(t)
	cfg := testConfig()
	cfg.Window = 100_000 // 100 µs, a failure every µs
	r := newRedisPrefix(t, srv, cfg, "burst:")
	var steps []step
	for i := int64(1); i <= 5000; i++ {
		steps = append(steps, step{ip: attacker, t: base + i*1000})
	}
	var got fed
	feed(t, r, steps, 500, &got)
	n, err := srv.Do("ZCARD", "burst:f:0|"+AddrID(attacker))
	require.NoError(t, err)
	card, _ := strconv.Atoi(n)
	assert.LessOrEqual(t, card, 6*(cfg.Threshold+1))
	assert.Positive(t, r.Counters().FailuresCompacted)
	feed(t, r, []step{logonAt(1, attacker, 5000*1000)}, 1, &got)
	assert.Len(t, got.alerts, 1)
}

// TestRedisCorruptWaitingLogon: a waiting logon whose payload cannot be decoded is counted as an
// error and the rest of the batch goes on.
func TestRedisCorruptWaitingLogon(t *testing.T) {
	srv := redistest.Start(t)
	r := newRedisPrefix(t, srv, testConfig(), "corrupt:")
	var got fed
	feed(t, r, []step{logonAt(1, attacker, 20), logonAt(2, attacker, 21)}, 1, &got)
	keys := srv.Keys("corrupt:l:")
	require.Len(t, keys, 2)
	// Keep the header (rule, done, ns, lengths) and what it describes; replace the encoded payload.
	v, err := srv.Do("GET", keys[0])
	require.NoError(t, err)
	header, rest, _ := strings.Cut(v, "\n")
	f := strings.Fields(header)
	require.Len(t, f, 6)
	n := 0
	for _, l := range f[3:] {
		x, _ := strconv.Atoi(l)
		n += x
	}
	_, err = srv.Do("SET", keys[0], header+"\n"+rest[:n]+"\x01garbage")
	require.NoError(t, err)
	feed(t, r, fail(0, attacker, 10, 11, 12, 13, 14, 15), 10, &got)
	assert.Len(t, got.alerts, 1)
	assert.Equal(t, int64(1), r.Counters().Errors)
}

// slack is what a loaded test machine (race detector, parallel builds) may add to the timeout.
const slack = 500 * time.Millisecond

// TestRedisDownAndBack: with Redis stopped or paused every batch fails within the timeout; once
// it is back (empty, so the script must be sent again) correlation resumes.
func TestRedisDownAndBack(t *testing.T) {
	srv := redistest.Start(t)
	const timeout = 300 * time.Millisecond
	r := NewRedis(RedisOptions{Addr: srv.Addr(), KeyPrefix: "down:", Timeout: timeout}, testConfig())
	defer func() { _ = r.Close(context.Background()) }()
	apply := func(steps []step) ([]Alert, time.Duration, error) {
		events := make([]Event, len(steps))
		for i, s := range steps {
			events[i] = s.event("host")
		}
		start := time.Now()
		out, err := r.Apply(context.Background(), farWall, 0, events, nil)
		return out, time.Since(start), err
	}

	out, _, err := apply(cat(fail(0, attacker, 10, 11, 12, 13, 14, 15), []step{logonAt(1, attacker, 20)}))
	require.NoError(t, err)
	require.Len(t, out, 1)

	srv.Stop()
	for i := 0; i < 5; i++ {
		_, took, err := apply(fail(0, attacker, 30))
		require.Error(t, err)
		assert.Less(t, took, timeout+slack, "a batch waited %v with Redis down", took)
	}

	srv.Restart()
	require.Eventually(t, func() bool {
		_, _, err := apply(fail(0, other, 40))
		return err == nil
	}, 10*time.Second, 50*time.Millisecond, "correlation resumes when Redis is back")
	out, _, err = apply(cat(fail(1, attacker, 50, 51, 52, 53, 54, 55), []step{logonAt(2, attacker, 60)}))
	require.NoError(t, err)
	require.Len(t, out, 1)
	_, scriptSent := r.RoundTrips()
	assert.Equal(t, int64(2), scriptSent, "the script is sent again after the restart")

	// A paused (slow) server: the batch gives up at the timeout.
	_, err = srv.Do("CLIENT", "PAUSE", "2000", "ALL")
	require.NoError(t, err)
	_, took, err := apply(fail(0, attacker, 70))
	require.Error(t, err)
	assert.Less(t, took, timeout+slack)
	assert.True(t, strings.Contains(err.Error(), "timeout") || strings.Contains(err.Error(), "deadline"), err.Error())
}

// documentedACL returns README.md's least-privilege rule set for a collector's Redis user (its one
// ACL SETUSER line), with password in place of PASSWORD, and the key prefix its key pattern allows:
// the test runs what the docs say, so they cannot drift apart.
func documentedACL(t *testing.T, password string) (command []string, prefix string) {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(readme), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == "ACL" && f[1] == "SETUSER" {
			require.Nil(t, command, "README.md has more than one ACL SETUSER line")
			command = f
		}
	}
	require.NotNil(t, command, "README.md has no ACL SETUSER line")
	for i, arg := range command {
		switch {
		case arg == ">PASSWORD":
			command[i] = ">" + password
		case strings.HasPrefix(arg, "~"):
			require.Empty(t, prefix, "one key pattern")
			prefix = strings.TrimSuffix(strings.TrimPrefix(arg, "~"), "*")
		}
	}
	require.Contains(t, command, ">"+password)
	require.NotEmpty(t, prefix)
	return command, prefix
}

// TestRedisACLUser runs every path of the script (alerts, waiting, suppress, compaction, eviction,
// expiry) as a Redis user with exactly README.md's rule set, authenticated with a username and
// password, in the default database and in another one (db: the client selects it on connect).
func TestRedisACLUser(t *testing.T) {
	for _, db := range []int{0, 3} {
		t.Run(fmt.Sprintf("db %d", db), func(t *testing.T) {
			srv := redistest.Start(t)
			acl, prefix := documentedACL(t, "s3cret")
			_, err := srv.Do(acl...)
			require.NoError(t, err)
			cfg := testConfig()
			cfg.Suppress = 5
			cfg.MaxTrackedIPs, cfg.MaxPendingLogons = 2, 2
			r := NewRedis(RedisOptions{Addr: srv.Addr(), Username: "collector", Password: "s3cret", DB: db, KeyPrefix: prefix, Timeout: 2 * time.Second}, cfg)
			defer func() { _ = r.Close(context.Background()) }()
			require.NoError(t, r.Ping(context.Background()))
			var burst []step
			for i := int64(0); i < 40; i++ {
				burst = append(burst, step{ip: attacker, t: base + 1000 + i})
			}
			steps := cat(
				[]step{logonAt(1, other, 1000), logonAt(2, attacker, 1001), logonAt(3, v6, 1002)}, // 1 is evicted
				burst, fail(0, other, 1001), fail(0, v6, 1002), // other is evicted
				[]step{logonAt(4, attacker, 1050), logonAt(5, attacker, 1052)}, // 5 is suppressed
				fail(0, other, 5000), // everything before expires
			)
			var got fed
			feed(t, r, steps, 7, &got)
			assert.Equal(t, map[[2]int]bool{{2, 0}: true, {4, 0}: true}, alertKeys(got.alerts))
			c := r.Counters()
			assert.Positive(t, c.FailuresCompacted)
			assert.Positive(t, c.EvictedIPs)
			assert.Positive(t, c.EvictedLogons)
			assert.Positive(t, c.Suppressed)
			assert.Positive(t, c.ExpiredIPs+c.ExpiredLogons)
			assert.Zero(t, c.Errors)
			assert.Contains(t, srv.KeysIn(db, prefix), prefix+"clock", "the state is in db %d", db)
			for _, elsewhere := range []int{0, 3} {
				if elsewhere != db {
					assert.Empty(t, srv.KeysIn(elsewhere, prefix), "nothing in db %d", elsewhere)
				}
			}

			wrong := NewRedis(RedisOptions{Addr: srv.Addr(), Username: "collector", Password: "wrong", DB: db, KeyPrefix: prefix, Timeout: time.Second}, cfg)
			defer func() { _ = wrong.Close(context.Background()) }()
			_, err = wrong.Apply(context.Background(), farWall, 0, []Event{fail(0, attacker, 1)[0].event("")}, nil)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "wrong", "the password never appears in an error")
		})
	}
}
