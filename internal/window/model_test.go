package window

import (
	"math/rand/v2"
	"net/netip"
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
	return windowtest.Settings{
		Threshold: cfg.Threshold, Window: cfg.Window, Tables: cfg.Tables,
		MaxTrackedIPs: cfg.MaxTrackedIPs, MaxPendingLogons: cfg.MaxPendingLogons,
	}
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
			out = e.Logon(ev.IP, ev.T, ev.Host, ev.ID, out)
		} else {
			out = e.Failure(ev.Table, ev.IP, ev.T, out)
		}
		for _, a := range out {
			emitted = append(emitted, windowtest.Emitted{ID: a.Payload, Table: a.Table, IP: a.Addr, Host: a.Host, T: a.Time})
		}
	}
	return emitted, e.Stats
}

// checkAgainstModel asserts that what a backend emitted for one arrival order is what the model
// decides: the same (logon, table) pairs and evictions without suppress; the suppress invariants
// with it.
func checkAgainstModel(t *testing.T, cfg Config, arrival []windowtest.Event, emitted []windowtest.Emitted, evictedIPs, evictedLogons int64, what string) {
	t.Helper()
	want := windowtest.Simulate(modelSettings(cfg), arrival)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Logf("%s: cfg %+v; arrival order:", what, cfg)
		for _, ev := range arrival {
			t.Logf("  %+v", ev)
		}
		t.Fatalf(format, args...)
	}
	require.Equal(t, int64(want.EvictedIPs), evictedIPs, "%s: IPs evicted", what)
	require.Equal(t, int64(want.EvictedLogons), evictedLogons, "%s: logons evicted", what)
	if cfg.Suppress == 0 {
		got := map[[2]int]bool{}
		for _, a := range emitted {
			k := [2]int{a.ID, a.Table}
			if got[k] {
				fail("logon %d alerted twice for table %d", a.ID, a.Table)
			}
			got[k] = true
		}
		if !mapsEqual(want.Fired, got) {
			fail("alerts %v, model %v", got, want.Fired)
		}
		return
	}
	logons := map[int]windowtest.Event{}
	for _, ev := range arrival {
		logons[ev.ID] = ev
	}
	if bad := windowtest.CheckSuppress(want.Fired, logons, emitted, cfg.Suppress); len(bad) > 0 {
		fail("suppress invariants broken: %v", bad)
	}
}

func mapsEqual(a, b map[[2]int]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// TestEngineAgainstModelEverySetting runs random scenarios under random settings (threshold,
// count_tables, suppress, both bounds) in several arrival orders, each once straight through and
// once restarted from a checkpoint at a random cut, and checks every run against the model.
func TestEngineAgainstModelEverySetting(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for scenario := 0; scenario < 2500; scenario++ {
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
