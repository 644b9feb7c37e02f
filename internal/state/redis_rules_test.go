//go:build redis

package state

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/redistest"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window/windowtest"
)

// Several rules at once (rules as data): random rule sets with their own thresholds, windows and
// suppress, some sharing counters, through Redis and memory, against the model and against each
// other.

// Scenario flavours: spread over five addresses; dense, one or two addresses under many failures
// (compaction with each counter's threshold and window); ties, rules of one window and suppress
// over a few distinct times (due times tie across rules, counters, addresses and hosts).
const (
	spread = iota
	dense
	ties
	flavours
)

// rulesScenario draws one to three rules (a rule with the threshold and window of an earlier one
// may share some of its counters), both bounds (small enough to evict, or not) and events over a few
// addresses and hosts: failures of every counter and of one no rule reads, successes of every rule.
// Times are base plus multiples of 5 units over a few of the longest windows, the unit 1 ns or
// 1 µs: state expires, ties in time and in due time are common and, with the 1 ns unit, times
// differ below the microsecond, where Redis' scores cannot tell them apart and its members must.
func rulesScenario(rng *rand.Rand, flavour int) (window.Config, []windowtest.Event) {
	unit := []int64{1, 1000}[rng.IntN(2)]
	var rules []window.Rule
	next := 0
	for n := 1 + rng.IntN(3); len(rules) < n; {
		r := window.Rule{Threshold: rng.IntN(4), Window: unit * []int64{60, 100, 150}[rng.IntN(3)]}
		if flavour == ties {
			r.Threshold, r.Window = rng.IntN(2), 100*unit
		}
		if len(rules) > 0 && rng.IntN(2) == 0 {
			prev := rules[rng.IntN(len(rules))]
			r.Threshold, r.Window = prev.Threshold, prev.Window
			r.Counters = append(r.Counters, prev.Counters[rng.IntN(len(prev.Counters))])
		}
		for m := 1 + rng.IntN(3); len(r.Counters) < m; next++ {
			r.Counters = append(r.Counters, next)
		}
		switch {
		case flavour == ties && rng.IntN(4) > 0:
			r.Suppress = 60 * unit
		case flavour != ties && rng.IntN(2) == 0:
			r.Suppress = unit * []int64{1, 10, 30, 60}[rng.IntN(4)]
		}
		rules = append(rules, r)
	}
	cfg := window.Config{Rules: rules, MaxTrackedIPs: 1 << 20, MaxPendingLogons: 1 << 20, MaxSuppressMarks: 1 << 20}
	if rng.IntN(2) == 0 {
		cfg.MaxTrackedIPs = 1 + rng.IntN(5)
	}
	if rng.IntN(2) == 0 {
		cfg.MaxPendingLogons = 1 + rng.IntN(4)
	}
	addrs, n, logons, times := modelAddrs, 10+rng.IntN(60), 3, int64(100)
	switch flavour {
	case dense:
		addrs, n, logons, times = modelAddrs[:1+rng.IntN(2)], 100+rng.IntN(100), 8, 60
	case ties:
		n, logons, times = 30+rng.IntN(40), 2, 4
	}
	events := make([]windowtest.Event, n)
	for i := range events {
		events[i] = windowtest.Event{
			ID: i, Logon: rng.IntN(logons) == 0, IP: addrs[rng.IntN(len(addrs))],
			T:     base + unit*(1+5*rng.Int64N(times)),
			Table: rng.IntN(next + 1), // one more: a counter no rule reads
			Rule:  rng.IntN(len(rules)), Host: []string{"web01", "db01"}[rng.IntN(2)],
		}
	}
	return cfg, events
}

// longestWindow is the longest window of cfg's rules.
func longestWindow(cfg window.Config) int64 {
	w := cfg.Window
	for _, r := range cfg.Rules {
		w = max(w, r.Window)
	}
	return w
}

// checkRulesModel asserts that what a backend emitted for one arrival order is what the model
// decides for cfg's rules (windowtest.Check).
func checkRulesModel(t *testing.T, cfg window.Config, arrival []windowtest.Event, emitted []windowtest.Emitted,
	evictedIPs, evictedLogons int64, what string) {
	t.Helper()
	s := windowtest.Settings{MaxTrackedIPs: cfg.MaxTrackedIPs, MaxPendingLogons: cfg.MaxPendingLogons}
	var suppress []int64
	for _, r := range cfg.Rules {
		s.Rules = append(s.Rules, windowtest.RuleSettings{Threshold: r.Threshold, Window: r.Window, Counters: r.Counters})
		suppress = append(suppress, r.Suppress)
	}
	if bad := windowtest.Check(s, suppress, arrival, emitted, evictedIPs, evictedLogons); len(bad) > 0 {
		t.Logf("%s: rules %+v, bounds %d records, %d successes; arrival order:", what, cfg.Rules, cfg.MaxTrackedIPs, cfg.MaxPendingLogons)
		for _, ev := range arrival {
			t.Logf("  %+v (base%+d)", ev, ev.T-base)
		}
		t.Fatalf("%s: %v", what, bad)
	}
}

// rulesScenarios is how many scenarios each test draws, the flavours in turn.
func rulesScenarios() int {
	if testing.Short() {
		return 16 * flavours
	}
	return 80 * flavours
}

// TestRedisAgainstModelSeveralRules is the Redis twin of internal/window's
// TestEngineAgainstModelSeveralRules: random rule sets (shared counters, different windows and
// thresholds, suppress on some) with both bounds, in several arrival orders and random batch sizes,
// straight through and with a restart at a random cut (a new client on the same keys), each run
// checked against the model; the memory backend runs the same batches, restarted from a checkpoint.
func TestRedisAgainstModelSeveralRules(t *testing.T) {
	srv := redistest.Start(t)
	rng := rand.New(rand.NewPCG(31, 32))
	for sc := 0; sc < rulesScenarios(); sc++ {
		cfg, events := rulesScenario(rng, sc%flavours)
		w := longestWindow(cfg)
		for order := 0; order < 3; order++ {
			jitter := []int64{0, w / 2, 3 * w}[order]
			arrival := windowtest.Arrival(rng, events, func(ev windowtest.Event) int64 { return ev.T }, jitter)
			batch := 1 + rng.IntN(8)
			for _, cut := range []int{-1, rng.IntN(len(arrival))} {
				what := fmt.Sprintf("scenario %d order %d batches of %d straight", sc, order, batch)
				if cut >= 0 {
					what = fmt.Sprintf("scenario %d order %d batches of %d restarted at event %d", sc, order, batch, cut)
				}
				emitted, ips, logons := runBackend(t, arrival, batch, cut,
					func() Backend { return NewMemory(cfg) },
					func(b Backend) Backend {
						snap, err := b.(*Memory).Snapshot()
						require.NoError(t, err)
						m := NewMemory(cfg)
						require.NoError(t, m.Restore(snap))
						return m
					})
				checkRulesModel(t, cfg, arrival, emitted, ips, logons, "memory "+what)

				r := newRedis(t, srv, cfg)
				emitted, ips, logons = runBackend(t, arrival, batch, cut,
					func() Backend { return r },
					func(Backend) Backend { return newRedisPrefix(t, srv, cfg, r.prefix) })
				checkRulesModel(t, cfg, arrival, emitted, ips, logons, "redis "+what)
			}
		}
	}
}

// ruleRun is what one backend did with a scenario, batch by batch.
type ruleRun struct {
	verdicts []window.Verdict
	alerts   [][]Alert // per batch, in the order emitted
	sizes    [][2]int  // per batch: tracked records, waiting successes
	counters Counters  // summed over restarts
}

// runRules feeds arrival to b in batches of batch, replacing it by restart before the batch that
// holds event cut (never when cut < 0).
func runRules(t *testing.T, b Backend, arrival []windowtest.Event, batch, cut int, restart func(Backend) Backend) ruleRun {
	t.Helper()
	var run ruleRun
	var before Counters
	for start := 0; start < len(arrival); start += batch {
		end := min(start+batch, len(arrival))
		if cut >= start && cut < end {
			c := b.Counters()
			before = addCounters(before, c)
			b = restart(b)
		}
		events := make([]Event, 0, end-start)
		for _, ev := range arrival[start:end] {
			events = append(events, modelEvent(ev))
		}
		out, err := b.Apply(context.Background(), farWall, 0, events, nil)
		require.NoError(t, err)
		for _, ev := range events {
			run.verdicts = append(run.verdicts, ev.Verdict)
		}
		run.alerts = append(run.alerts, out)
		ips, logons := b.Sizes()
		run.sizes = append(run.sizes, [2]int{ips, logons})
	}
	run.counters = addCounters(before, b.Counters())
	return run
}

func addCounters(a, b Counters) Counters {
	return Counters{Stats: window.Stats{
		EvictedIPs: a.EvictedIPs + b.EvictedIPs, EvictedLogons: a.EvictedLogons + b.EvictedLogons,
		EvictedSuppress: a.EvictedSuppress + b.EvictedSuppress, Suppressed: a.Suppressed + b.Suppressed,
		ExpiredIPs: a.ExpiredIPs + b.ExpiredIPs, ExpiredLogons: a.ExpiredLogons + b.ExpiredLogons,
		FailuresCompacted: a.FailuresCompacted + b.FailuresCompacted,
	}, Errors: a.Errors + b.Errors}
}

// alertSummary is what both backends must agree on about one alert; count, first and last only
// when neither compacted (compaction keeps decisions, not counts).
type alertSummary struct {
	ID, Rule, Table, Counter int
	Addr                     netip.Addr
	Host                     string
	Time                     int64
	Count                    int
	First, Last              int64
}

func summarize(t *testing.T, batches [][]Alert, intervals bool) [][]alertSummary {
	t.Helper()
	var out [][]alertSummary
	for _, batch := range batches {
		var s []alertSummary
		for _, a := range batch {
			id, err := strconv.Atoi(a.Payload.Cols[classify.HostLogonUser])
			require.NoError(t, err)
			x := alertSummary{ID: id, Rule: a.Rule, Table: a.Table, Counter: a.Counter, Addr: a.Addr.Unmap(), Host: a.Host, Time: a.Time}
			if intervals {
				x.Count, x.First, x.Last = a.Count, a.First, a.Last
			}
			s = append(s, x)
		}
		out = append(out, s)
	}
	return out
}

// TestRedisMatchesMemorySeveralRules runs scenarios like TestRedisAgainstModelSeveralRules' (and,
// half of the time, a bound on suppress marks small enough to evict, which the model does not
// decide) through memory and Redis in the same batches, Redis restarted at a random cut, and wants
// the same thing batch by batch: the same verdicts; the same alerts in the same order (success,
// rule, counter and its index, address, host, time; count, first and last failure when neither
// compacted); the same sizes after each batch (both expire what is due by the batch's end); and
// the same evictions and suppressed alerts.
func TestRedisMatchesMemorySeveralRules(t *testing.T) {
	srv := redistest.Start(t)
	rng := rand.New(rand.NewPCG(33, 34))
	for sc := 0; sc < rulesScenarios(); sc++ {
		cfg, events := rulesScenario(rng, sc%flavours)
		if rng.IntN(2) == 0 {
			cfg.MaxSuppressMarks = 1 + rng.IntN(4)
		}
		w := longestWindow(cfg)
		for order := 0; order < 3; order++ {
			jitter := []int64{0, w / 2, 3 * w}[order]
			arrival := windowtest.Arrival(rng, events, func(ev windowtest.Event) int64 { return ev.T }, jitter)
			batch := 1 + rng.IntN(8)
			cut := []int{-1, rng.IntN(len(arrival))}[rng.IntN(2)]

			mem := runRules(t, NewMemory(cfg), arrival, batch, -1, nil)
			r := newRedis(t, srv, cfg)
			red := runRules(t, r, arrival, batch, cut, func(Backend) Backend { return newRedisPrefix(t, srv, cfg, r.prefix) })

			what := fmt.Sprintf("scenario %d order %d batches of %d cut %d", sc, order, batch, cut)
			ok := assert.Equal(t, mem.verdicts, red.verdicts, "%s: verdicts", what)
			intervals := mem.counters.FailuresCompacted+red.counters.FailuresCompacted == 0
			ok = assert.Equal(t, summarize(t, mem.alerts, intervals), summarize(t, red.alerts, intervals), "%s: alerts", what) && ok
			ok = assert.Equal(t, mem.sizes, red.sizes, "%s: tracked records and waiting successes after each batch", what) && ok
			type evictions struct{ IPs, Logons, Marks, Suppressed int64 }
			ok = assert.Equal(t,
				evictions{mem.counters.EvictedIPs, mem.counters.EvictedLogons, mem.counters.EvictedSuppress, mem.counters.Suppressed},
				evictions{red.counters.EvictedIPs, red.counters.EvictedLogons, red.counters.EvictedSuppress, red.counters.Suppressed},
				"%s: evicted records, successes, marks; suppressed", what) && ok
			assert.Zero(t, red.counters.Errors)
			if !ok {
				t.Logf("rules %+v, bounds %d records, %d successes, %d marks; arrival order:",
					cfg.Rules, cfg.MaxTrackedIPs, cfg.MaxPendingLogons, cfg.MaxSuppressMarks)
				for _, ev := range arrival {
					t.Logf("  %+v (base%+d)", ev, ev.T-base)
				}
				t.FailNow()
			}
		}
	}
}

// TestRedisRulesKeys shows the key layout with two rules of different windows that share a counter:
// failures per (counter, address), a success of each rule waiting in the set of its counter,
// suppress marks per (rule, counter, address, host); and each rule's state expiring after its own
// span (the longest window plus its own).
func TestRedisRulesKeys(t *testing.T) {
	srv := redistest.Start(t)
	const us = int64(1000)
	cfg := window.Config{
		Rules: []window.Rule{
			{Threshold: 1, Window: 100 * us, Counters: []int{3}},
			{Threshold: 1, Window: 100 * us, Suppress: 10 * us, Counters: []int{5, 3}},
			{Threshold: 0, Window: 300 * us, Counters: []int{7}},
		},
		MaxTrackedIPs: 100, MaxPendingLogons: 100,
	}
	r := newRedisPrefix(t, srv, cfg, "rk:")
	ip := AddrID(attacker)
	apply := func(events ...Event) []Alert {
		t.Helper()
		out, err := r.Apply(context.Background(), farWall, 0, events, nil)
		require.NoError(t, err)
		return out
	}
	failure := func(c int, at int64) Event { return Event{Table: c, Addr: attacker, Time: base + at*us} }
	success := func(rule, id int, at int64) Event {
		return modelEvent(windowtest.Event{Logon: true, Rule: rule, ID: id, IP: attacker, T: base + at*us, Host: "web01"})
	}
	has := func(key string) bool { return slices.Contains(srv.Keys("rk:"), "rk:"+key) }

	// Rule 1 waits for counter 5 (it alerts for counter 3 at once); rule 2 waits for counter 7.
	out := apply(failure(3, 10), failure(3, 11), success(1, 1, 20), success(2, 2, 20))
	require.Len(t, out, 1)
	assert.Equal(t, [3]int{1, 1, 3}, [3]int{out[0].Rule, out[0].Table, out[0].Counter})
	assert.True(t, has("f:3|"+ip))
	assert.True(t, has("w:5|"+ip), "rule 1's success waits for counter 5")
	assert.True(t, has("w:7|"+ip), "rule 2's success waits for counter 7")
	assert.False(t, has("w:3|"+ip), "it alerted for counter 3")
	assert.True(t, has("s:1|3|"+ip+"|web01"), "the mark of rule 1, counter 3")
	_, logons := r.Sizes()
	assert.Equal(t, 2, logons)

	// Rule 1's span is 300 + 100 µs, rule 2's 300 + 300 µs.
	apply(failure(9, 20+400))
	assert.True(t, has("w:5|"+ip), "due at 420 µs: not before the clock")
	apply(failure(9, 20+400), Event{Table: 9, Addr: other, Time: base + 421*us})
	assert.False(t, has("w:5|"+ip), "rule 1's success expired")
	assert.False(t, has("f:3|"+ip), "counter 3's failures expired (due at 411 µs)")
	assert.True(t, has("w:7|"+ip), "rule 2's success waits until 620 µs")
	assert.True(t, has("s:1|3|"+ip+"|web01"), "rule 1's mark is due at 20 + 10 + 400 µs")
	apply(failure(9, 430))
	assert.False(t, has("s:1|3|"+ip+"|web01"))
	out = apply(failure(7, 319))
	require.Len(t, out, 1, "rule 2 still pairs, within its own window")
	assert.Equal(t, [3]int{2, 0, 7}, [3]int{out[0].Rule, out[0].Table, out[0].Counter})
	_, logons = r.Sizes()
	assert.Equal(t, 0, logons)
}

// TestRedisMarkEvictionOrder: at the bound on suppress marks, the mark due first goes, and among
// marks due at the same time the first by rule, then counter, then address (16-byte form), then
// host, in memory and Redis alike. Two marks, first and second in that order, are made due at the
// same time; a third, due later, evicts first; then a success held back by second alone is
// suppressed and one held back by first alone alerts.
func TestRedisMarkEvictionOrder(t *testing.T) {
	srv := redistest.Start(t)
	const us = int64(1000)
	cfg := window.Config{
		Rules: []window.Rule{
			{Window: 100 * us, Suppress: 50 * us, Counters: []int{1, 2}},
			{Window: 100 * us, Suppress: 50 * us, Counters: []int{0}},
		},
		MaxTrackedIPs: 100, MaxPendingLogons: 100, MaxSuppressMarks: 2,
	}
	// other (198.51.100.1) is before attacker (203.0.113.7), and both before v6.
	type key struct {
		rule, counter int
		addr          netip.Addr
		host          string
	}
	cases := []struct {
		name          string
		first, second key
	}{
		{"rule before counter", key{0, 1, attacker, "web01"}, key{1, 0, attacker, "web01"}},
		{"counter before address", key{0, 1, attacker, "web01"}, key{0, 2, other, "web01"}},
		{"address before host", key{0, 1, other, "zz"}, key{0, 1, attacker, "aa"}},
		{"host", key{0, 1, attacker, "web"}, key{0, 1, attacker, "web0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := func(k key) windowtest.Event { return windowtest.Event{Table: k.counter, IP: k.addr, T: base} }
			s := func(id int, k key, at int64) windowtest.Event {
				return windowtest.Event{Logon: true, ID: id, Rule: k.rule, IP: k.addr, Host: k.host, T: base + at*us}
			}
			later := key{0, 1, v6, "x"}
			events := []windowtest.Event{
				f(tc.first), f(tc.second), f(later),
				s(1, tc.first, 10), s(2, tc.second, 10), // due at the same time
				s(3, later, 20),                         // evicts first
				s(4, tc.second, 30), s(5, tc.first, 30), // second holds 4 back; 5 alerts
			}
			for _, batch := range []int{1, len(events)} {
				for name, b := range map[string]Backend{"memory": NewMemory(cfg), "redis": newRedis(t, srv, cfg)} {
					emitted, _, _ := runBackend(t, events, batch, -1, func() Backend { return b }, nil)
					var ids []int
					for _, e := range emitted {
						ids = append(ids, e.ID)
					}
					slices.Sort(ids)
					assert.Equal(t, []int{1, 2, 3, 5}, ids, "%s, batches of %d", name, batch)
					assert.Equal(t, int64(2), b.Counters().EvictedSuppress, "%s, batches of %d", name, batch)
				}
			}
		})
	}
}
