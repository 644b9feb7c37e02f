package window

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Named cases that an adversarial user found; each broke an invariant of suppress or of the
// memory bounds. Times are in seconds of the scenario, as nanoseconds.

var (
	addrA = netip.MustParseAddr("203.0.113.7")
	addrB = netip.MustParseAddr("198.51.100.1")
	addrC = netip.MustParseAddr("192.0.2.3")
	addrX = netip.MustParseAddr("192.0.2.99")
)

// alertTimes runs events (with a restart before event cut, none when cut < 0) and returns the
// logon times of the alerts, in the order emitted.
func alertTimes(t *testing.T, cfg Config, events []event, cut int) []int64 {
	t.Helper()
	e := New[int](cfg)
	var times []int64
	for i, ev := range events {
		if i == cut {
			snap, err := e.Snapshot(encodeInt)
			require.NoError(t, err)
			e = New[int](cfg)
			require.NoError(t, e.Restore(snap, decodeInt))
		}
		if e.Observe(ev.t, farWall, 0) != Current {
			continue
		}
		var out []Alert[int]
		if ev.logon {
			out = e.Logon(ev.ip, ev.t, "web01", ev.id, nil)
		} else {
			out = e.Failure(ev.table, ev.ip, ev.t, nil)
		}
		for _, a := range out {
			times = append(times, a.Time)
		}
	}
	return times
}

func suppressConfig(window, suppress int64) Config {
	return Config{Threshold: 0, Window: window, Tables: 2, Suppress: suppress,
		MaxTrackedIPs: 1 << 10, MaxPendingLogons: 1 << 10}
}

// A mark must outlive every logon it could hold back, however far unrelated traffic moves the
// clock: logon 2 is 20 s after logon 1, which alerted, so it never alerts.
func TestSuppressMarkOutlivesTheLogonsItHoldsBack(t *testing.T) {
	cfg := suppressConfig(60, 30)
	for _, otherAt := range []int64{1060, 1089, 1091, 1100} {
		events := []event{
			{ip: addrA, t: 950},
			logon(1, addrA, 1000), // alerts
			logon(2, addrA, 1020), // waits: 950 is 70 s away
			{ip: addrB, t: otherAt},
			{ip: addrA, t: 1045}, // completes logon 2, 20 s after logon 1
		}
		assert.Equal(t, []int64{1000}, alertTimes(t, cfg, events, -1), "other address's failure at %d", otherAt)
	}
}

// A restart anywhere gives the suppress decisions of an uninterrupted run.
func TestSuppressDecisionsSurviveARestart(t *testing.T) {
	cfg := suppressConfig(60, 30)
	events := []event{
		{ip: addrA, t: 950},
		logon(1, addrA, 1000),
		logon(2, addrA, 1020),
		{ip: addrB, t: 1088},
		{ip: addrB, t: 1093},
		{ip: addrA, t: 1045},
	}
	want := alertTimes(t, cfg, events, -1)
	require.Equal(t, []int64{1000}, want)
	for cut := range len(events) + 1 {
		assert.Equal(t, want, alertTimes(t, cfg, events, cut), "restart before event %d", cut)
	}
}

// Spacing holds in any arrival order: the mark of the alert at 1000 still holds back 1010 after
// the alert at 1070.
func TestSuppressSpacingInAnyArrivalOrder(t *testing.T) {
	cfg := suppressConfig(100, 60)
	events := []event{
		{ip: addrA, t: 1040},
		logon(1, addrA, 1000),
		logon(2, addrA, 1070),
		logon(3, addrA, 1010),
	}
	got := alertTimes(t, cfg, events, -1)
	assert.Equal(t, []int64{1000, 1070}, got)
	// Every arrival order: alerts at least 60 s apart, and at least one.
	for _, perm := range permutations(events) {
		times := alertTimes(t, cfg, perm, -1)
		require.NotEmpty(t, times)
		slices.Sort(times)
		for i := 1; i < len(times); i++ {
			require.GreaterOrEqual(t, times[i]-times[i-1], int64(60), "order %v: alerts %v", perm, times)
		}
	}
}

func permutations(evs []event) [][]event {
	if len(evs) <= 1 {
		return [][]event{slices.Clone(evs)}
	}
	var out [][]event
	for i := range evs {
		rest := slices.Concat(evs[:i], evs[i+1:])
		for _, p := range permutations(rest) {
			out = append(out, append([]event{evs[i]}, p...))
		}
	}
	return out
}

// At max_tracked_ips the expired IP goes first, then the oldest by event time, not by arrival.
func TestBoundEvictsExpiredThenOldestByEventTime(t *testing.T) {
	cfg := Config{Threshold: 0, Window: 100, Tables: 2, MaxTrackedIPs: 2, MaxPendingLogons: 1 << 10}
	events := []event{
		{ip: addrA, t: 1000},
		{ip: addrB, t: 901},   // current (within a window of 1000); expires once the clock passes 1101
		logon(1, addrX, 1102), // moves the clock: b has expired
		{ip: addrC, t: 1102},  // needs room: b goes, not a
		logon(2, addrA, 1050), // a's failure at 1000 is still there
	}
	assert.Equal(t, []int64{1050}, alertTimes(t, cfg, events, -1))

	// Nothing expired: the IP whose newest failure is oldest goes, though it arrived last.
	events = []event{
		{ip: addrA, t: 1000},
		{ip: addrB, t: 990},
		{ip: addrC, t: 1001}, // evicts b (990), not a (1000, first to arrive)
		logon(1, addrA, 1002),
		logon(2, addrB, 1002),
	}
	assert.Equal(t, []int64{1002}, alertTimes(t, cfg, events, -1))

	// A new IP older than every tracked one is the one evicted.
	events = []event{
		{ip: addrA, t: 1000},
		{ip: addrB, t: 1000},
		{ip: addrC, t: 950},
		logon(1, addrC, 960),
		logon(2, addrA, 1001),
	}
	assert.Equal(t, []int64{1001}, alertTimes(t, cfg, events, -1))
}

// At max_pending_logons the waiting logon with the oldest event time goes, not the first to arrive.
func TestBoundEvictsTheOldestWaitingLogonByEventTime(t *testing.T) {
	cfg := Config{Threshold: 0, Window: 100, Tables: 1, MaxTrackedIPs: 1 << 10, MaxPendingLogons: 2}
	events := []event{
		logon(1, addrA, 1000),
		logon(2, addrB, 990),
		logon(3, addrC, 995), // evicts logon 2 (990)
		{ip: addrA, t: 1001},
		{ip: addrB, t: 991},
		{ip: addrC, t: 996},
	}
	assert.Equal(t, []int64{1000, 995}, alertTimes(t, cfg, events, -1))
}

// Suppress marks have their own bound; the oldest by event time goes first.
func TestSuppressMarksBoundEvictsTheOldestByEventTime(t *testing.T) {
	cfg := suppressConfig(1000, 100)
	cfg.MaxSuppressMarks = 2
	e := New[int](cfg)
	e.Observe(1, farWall, 0)
	for _, ip := range []netip.Addr{addrA, addrB, addrC} {
		e.Failure(0, ip, 1, nil)
	}
	fire := func(ip netip.Addr, at int64) int {
		return len(e.Logon(ip, at, "web01", 0, nil))
	}
	require.Equal(t, 1, fire(addrA, 500))
	require.Equal(t, 1, fire(addrB, 300))
	require.Equal(t, 1, fire(addrC, 400)) // evicts b's mark (300), not a's (first to arrive)
	assert.Equal(t, int64(1), e.Stats.EvictedSuppress)
	assert.Equal(t, 0, fire(addrA, 510), "a's mark is kept")
	assert.Equal(t, 0, fire(addrC, 410), "c's mark is kept")
	assert.Equal(t, 1, fire(addrB, 310), "b's mark was the one evicted")
}
