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

// Event is one input of a scenario: a failed sign-in of a table, or a logon with an id (and the
// host it logged on to, for suppress).
type Event struct {
	Logon bool
	ID    int
	Table int
	IP    netip.Addr
	T     int64
	Host  string
}

// Settings are the settings of the rule the model decides under.
type Settings struct {
	Threshold int
	Window    int64
	Tables    int // 2 counts each sign-in table apart, 1 counts them together
	// Bounds; 0 is unbounded.
	MaxTrackedIPs    int
	MaxPendingLogons int
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
// the contract:
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
func Simulate(s Settings, events []Event) Outcome {
	type entry struct {
		ip netip.Addr
		tb int
	}
	type tracked struct {
		newest   int64
		failures []int64
	}
	type waiting struct {
		ev   Event
		seq  int
		done [2]bool
	}
	tables := max(s.Tables, 1)
	out := Outcome{Fired: map[[2]int]bool{}}
	clock := int64(0)
	ips := map[entry]*tracked{}
	var pending []*waiting
	seq := 0
	condition := func(f []int64, t int64) bool {
		// The interval that holds the logon and the failures starts at the logon or at a failure.
		for _, a := range append([]int64{t}, f...) {
			if a > t || t > a+s.Window {
				continue
			}
			n := 0
			for _, x := range f {
				if x >= a && x <= a+s.Window {
					n++
				}
			}
			if n > s.Threshold {
				return true
			}
		}
		return false
	}
	fire := func(w *waiting, tb int) {
		w.done[tb] = true
		out.Fired[[2]int{w.ev.ID, tb}] = true
	}
	allDone := func(w *waiting) bool {
		for tb := 0; tb < tables; tb++ {
			if !w.done[tb] {
				return false
			}
		}
		return true
	}
	for _, ev := range events {
		if ev.T < clock-s.Window {
			continue
		}
		if ev.T > clock {
			clock = ev.T
			horizon := clock - 2*s.Window
			for k, st := range ips {
				if st.newest < horizon {
					delete(ips, k)
				}
			}
			pending = slices.DeleteFunc(pending, func(w *waiting) bool { return w.ev.T < horizon })
		}
		ip := ev.IP.Unmap()
		if !ev.Logon {
			tb := ev.Table
			if tables == 1 {
				tb = 0
			}
			k := entry{ip, tb}
			st := ips[k]
			if st == nil {
				if s.MaxTrackedIPs > 0 && len(ips) >= s.MaxTrackedIPs {
					out.EvictedIPs++
					victim, vt := k, ev.T
					for x, y := range ips {
						if y.newest < vt || (y.newest == vt && (addrLess(x.ip, victim.ip) ||
							(x.ip == victim.ip && x.tb < victim.tb))) {
							victim, vt = x, y.newest
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
				if w.ev.IP.Unmap() == ip && !w.done[tb] && condition(st.failures, w.ev.T) {
					fire(w, tb)
				}
			}
			pending = slices.DeleteFunc(pending, allDone)
			continue
		}
		w := &waiting{ev: ev, seq: seq}
		seq++
		for tb := 0; tb < tables; tb++ {
			if st := ips[entry{ip, tb}]; st != nil && condition(st.failures, ev.T) {
				fire(w, tb)
			}
		}
		if allDone(w) {
			continue
		}
		if s.MaxPendingLogons > 0 && len(pending) >= s.MaxPendingLogons {
			out.EvictedLogons++
			oldest := 0
			for i, x := range pending {
				if x.ev.T < pending[oldest].ev.T || (x.ev.T == pending[oldest].ev.T && x.seq < pending[oldest].seq) {
					oldest = i
				}
			}
			if ev.T < pending[oldest].ev.T {
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
	Table int
	IP    netip.Addr
	Host  string
	T     int64
}

// CheckSuppress checks what a backend emitted with suppress d against the pairs the rule fires
// (Simulate's Fired, which suppress does not change): every emitted pair fires; no two emitted
// alerts of one (address, host, table) are less than d apart; and every (address, host, table)
// with a firing pair emitted at least one alert. It returns a description of each violation.
func CheckSuppress(fired map[[2]int]bool, logons map[int]Event, emitted []Emitted, d int64) []string {
	var bad []string
	type triple struct {
		ip    netip.Addr
		host  string
		table int
	}
	times := map[triple][]int64{}
	for _, a := range emitted {
		if !fired[[2]int{a.ID, a.Table}] {
			bad = append(bad, fmt.Sprintf("logon %d alerted for table %d, which the rule does not fire", a.ID, a.Table))
		}
		k := triple{a.IP.Unmap(), a.Host, a.Table}
		times[k] = append(times[k], a.T)
	}
	for k, ts := range times {
		slices.Sort(ts)
		for i := 1; i < len(ts); i++ {
			if ts[i]-ts[i-1] < d {
				bad = append(bad, fmt.Sprintf("%v: alerts at %d and %d, less than %d apart", k, ts[i-1], ts[i], d))
			}
		}
	}
	for pair := range fired {
		l := logons[pair[0]]
		if k := (triple{l.IP.Unmap(), l.Host, pair[1]}); len(times[k]) == 0 {
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
