package window

import (
	"bytes"
	"cmp"
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
	order []markRef               // min-heap of every mark by (time, key): expiry and eviction
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
	m.push(markRef{time: t, key: k})
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
	ref := m.order[0]
	last := len(m.order) - 1
	m.order[0] = m.order[last]
	m.order[last] = markRef{}
	m.order = m.order[:last]
	m.down(0)
	list := m.byKey[ref.key]
	if len(list) <= 1 {
		delete(m.byKey, ref.key)
		return
	}
	m.byKey[ref.key] = slices.Delete(list, 0, 1)
}

func (m *marks) less(i, j int) bool {
	a, b := &m.order[i], &m.order[j]
	if a.time != b.time {
		return a.time < b.time
	}
	return compareSuppressKeys(&a.key, &b.key) < 0
}

func (m *marks) push(r markRef) {
	m.order = append(m.order, r)
	for i := len(m.order) - 1; i > 0; {
		p := (i - 1) / 2
		if !m.less(i, p) {
			break
		}
		m.order[i], m.order[p] = m.order[p], m.order[i]
		i = p
	}
}

func (m *marks) down(i int) {
	for n := len(m.order); ; {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && m.less(c+1, c) {
			c++
		}
		if !m.less(c, i) {
			return
		}
		m.order[i], m.order[c] = m.order[c], m.order[i]
		i = c
	}
}

// sorted returns every mark, oldest first.
func (m *marks) sorted() []markRef {
	out := slices.Clone(m.order)
	slices.SortFunc(out, func(a, b markRef) int {
		if c := cmp.Compare(a.time, b.time); c != 0 {
			return c
		}
		return compareSuppressKeys(&a.key, &b.key)
	})
	return out
}
