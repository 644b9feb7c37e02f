//go:build redis

package state

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/secops-otel/aadhostlogincorrelation/internal/redistest"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window/windowtest"
)

// redisBackend restarts as a new collector on the same keys.
func redisBackend(t *testing.T, srv *redistest.Server) modelBackend {
	var prefix string
	return modelBackend{
		name: "redis",
		start: func(cfg window.Config) Backend {
			r := newRedis(t, srv, cfg)
			prefix = r.prefix
			return r
		},
		restart: func(cfg window.Config, _ Backend) Backend { return newRedisPrefix(t, srv, cfg, prefix) },
	}
}

func TestRedisAgainstModelEverySetting(t *testing.T) {
	againstModelEverySetting(t, redisBackend(t, redistest.Start(t)))
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
