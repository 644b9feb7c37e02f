package window

import (
	"bytes"
	"cmp"
	"container/heap"
	"slices"
	"strings"
)

// suppressKey is what suppress limits: one (rule, counter, address, host): for the seed, one
// (IpAddress, Computer, SigninTable).
type suppressKey struct {
	rule    int
	counter int
	addr    ipKey
	host    string
}

func compareSuppressKeys(a, b *suppressKey) int {
	if c := cmp.Compare(a.rule, b.rule); c != 0 {
		return c
	}
	if c := cmp.Compare(a.counter, b.counter); c != 0 {
		return c
	}
	if c := bytes.Compare(a.addr[:], b.addr[:]); c != 0 {
		return c
	}
	return strings.Compare(a.host, b.host)
}

// marks remember the success times of the alerts emitted per suppressKey, so that no two emitted
// alerts of one key are less than the suppress interval apart, whatever the order in which their
// successes arrive. Every emitted time is kept (not only the latest): a success that arrives late
// may fall between two of them. A mark is kept while a success that it could hold back may still
// alert (its due time), and it is dropped by event time only, so traffic of other addresses cannot
// change a decision.
type marks struct {
	byKey map[suppressKey][]int64 // emitted success times, ascending, pairwise at least d apart
	order markHeap                // every mark by (due, key): expiry and eviction
}

// markRef is one mark in the order of expiry and eviction.
type markRef struct {
	due  int64 // when no success it holds back can alert any more
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

// add records a mark of k at t, due at due (not held back). At the bound max the mark due first
// goes; it reports whether one had to.
func (m *marks) add(k suppressKey, t, due int64, max int) (evicted bool) {
	if m.len() >= max {
		m.popOldest()
		evicted = true
	}
	list := m.byKey[k]
	i, _ := slices.BinarySearch(list, t)
	m.byKey[k] = slices.Insert(list, i, t)
	heap.Push(&m.order, markRef{due: due, time: t, key: k})
	return evicted
}

// expire drops the marks due at or before clock and returns how many.
func (m *marks) expire(clock int64) int {
	n := 0
	for len(m.order) > 0 && m.order[0].due <= clock {
		m.popOldest()
		n++
	}
	return n
}

// popOldest drops the mark due first: the first of its key's list, which is sorted (a key's marks
// are due a fixed time after their own).
func (m *marks) popOldest() {
	ref := heap.Pop(&m.order).(markRef)
	list := m.byKey[ref.key]
	if len(list) <= 1 {
		delete(m.byKey, ref.key)
		return
	}
	m.byKey[ref.key] = slices.Delete(list, 0, 1)
}

// markHeap orders marks by (due, key).
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
	if c := cmp.Compare(a.due, b.due); c != 0 {
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
