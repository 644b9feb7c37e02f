// Package windowtest holds the brute-force reference the state backends are checked against.
package windowtest

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"slices"
)

// Event is one input of a scenario: a failed sign-in of a table, or a logon with an id.
type Event struct {
	Logon bool
	ID    int
	Table int
	IP    netip.Addr
	T     int64
}

// Reference decides a scenario, given in arrival order, by brute force over every accepted event:
// an event is late (dropped) when it is more than window older than the largest time accepted
// before it; a logon alerts for a table when more than threshold accepted failures of that table
// (of any table when tables is 1) from its address fit with it in one interval of length window.
// It returns the (logon id, table) pairs that alert.
func Reference(threshold int, window int64, tables int, events []Event) map[[2]int]bool {
	clock := int64(0)
	var accepted []Event
	for _, ev := range events {
		if ev.T < clock-window {
			continue
		}
		clock = max(clock, ev.T)
		accepted = append(accepted, ev)
	}
	want := map[[2]int]bool{}
	for _, l := range accepted {
		if !l.Logon {
			continue
		}
		for tb := 0; tb < tables; tb++ {
			var f []int64
			for _, x := range accepted {
				if !x.Logon && x.IP.Unmap() == l.IP.Unmap() && (tables == 1 || x.Table == tb) {
					f = append(f, x.T)
				}
			}
			// The interval that holds the logon and the failures starts at the logon or at a failure.
			for _, a := range append([]int64{l.T}, f...) {
				if a > l.T || l.T > a+window {
					continue
				}
				n := 0
				for _, x := range f {
					if x >= a && x <= a+window {
						n++
					}
				}
				if n > threshold {
					want[[2]int{l.ID, tb}] = true
					break
				}
			}
		}
	}
	return want
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
