package window

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/secops-otel/aadhostlogincorrelation/internal/window/windowtest"
)

// modelCase is one randomized scenario with the settings it runs under.
type modelCase struct {
	cfg    Config
	events []windowtest.Event // in time order; arrival orders are drawn from it
}

var modelIPs = []netip.Addr{
	netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("2001:db8::1"),
	netip.MustParseAddr("198.51.100.9"), netip.MustParseAddr("::ffff:192.0.2.4"),
	netip.MustParseAddr("192.0.2.200"),
}

// randomModelCase draws settings (threshold, count_tables, suppress, both bounds, small enough
// to be reached) and a scenario of failures and logons over a few addresses and hosts. Times are
// coarse, so ties in time (and so the tie-breaks of eviction) are common.
func randomModelCase(rng *rand.Rand) modelCase {
	cfg := Config{
		Threshold:        rng.IntN(4),
		Window:           100,
		Tables:           1 + rng.IntN(2),
		MaxTrackedIPs:    1 << 20,
		MaxPendingLogons: 1 << 20,
		MaxSuppressMarks: 1 << 20, // their own bound has its own test
	}
	if rng.IntN(2) == 0 {
		cfg.MaxTrackedIPs = 1 + rng.IntN(4)
	}
	if rng.IntN(2) == 0 {
		cfg.MaxPendingLogons = 1 + rng.IntN(4)
	}
	if rng.IntN(2) == 0 {
		cfg.Suppress = []int64{1, 10, 30, 60, 150}[rng.IntN(5)]
	}
	n := 10 + rng.IntN(60)
	events := make([]windowtest.Event, n)
	for i := range events {
		events[i] = windowtest.Event{
			ID: i, IP: modelIPs[rng.IntN(len(modelIPs))], T: 1 + 5*rng.Int64N(100),
			Table: rng.IntN(2), Host: []string{"web01", "db01"}[rng.IntN(2)],
		}
		events[i].Logon = rng.IntN(3) == 0
	}
	return modelCase{cfg: cfg, events: events}
}

func modelSettings(cfg Config) windowtest.Settings {
	s := windowtest.Settings{
		Threshold: cfg.Threshold, Window: cfg.Window, Tables: cfg.Tables,
		MaxTrackedIPs: cfg.MaxTrackedIPs, MaxPendingLogons: cfg.MaxPendingLogons,
	}
	for _, r := range cfg.Rules {
		s.Rules = append(s.Rules, windowtest.RuleSettings{Threshold: r.Threshold, Window: r.Window, Counters: r.Counters})
	}
	return s
}

// runEngine feeds events to an engine in order, restarting it from a snapshot before event cut
// (none when cut < 0), and returns what it emitted and its counters.
func runEngine(t *testing.T, cfg Config, events []windowtest.Event, cut int) ([]windowtest.Emitted, Stats) {
	t.Helper()
	e := New[int](cfg)
	var emitted []windowtest.Emitted
	var out []Alert[int]
	for i, ev := range events {
		if i == cut {
			snap, err := e.Snapshot(encodeInt)
			require.NoError(t, err)
			restored := New[int](cfg)
			require.NoError(t, restored.Restore(snap, decodeInt))
			restored.Stats = e.Stats
			e = restored
		}
		if e.Observe(ev.T, farWall, 0) != Current {
			continue
		}
		out = out[:0]
		if ev.Logon {
			out = e.Success(ev.Rule, ev.IP, ev.T, ev.Host, ev.ID, out)
		} else {
			out = e.Failure(ev.Table, ev.IP, ev.T, out)
		}
		for _, a := range out {
			emitted = append(emitted, windowtest.Emitted{ID: a.Payload, Rule: a.Rule, Table: a.Table, IP: a.Addr, Host: a.Host, T: a.Time})
		}
	}
	return emitted, e.Stats
}

// checkAgainstModel asserts that what an engine emitted for one arrival order is what the model
// decides (windowtest.Check).
func checkAgainstModel(t *testing.T, cfg Config, arrival []windowtest.Event, emitted []windowtest.Emitted, evictedIPs, evictedLogons int64, what string) {
	t.Helper()
	var suppress []int64
	for _, r := range cfg.rules() {
		suppress = append(suppress, r.Suppress)
	}
	if bad := windowtest.Check(modelSettings(cfg), suppress, arrival, emitted, evictedIPs, evictedLogons); len(bad) > 0 {
		t.Logf("%s: cfg %+v; arrival order:", what, cfg)
		for _, ev := range arrival {
			t.Logf("  %+v", ev)
		}
		t.Fatalf("%s: %v", what, bad)
	}
}

// TestEngineAgainstModelEverySetting runs random scenarios under random settings (threshold,
// count_tables, suppress, both bounds) in several arrival orders, each once straight through and
// once restarted from a checkpoint at a random cut, and checks every run against the model.
func TestEngineAgainstModelEverySetting(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for scenario := 0; scenario < modelScenarios(2500); scenario++ {
		c := randomModelCase(rng)
		for order := 0; order < 4; order++ {
			jitter := []int64{0, 40, 150, 1000}[order]
			arrival := windowtest.Arrival(rng, c.events, func(ev windowtest.Event) int64 { return ev.T }, jitter)
			for _, cut := range []int{-1, rng.IntN(len(arrival) + 1)} {
				emitted, st := runEngine(t, c.cfg, arrival, cut)
				what := "straight"
				if cut >= 0 {
					what = "restarted"
				}
				checkAgainstModel(t, c.cfg, arrival, emitted, st.EvictedIPs, st.EvictedLogons, what)
				if c.cfg.Suppress > 0 {
					require.Zero(t, st.EvictedSuppress)
				}
			}
		}
	}
}

// randomRuleSet draws one to three rules with their own thresholds, windows and suppress; a rule
// with the same threshold and window as an earlier one may share some of its counters (kept once).
func randomRuleSet(rng *rand.Rand) []Rule {
	var rules []Rule
	next := 0
	for n := 1 + rng.IntN(3); len(rules) < n; {
		r := Rule{Threshold: rng.IntN(4), Window: []int64{60, 100, 150}[rng.IntN(3)]}
		if len(rules) > 0 && rng.IntN(2) == 0 {
			prev := rules[rng.IntN(len(rules))]
			r.Threshold, r.Window = prev.Threshold, prev.Window
			r.Counters = append(r.Counters, prev.Counters[rng.IntN(len(prev.Counters))])
		}
		for m := 1 + rng.IntN(3); len(r.Counters) < m; next++ {
			r.Counters = append(r.Counters, next)
		}
		if rng.IntN(2) == 0 {
			r.Suppress = []int64{1, 10, 30, 60}[rng.IntN(4)]
		}
		rules = append(rules, r)
	}
	return rules
}

// TestEngineAgainstModelSeveralRules runs random rule sets (shared counters, different windows and
// thresholds, suppress on some) with both bounds, in several arrival orders, straight and restarted.
func TestEngineAgainstModelSeveralRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for scenario := 0; scenario < modelScenarios(1500); scenario++ {
		cfg := Config{Rules: randomRuleSet(rng), MaxTrackedIPs: 1 << 20, MaxPendingLogons: 1 << 20, MaxSuppressMarks: 1 << 20}
		if rng.IntN(2) == 0 {
			cfg.MaxTrackedIPs = 1 + rng.IntN(5)
		}
		if rng.IntN(2) == 0 {
			cfg.MaxPendingLogons = 1 + rng.IntN(4)
		}
		counters := 0
		for _, r := range cfg.Rules {
			counters = max(counters, slices.Max(r.Counters)+1)
		}
		events := make([]windowtest.Event, 10+rng.IntN(60))
		for i := range events {
			events[i] = windowtest.Event{
				ID: i, IP: modelIPs[rng.IntN(len(modelIPs))], T: 1 + 5*rng.Int64N(100),
				Table: rng.IntN(counters + 1), // one more: a counter no rule reads
				Rule:  rng.IntN(len(cfg.Rules)), Host: []string{"web01", "db01"}[rng.IntN(2)],
			}
			events[i].Logon = rng.IntN(3) == 0
		}
		for order := 0; order < 3; order++ {
			jitter := []int64{0, 40, 300}[order]
			arrival := windowtest.Arrival(rng, events, func(ev windowtest.Event) int64 { return ev.T }, jitter)
			for _, cut := range []int{-1, rng.IntN(len(arrival) + 1)} {
				emitted, st := runEngine(t, cfg, arrival, cut)
				checkAgainstModel(t, cfg, arrival, emitted, st.EvictedIPs, st.EvictedLogons, fmt.Sprintf("order %d cut %d", order, cut))
			}
		}
	}
}
