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
	"github.com/secops-otel/aadhostlogincorrelation/internal/window"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window/windowtest"
)

// The memory and Redis backends (model_redis_test.go, build tag redis) against the brute-force model of internal/window/windowtest, under
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
		e.Payload = &alert.Logon{Kind: classify.LinuxLogon, Addr: ev.IP.Unmap(), Time: ev.T,
			Cols: classify.Columns{classify.HostComputer: ev.Host, classify.HostLogonUser: strconv.Itoa(ev.ID)}}
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
		emitted = applyBatch(t, b, arrival[start:end], emitted)
	}
	c := b.Counters()
	return emitted, before.EvictedIPs + c.EvictedIPs, before.EvictedLogons + c.EvictedLogons
}

// applyBatch applies the model's events as one batch and appends the alerts it made to emitted.
func applyBatch(t *testing.T, b Backend, batch []windowtest.Event, emitted []windowtest.Emitted) []windowtest.Emitted {
	t.Helper()
	events := make([]Event, 0, len(batch))
	for _, ev := range batch {
		events = append(events, modelEvent(ev))
	}
	out, err := b.Apply(context.Background(), farWall, 0, events, nil)
	require.NoError(t, err)
	for _, a := range out {
		id, err := strconv.Atoi(a.Payload.Cols[classify.HostLogonUser])
		require.NoError(t, err)
		emitted = append(emitted, windowtest.Emitted{ID: id, Rule: a.Rule, Table: a.Table, IP: a.Addr, Host: a.Host, T: a.Time})
	}
	return emitted
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

// modelBackend is a backend under the model test: what starts it and what restarts it.
type modelBackend struct {
	name    string
	start   func(window.Config) Backend
	restart func(window.Config, Backend) Backend
}

// memoryBackend restarts from a checkpoint restored into a new backend.
func memoryBackend(t *testing.T) modelBackend {
	return modelBackend{
		name:  "memory",
		start: func(cfg window.Config) Backend { return NewMemory(cfg) },
		restart: func(cfg window.Config, b Backend) Backend {
			snap, err := b.(*Memory).Snapshot()
			require.NoError(t, err)
			m := NewMemory(cfg)
			require.NoError(t, m.Restore(snap))
			return m
		},
	}
}

// againstModelEverySetting runs randomized scenarios of every setting, in three arrival orders,
// straight through and restarted at a random cut, through the backend, against the model. The
// scenarios depend only on the seed, so every backend meets the same ones.
func againstModelEverySetting(t *testing.T, backend modelBackend) {
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
				emitted, ips, logons := runBackend(t, arrival, batch, cut,
					func() Backend { return backend.start(cfg) },
					func(b Backend) Backend { return backend.restart(cfg, b) })
				checkModel(t, cfg, arrival, emitted, ips, logons, backend.name+" "+what)
			}
		}
	}
}

func TestMemoryAgainstModelEverySetting(t *testing.T) {
	againstModelEverySetting(t, memoryBackend(t))
}
