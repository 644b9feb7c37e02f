package window

import (
	"bytes"
	"cmp"
	"container/heap"
	"slices"
	"strings"
)

// suppressKey is what suppress limits: one (IpAddress, Computer, SigninTable).
type suppressKey struct {
	addr  ipKey
	host  string
	table int
}

func compareSuppressKeys(a, b *suppressKey) int {
	if c := cmp.Compare(a.table, b.table); c != 0 {
		return c
	}
	if c := bytes.Compare(a.addr[:], b.addr[:]); c != 0 {
		return c
	}
	return strings.Compare(a.host, b.host)
}

// marks remember the logon times of the alerts emitted per suppressKey, so that no two emitted
// alerts of one key are less than the suppress interval apart, whatever the order in which their
// logons arrive. Every emitted time is kept (not only the latest): a logon that arrives late may
// fall between two of them. A mark is kept while a logon that it could hold back may still alert,
// and it is dropped by event time only, so traffic of other addresses cannot change a decision.
type marks struct {
	byKey map[suppressKey][]int64 // emitted logon times, ascending, pairwise at least d apart
	order markHeap                // every mark by (time, key): expiry and eviction
}

// markRef is one mark in the order of expiry and eviction.
type markRef struct {
	time int64
	key  suppressKey
}

func (m *marks) init() { m.byKey = map[suppressKey][]int64{} }

func (m *marks) len() int { return len(m.order) }

// holdsBack reports whether a mark of k is less than d from t.
func (m *marks) holdsBack(k *suppressKey, t, d int64) bool {
	list := m.byKey[*k]
	i, found := slices.BinarySearch(list, t)
	if found {
		return true
	}
	return (i < len(list) && list[i]-t < d) || (i > 0 && t-list[i-1] < d)
}

// add records a mark of k at t (not held back). At the bound max the oldest mark goes first; it
// reports whether one had to.
func (m *marks) add(k suppressKey, t int64, max int) (evicted bool) {
	if m.len() >= max {
		m.popOldest()
		evicted = true
	}
	list := m.byKey[k]
	i, _ := slices.BinarySearch(list, t)
	m.byKey[k] = slices.Insert(list, i, t)
	heap.Push(&m.order, markRef{time: t, key: k})
	return evicted
}

// expire drops the marks at or before oldest and returns how many.
func (m *marks) expire(oldest int64) int {
	n := 0
	for len(m.order) > 0 && m.order[0].time <= oldest {
		m.popOldest()
		n++
	}
	return n
}

// popOldest drops the oldest mark: the first of its key's list, which is sorted.
func (m *marks) popOldest() {
	ref := heap.Pop(&m.order).(markRef)
	list := m.byKey[ref.key]
	if len(list) <= 1 {
		delete(m.byKey, ref.key)
		return
	}
	m.byKey[ref.key] = slices.Delete(list, 0, 1)
}

// markHeap orders marks by (time, key).
type markHeap []markRef

func (h markHeap) Len() int           { return len(h) }
func (h markHeap) Less(i, j int) bool { return compareMarks(&h[i], &h[j]) < 0 }
func (h markHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *markHeap) Push(x any)        { *h = append(*h, x.(markRef)) }
func (h *markHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = markRef{}
	*h = old[:len(old)-1]
	return r
}

func compareMarks(a, b *markRef) int {
	if c := cmp.Compare(a.time, b.time); c != 0 {
		return c
	}
	return compareSuppressKeys(&a.key, &b.key)
}

// sorted returns every mark, oldest first.
func (m *marks) sorted() []markRef {
	out := slices.Clone(m.order)
	slices.SortFunc(out, func(a, b markRef) int { return compareMarks(&a, &b) })
	return out
}
