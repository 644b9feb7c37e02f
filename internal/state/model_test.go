package state

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/secops-otel/aadhostlogincorrelation/internal/alert"
	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/redistest"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window/windowtest"
)

// The memory and Redis backends against the brute-force model of internal/window/windowtest, under
// every setting: threshold, count_tables, suppress, max_tracked_ips and max_pending_logons (small
// enough to evict), in several arrival orders and batch sizes, straight through and with a restart
// at a random cut (memory: a checkpoint restored into a new backend; Redis: a new client on the
// same keys).

var modelAddrs = []netip.Addr{
	attacker, other, v6, netip.MustParseAddr("::ffff:192.0.2.4"), netip.MustParseAddr("192.0.2.200"),
}

// modelScenario draws settings and events. Times are base plus multiples of a step of 5 ns or 5 µs
// over five windows: state expires, ties in time are common and, with the 5 ns step, times differ
// below the microsecond, where Redis's scores cannot tell them apart and its members must.
func modelScenario(rng *rand.Rand) (window.Config, []windowtest.Event) {
	step := []int64{5, 5000}[rng.IntN(2)]
	cfg := window.Config{
		Threshold: rng.IntN(4), Window: 100 * step, Tables: 1 + rng.IntN(2),
		MaxTrackedIPs: 1 << 20, MaxPendingLogons: 1 << 20, MaxSuppressMarks: 1 << 20,
	}
	if rng.IntN(2) == 0 {
		cfg.MaxTrackedIPs = 1 + rng.IntN(4)
	}
	if rng.IntN(2) == 0 {
		cfg.MaxPendingLogons = 1 + rng.IntN(4)
	}
	if rng.IntN(2) == 0 {
		cfg.Suppress = step * []int64{1, 10, 30, 60, 150}[rng.IntN(5)]
	}
	events := make([]windowtest.Event, 10+rng.IntN(50))
	for i := range events {
		events[i] = windowtest.Event{
			ID: i, Logon: rng.IntN(3) == 0, IP: modelAddrs[rng.IntN(len(modelAddrs))],
			T: base + step*rng.Int64N(500), Table: rng.IntN(2), Host: []string{"web01", "db01"}[rng.IntN(2)],
		}
	}
	return cfg, events
}

func modelEvent(ev windowtest.Event) Event {
	e := Event{Logon: ev.Logon, Rule: ev.Rule, Table: ev.Table, Addr: ev.IP, Time: ev.T}
	if ev.Logon {
		e.Payload = alert.Logon{
			Event: classify.Event{Kind: classify.LinuxLogon, Addr: ev.IP.Unmap(), Computer: ev.Host, User: strconv.Itoa(ev.ID)},
			Time:  ev.T,
		}
	}
	return e
}

// runBackend feeds arrival to the backends newBackend makes, in batches, replacing the backend by
// restart before the batch that holds event cut (never when cut < 0). It returns what was emitted
// and the evictions counted.
func runBackend(t *testing.T, arrival []windowtest.Event, batch, cut int, newBackend func() Backend,
	restart func(Backend) Backend) (emitted []windowtest.Emitted, evictedIPs, evictedLogons int64) {
	t.Helper()
	b := newBackend()
	var before Counters
	for start := 0; start < len(arrival); start += batch {
		end := min(start+batch, len(arrival))
		if cut >= start && cut < end {
			before = b.Counters()
			b = restart(b)
		}
		events := make([]Event, 0, end-start)
		for _, ev := range arrival[start:end] {
			events = append(events, modelEvent(ev))
		}
		out, err := b.Apply(context.Background(), farWall, 0, events, nil)
		require.NoError(t, err)
		for _, a := range out {
			id, err := strconv.Atoi(a.Payload.User)
			require.NoError(t, err)
			emitted = append(emitted, windowtest.Emitted{ID: id, Rule: a.Rule, Table: a.Table, IP: a.Addr, Host: a.Host, T: a.Time})
		}
	}
	c := b.Counters()
	return emitted, before.EvictedIPs + c.EvictedIPs, before.EvictedLogons + c.EvictedLogons
}

func checkModel(t *testing.T, cfg window.Config, arrival []windowtest.Event, emitted []windowtest.Emitted,
	evictedIPs, evictedLogons int64, what string) {
	t.Helper()
	s := windowtest.Settings{
		Threshold: cfg.Threshold, Window: cfg.Window, Tables: cfg.Tables,
		MaxTrackedIPs: cfg.MaxTrackedIPs, MaxPendingLogons: cfg.MaxPendingLogons,
	}
	if bad := windowtest.Check(s, []int64{cfg.Suppress}, arrival, emitted, evictedIPs, evictedLogons); len(bad) > 0 {
		t.Logf("%s: cfg %+v; arrival order:", what, cfg)
		for _, ev := range arrival {
			t.Logf("  %+v (base%+d)", ev, ev.T-base)
		}
		t.Fatalf("%s: %v", what, bad)
	}
}

func TestBackendsAgainstModelEverySetting(t *testing.T) {
	srv := redistest.Start(t)
	rng := rand.New(rand.NewPCG(21, 22))
	scenarios := 300
	if testing.Short() {
		scenarios = 60
	}
	for sc := 0; sc < scenarios; sc++ {
		cfg, events := modelScenario(rng)
		for order := 0; order < 3; order++ {
			jitter := []int64{0, cfg.Window / 2, 3 * cfg.Window}[order]
			arrival := windowtest.Arrival(rng, events, func(ev windowtest.Event) int64 { return ev.T }, jitter)
			batch := 1 + rng.IntN(8)
			for _, cut := range []int{-1, rng.IntN(len(arrival))} {
				what := "straight"
				if cut >= 0 {
					what = "restarted at event " + strconv.Itoa(cut)
				}
				// Memory: restarted from a checkpoint.
				emitted, ips, logons := runBackend(t, arrival, batch, cut,
					func() Backend { return NewMemory(cfg) },
					func(b Backend) Backend {
						snap, err := b.(*Memory).Snapshot()
						require.NoError(t, err)
						m := NewMemory(cfg)
						require.NoError(t, m.Restore(snap))
						return m
					})
				checkModel(t, cfg, arrival, emitted, ips, logons, "memory "+what)

				// Redis: a new collector on the same keys.
				r := newRedis(t, srv, cfg)
				emitted, ips, logons = runBackend(t, arrival, batch, cut,
					func() Backend { return r },
					func(Backend) Backend { return newRedisPrefix(t, srv, cfg, r.prefix) })
				checkModel(t, cfg, arrival, emitted, ips, logons, "redis "+what)
			}
		}
	}
}

// TestRedisNamedCases runs the regression cases of internal/window's regression_test.go through
// Redis: suppress marks outlive unrelated traffic, spacing holds in any arrival order, and the
// bound evicts expired state first, then the oldest by event time.
func TestRedisNamedCases(t *testing.T) {
	srv := redistest.Start(t)
	const s = int64(1_000_000_000) // a second
	at := func(x int64) int64 { return base + x*s }
	a, b, c, x := attacker, other, netip.MustParseAddr("192.0.2.3"), netip.MustParseAddr("192.0.2.99")
	f := func(ip netip.Addr, t int64) windowtest.Event {
		return windowtest.Event{IP: ip, T: at(t), Host: "web01"}
	}
	l := func(id int, ip netip.Addr, t int64) windowtest.Event {
		return windowtest.Event{Logon: true, ID: id, IP: ip, T: at(t), Host: "web01"}
	}
	supp := func(w, d int64) window.Config {
		return window.Config{Window: w * s, Suppress: d * s, Tables: 2,
			MaxTrackedIPs: 1 << 10, MaxPendingLogons: 1 << 10, MaxSuppressMarks: 1 << 10}
	}
	cases := []struct {
		name   string
		cfg    window.Config
		events []windowtest.Event
		want   []int64 // logon times of the alerts, in seconds
		evicts int64   // IPs evicted
	}{
		{"suppress mark outlives unrelated traffic", supp(60, 30),
			[]windowtest.Event{f(a, 950), l(1, a, 1000), l(2, a, 1020), f(b, 1100), f(a, 1045)}, []int64{1000}, 0},
		{"suppress spacing in any arrival order", supp(100, 60),
			[]windowtest.Event{f(a, 1040), l(1, a, 1000), l(2, a, 1070), l(3, a, 1010)}, []int64{1000, 1070}, 0},
		{"bound evicts the expired IP first",
			window.Config{Window: 100 * s, Tables: 2, MaxTrackedIPs: 2, MaxPendingLogons: 1 << 10},
			[]windowtest.Event{f(a, 1000), f(b, 901), l(1, x, 1102), f(c, 1102), l(2, a, 1050)}, []int64{1050}, 0},
		{"bound evicts the oldest by event time, not arrival",
			window.Config{Window: 100 * s, Tables: 2, MaxTrackedIPs: 2, MaxPendingLogons: 1 << 10},
			[]windowtest.Event{f(a, 1000), f(b, 990), f(c, 1001), l(1, a, 1002), l(2, b, 1002)}, []int64{1002}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, batch := range []int{1, len(tc.events)} {
				emitted, evicted, _ := runBackend(t, tc.events, batch, -1,
					func() Backend { return newRedis(t, srv, tc.cfg) }, nil)
				require.Equal(t, tc.evicts, evicted, "batches of %d: IPs evicted (expired ones expire)", batch)
				var got []int64
				for _, e := range emitted {
					got = append(got, (e.T-base)/s)
				}
				require.Equal(t, tc.want, got, "batches of %d", batch)
			}
		})
	}
}
