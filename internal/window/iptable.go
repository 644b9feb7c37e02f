package window

import (
	"net/netip"
	"slices"
)

const maxTables = 2

// ipKey is an address in its 16-byte form (IPv4 as ::ffff:a.b.c.d): comparable, with no pointer
// for the garbage collector to scan, and 8 bytes smaller than netip.Addr.
type ipKey [16]byte

func keyOf(a netip.Addr) ipKey { return a.Unmap().As16() }

// Addr returns the key as a normalised address.
func (k ipKey) Addr() netip.Addr { return netip.AddrFrom16(k).Unmap() }

// ipRecord is one tracked IP: 64 bytes. A table's single failure lives inline; a second one moves
// the table's failures to a slice in ipTable.lists, which only IPs under attack need.
type ipRecord struct {
	key        ipKey
	newest     int64 // latest failure time, the order of expiry and eviction
	prev, next uint32
	first      [maxTables]int64
	count      [maxTables]uint32
	list       [maxTables]uint32 // index in ipTable.lists when count > 1
}

const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
	nilIndex  = 0 // slot 0 is never used, so 0 marks the ends of the list
)

// ipTable tracks failures per IP in fixed-size chunks (no per-IP allocation, no doubling slack),
// found through a map from key to slot, and linked in order of newest failure so the IPs that
// matter least are at the head.
type ipTable struct {
	index     map[ipKey]uint32
	chunks    [][]ipRecord
	free      []uint32
	used      uint32 // slots handed out so far, slot 0 included
	head      uint32
	tail      uint32
	lists     [][]int64 // sorted failures of the tables with more than one
	freeLists []uint32
	max       int
	window    []int64 // scratch for the single-failure view
}

func (t *ipTable) init(max int) {
	t.index = map[ipKey]uint32{}
	t.lists = [][]int64{nil} // list 0 is never used
	t.max = max
	t.used = 1
	t.chunks = [][]ipRecord{make([]ipRecord, chunkSize)}
	t.window = make([]int64, 1)
}

func (t *ipTable) len() int { return len(t.index) }

func (t *ipTable) rec(i uint32) *ipRecord { return &t.chunks[i>>chunkBits][i&(chunkSize-1)] }

func (t *ipTable) newList(f []int64) uint32 {
	if n := len(t.freeLists); n > 0 {
		i := t.freeLists[n-1]
		t.freeLists = t.freeLists[:n-1]
		t.lists[i] = f
		return i
	}
	t.lists = append(t.lists, f)
	return uint32(len(t.lists) - 1)
}

func (t *ipTable) freeList(i uint32) {
	t.lists[i] = nil
	t.freeLists = append(t.freeLists, i)
}

// failures returns the sorted failure times of one table of slot i. The slice is only valid until
// the next call.
func (t *ipTable) failures(i uint32, r *ipRecord, tb int) []int64 {
	switch r.count[tb] {
	case 0:
		return nil
	case 1:
		t.window[0] = r.first[tb]
		return t.window
	}
	return t.lists[r.list[tb]]
}

// add records a failure and returns the table's failures after it, and whether an IP had to be
// evicted to make room.
func (t *ipTable) add(k ipKey, tb int, ts, horizon, w int64, need int) (f []int64, evicted bool) {
	i, ok := t.index[k]
	if !ok {
		if len(t.index) >= t.max {
			t.drop(t.head)
			evicted = true
		}
		i = t.alloc()
		r := t.rec(i)
		*r = ipRecord{key: k, newest: ts}
		t.index[k] = i
		t.pushBack(i)
	}
	r := t.rec(i)
	switch r.count[tb] {
	case 0:
		r.first[tb] = ts
		r.count[tb] = 1
	case 1:
		first := r.first[tb]
		pair := make([]int64, 2, 4)
		pair[0], pair[1] = min(first, ts), max(first, ts)
		r.list[tb] = t.newList(pair)
		r.count[tb] = 2
	default:
		list := t.lists[r.list[tb]]
		if list[0] < horizon {
			// Failures older than the horizon can no longer pair with any current event.
			cut, _ := slices.BinarySearch(list, horizon)
			list = slices.Delete(list, 0, cut)
		}
		list = insertSorted(list, ts)
		if len(list) >= 4*need {
			list = compact(list, w, need)
		}
		if len(list) == 1 {
			r.first[tb] = list[0]
			t.freeList(r.list[tb])
			r.list[tb] = 0
		} else {
			t.lists[r.list[tb]] = list
		}
		r.count[tb] = uint32(len(list))
	}
	if ts > r.newest {
		r.newest = ts
		t.unlink(i)
		t.pushBack(i)
	}
	return t.failures(i, r, tb), evicted
}

// expire drops the IPs whose newest failure is older than horizon and prunes old failures of
// the rest lazily (a stale failure can never fire: it is more than a window from any current event).
func (t *ipTable) expire(horizon int64) int {
	n := 0
	for t.head != nilIndex && t.rec(t.head).newest < horizon {
		t.drop(t.head)
		n++
	}
	return n
}

func (t *ipTable) alloc() uint32 {
	if n := len(t.free); n > 0 {
		i := t.free[n-1]
		t.free = t.free[:n-1]
		return i
	}
	i := t.used
	t.used++
	if int(i>>chunkBits) == len(t.chunks) {
		t.chunks = append(t.chunks, make([]ipRecord, chunkSize))
	}
	return i
}

func (t *ipTable) drop(i uint32) {
	r := t.rec(i)
	for tb := 0; tb < maxTables; tb++ {
		if r.count[tb] > 1 {
			t.freeList(r.list[tb])
		}
	}
	delete(t.index, r.key)
	t.unlink(i)
	*r = ipRecord{}
	t.free = append(t.free, i)
}

func (t *ipTable) pushBack(i uint32) {
	r := t.rec(i)
	r.prev, r.next = t.tail, nilIndex
	if t.tail != nilIndex {
		t.rec(t.tail).next = i
	} else {
		t.head = i
	}
	t.tail = i
}

func (t *ipTable) unlink(i uint32) {
	r := t.rec(i)
	if r.prev != nilIndex {
		t.rec(r.prev).next = r.next
	} else if t.head == i {
		t.head = r.next
	}
	if r.next != nilIndex {
		t.rec(r.next).prev = r.prev
	} else if t.tail == i {
		t.tail = r.prev
	}
	r.prev, r.next = nilIndex, nilIndex
}
