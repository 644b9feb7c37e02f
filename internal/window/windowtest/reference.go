// Package windowtest holds the brute-force reference the state backends are checked against.
package windowtest

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
)

// Event is one input of a scenario: a failure of a counter (Table; for the seed, its sign-in
// table), or a success of a rule (Logon, Rule) with an id (and the host it logged on to, for
// suppress).
type Event struct {
	Logon bool
	Rule  int
	ID    int
	Table int
	IP    netip.Addr
	T     int64
	Host  string
}

// Settings are the settings of the rules the model decides under.
type Settings struct {
	// Rules; when empty, the one rule of Threshold, Window and Tables (the seed's settings).
	Rules     []RuleSettings
	Threshold int
	Window    int64
	Tables    int // 2 counts each sign-in table apart, 1 counts them together
	// Bounds; 0 is unbounded.
	MaxTrackedIPs    int
	MaxPendingLogons int
}

// RuleSettings are one rule's: it alerts on a success when more than Threshold failures of one of
// its counters fit with it in one interval of length Window.
type RuleSettings struct {
	Threshold int
	Window    int64
	Counters  []int
}

// Reference decides a scenario, given in arrival order, with no memory bound (see Simulate).
// It returns the (logon id, table) pairs that alert.
func Reference(threshold int, window int64, tables int, events []Event) map[[2]int]bool {
	return Simulate(Settings{Threshold: threshold, Window: window, Tables: tables}, events).Fired
}

// Outcome is what Simulate decided.
type Outcome struct {
	Fired         map[[2]int]bool // (logon id, table) pairs that alert, before suppress
	EvictedIPs    int
	EvictedLogons int
}

// Simulate decides a scenario, given in arrival order, by brute force, in the plainest terms of
// the contract. For one rule of window w:
//
//   - an event is late (dropped) when it is more than window older than the largest time accepted
//     before it (the clock);
//   - state whose time is more than two windows behind the clock is gone: an (address, table) pair
//     whose newest failure is, with all its failures, and a waiting logon that is;
//   - a logon alerts for a table when more than threshold failures of that table (of any table when
//     tables is 1) kept for its address fit with it in one interval of length window, as soon as
//     that becomes true, once per (logon, table);
//   - failures are tracked per (address, table) (one table when tables is 1); at MaxTrackedIPs, a
//     failure of a pair not tracked evicts, among the tracked pairs and itself, the one whose newest
//     failure is oldest (ties: the lowest address in 16-byte form, then the lowest table); an evicted
//     pair's failures are forgotten, and a new pair that is itself the oldest is not tracked at all;
//   - at MaxPendingLogons, a logon that has to wait evicts, among the waiting logons and itself, the
//     one with the oldest time (ties: the earliest arrived).
//
// With several rules, each counts its own counters (a counter read by two rules is one count) and
// decides with its own threshold and window; an event is late when more than the longest window W
// behind the clock, and a rule's state is gone when more than W plus its window behind it; the
// bounds take state in the order in which it would be gone, then as above.
func Simulate(s Settings, events []Event) Outcome {
	type entry struct {
		ip netip.Addr
		c  int
	}
	type tracked struct {
		newest   int64
		failures []int64
	}
	type waiting struct {
		ev   Event
		seq  int
		due  int64
		done map[int]bool // by index among the rule's counters
	}
	rules, together := s.Rules, false
	if len(rules) == 0 {
		counters := []int{0, 1}
		if s.Tables == 1 {
			counters, together = []int{0}, true
		}
		rules = []RuleSettings{{Threshold: s.Threshold, Window: s.Window, Counters: counters}}
	}
	maxWindow := int64(0)
	for _, r := range rules {
		maxWindow = max(maxWindow, r.Window)
	}
	span := map[int]int64{} // per counter: how long after its newest failure a pair is gone
	for _, r := range rules {
		for _, c := range r.Counters {
			span[c] = maxWindow + r.Window
		}
	}
	out := Outcome{Fired: map[[2]int]bool{}}
	clock := int64(0)
	ips := map[entry]*tracked{}
	var pending []*waiting
	seq := 0
	condition := func(r RuleSettings, f []int64, t int64) bool {
		// The interval that holds the success and the failures starts at the success or at a failure.
		for _, a := range append([]int64{t}, f...) {
			if a > t || t > a+r.Window {
				continue
			}
			n := 0
			for _, x := range f {
				if x >= a && x <= a+r.Window {
					n++
				}
			}
			if n > r.Threshold {
				return true
			}
		}
		return false
	}
	fire := func(w *waiting, j int) {
		w.done[j] = true
		out.Fired[[2]int{w.ev.ID, j}] = true
	}
	allDone := func(w *waiting) bool { return len(w.done) == len(rules[w.ev.Rule].Counters) }
	for _, ev := range events {
		if ev.T < clock-maxWindow {
			continue
		}
		if ev.T > clock {
			clock = ev.T
			for k, st := range ips {
				if st.newest+span[k.c] < clock {
					delete(ips, k)
				}
			}
			pending = slices.DeleteFunc(pending, func(w *waiting) bool { return w.due < clock })
		}
		ip := ev.IP.Unmap()
		if !ev.Logon {
			c := ev.Table
			if together {
				c = 0
			}
			if _, read := span[c]; !read {
				continue
			}
			k := entry{ip, c}
			st := ips[k]
			if st == nil {
				if s.MaxTrackedIPs > 0 && len(ips) >= s.MaxTrackedIPs {
					out.EvictedIPs++
					victim, vdue := k, ev.T+span[c]
					for x, y := range ips {
						if due := y.newest + span[x.c]; due < vdue || (due == vdue && (addrLess(x.ip, victim.ip) ||
							(x.ip == victim.ip && x.c < victim.c))) {
							victim, vdue = x, due
						}
					}
					if victim == k {
						continue
					}
					delete(ips, victim)
				}
				st = &tracked{newest: ev.T}
				ips[k] = st
			}
			st.newest = max(st.newest, ev.T)
			st.failures = append(st.failures, ev.T)
			for _, w := range pending {
				r := rules[w.ev.Rule]
				j := slices.Index(r.Counters, c)
				if w.ev.IP.Unmap() == ip && j >= 0 && !w.done[j] && condition(r, st.failures, w.ev.T) {
					fire(w, j)
				}
			}
			pending = slices.DeleteFunc(pending, allDone)
			continue
		}
		r := rules[ev.Rule]
		w := &waiting{ev: ev, seq: seq, due: ev.T + maxWindow + r.Window, done: map[int]bool{}}
		seq++
		for j, c := range r.Counters {
			if st := ips[entry{ip, c}]; st != nil && condition(r, st.failures, ev.T) {
				fire(w, j)
			}
		}
		if allDone(w) {
			continue
		}
		if s.MaxPendingLogons > 0 && len(pending) >= s.MaxPendingLogons {
			out.EvictedLogons++
			oldest := 0
			for i, x := range pending {
				if x.due < pending[oldest].due || (x.due == pending[oldest].due && x.seq < pending[oldest].seq) {
					oldest = i
				}
			}
			if w.due < pending[oldest].due {
				continue
			}
			pending = slices.Delete(pending, oldest, oldest+1)
		}
		pending = append(pending, w)
	}
	return out
}

func addrLess(a, b netip.Addr) bool {
	x, y := a.As16(), b.As16()
	return bytes.Compare(x[:], y[:]) < 0
}

// Emitted is one alert a backend emitted, as the suppress invariants see it.
type Emitted struct {
	ID    int
	Rule  int
	Table int
	IP    netip.Addr
	Host  string
	T     int64
}

// CheckSuppress checks what a backend emitted with suppress d (per rule) against the pairs the
// rules fire (Simulate's Fired, which suppress does not change): every emitted pair fires; no two
// emitted alerts of one (rule, address, host, table) are less than d apart; and every (rule,
// address, host, table) with a firing pair emitted at least one alert. It returns a description of
// each violation.
func CheckSuppress(fired map[[2]int]bool, logons map[int]Event, emitted []Emitted, d func(rule int) int64) []string {
	var bad []string
	type triple struct {
		rule  int
		ip    netip.Addr
		host  string
		table int
	}
	times := map[triple][]int64{}
	for _, a := range emitted {
		if d(a.Rule) == 0 {
			continue
		}
		if !fired[[2]int{a.ID, a.Table}] {
			bad = append(bad, fmt.Sprintf("logon %d alerted for table %d, which the rule does not fire", a.ID, a.Table))
		}
		k := triple{a.Rule, a.IP.Unmap(), a.Host, a.Table}
		times[k] = append(times[k], a.T)
	}
	for k, ts := range times {
		slices.Sort(ts)
		for i := 1; i < len(ts); i++ {
			if ts[i]-ts[i-1] < d(k.rule) {
				bad = append(bad, fmt.Sprintf("%v: alerts at %d and %d, less than %d apart", k, ts[i-1], ts[i], d(k.rule)))
			}
		}
	}
	for pair := range fired {
		l := logons[pair[0]]
		if d(l.Rule) == 0 {
			continue
		}
		if k := (triple{l.Rule, l.IP.Unmap(), l.Host, pair[1]}); len(times[k]) == 0 {
			bad = append(bad, fmt.Sprintf("%v fires (logon %d) but emitted nothing", k, pair[0]))
		}
	}
	slices.Sort(bad)
	return bad
}

// Arrival returns events in a random arrival order near their time order: each is sorted by its
// time plus a random delay of up to jitter, so the larger the jitter the more disorder (and late
// events).
func Arrival[E any](rng *rand.Rand, events []E, timeOf func(E) int64, jitter int64) []E {
	type keyed struct {
		key int64
		ev  E
	}
	ks := make([]keyed, len(events))
	for i, ev := range events {
		ks[i] = keyed{timeOf(ev) + rng.Int64N(jitter+1), ev}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	out := make([]E, len(events))
	for i, k := range ks {
		out[i] = k.ev
	}
	return out
}

// Check compares what a backend emitted for one arrival order, and the evictions it counted, with
// what Simulate decides under s: the same evictions; for each rule without suppress (suppress[rule]
// is 0 or missing) exactly the firing pairs, each once; for the others the suppress invariants
// (CheckSuppress). It returns a description of each difference.
func Check(s Settings, suppress []int64, arrival []Event, emitted []Emitted, evictedIPs, evictedLogons int64) []string {
	want := Simulate(s, arrival)
	var bad []string
	if int64(want.EvictedIPs) != evictedIPs || int64(want.EvictedLogons) != evictedLogons {
		bad = append(bad, fmt.Sprintf("evicted %d pairs and %d successes, model %d and %d",
			evictedIPs, evictedLogons, want.EvictedIPs, want.EvictedLogons))
	}
	d := func(rule int) int64 {
		if rule < len(suppress) {
			return suppress[rule]
		}
		return 0
	}
	logons := map[int]Event{}
	for _, ev := range arrival {
		if ev.Logon {
			logons[ev.ID] = ev
		}
	}
	got := map[[2]int]bool{}
	for _, a := range emitted {
		if d(a.Rule) > 0 {
			continue
		}
		k := [2]int{a.ID, a.Table}
		if got[k] {
			bad = append(bad, fmt.Sprintf("success %d alerted twice for counter %d", a.ID, a.Table))
		}
		got[k] = true
		if !want.Fired[k] {
			bad = append(bad, fmt.Sprintf("success %d alerted for counter %d; the model does not fire it", a.ID, a.Table))
		}
	}
	for k := range want.Fired {
		if d(logons[k[0]].Rule) == 0 && !got[k] {
			bad = append(bad, fmt.Sprintf("success %d did not alert for counter %d; the model fires it", k[0], k[1]))
		}
	}
	bad = append(bad, CheckSuppress(want.Fired, logons, emitted, d)...)
	slices.Sort(bad)
	return bad
}
