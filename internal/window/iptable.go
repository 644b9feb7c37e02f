package window

import (
	"iter"
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

// ipRecord is one tracked IP: 80 bytes. A table's first two failures live inline; a third one
// moves the table's failures to a block of ipTable.lists, which only IPs under attack need.
type ipRecord struct {
	key    ipKey
	newest int64               // latest failure time, the order of expiry and eviction
	qpos   uint32              // 1 + position of the record's live entry in ipTable.queue; 0 for none
	tag    uint32              // the key's hash tag in ipTable.index
	inline [maxTables][2]int64 // a table's failures, sorted, while it has at most two
	count  [maxTables]uint32
	list   [maxTables]uint32 // block in ipTable.lists when count > 2
}

const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
	nilIndex  = 0 // slot 0 is never used, so 0 means "no record"

	// prefetchMin is the table size from which a batch's records are loaded ahead of their
	// processing: below it the table stays in the CPU caches.
	prefetchMin = 1 << 15
)

// ipTable tracks failures per IP. Records sit in fixed-size chunks (no per-IP allocation, no
// doubling slack) and are found through an open-addressing hash table of 8-byte slots, so a
// lookup touches one slot line and the record itself. Records are ordered, for expiry and
// eviction, by a queue of updates in arrival order: an update appends an entry and marks the
// record's previous entry stale in a bitmap; stale entries are dropped lazily, so no update
// touches another IP's record, and dropping them reads the bitmap, not the records.
type ipTable struct {
	index index // record index by key

	chunks [][]ipRecord
	free   []uint32
	used   uint32 // slots handed out so far, slot 0 included

	queue []uint32 // record numbers in the order of their last update; some are stale
	stale []uint64 // bit p is set when queue[p] is stale: its record was updated again or dropped
	qhead int      // entries before it are consumed

	lists failureLists // sorted failures of the tables with more than two
	max   int

	hashes     []uint64 // scratch for prefetch
	prefetched []uint32 // scratch for prefetch
	sink       uint64   // keeps prefetch loads alive
}

func (t *ipTable) init(max int) {
	t.index.init()
	t.max = max
	t.used = 1
	t.chunks = [][]ipRecord{make([]ipRecord, chunkSize)}
}

func (t *ipTable) len() int { return t.index.n }

func (t *ipTable) rec(i uint32) *ipRecord { return &t.chunks[i>>chunkBits][i&(chunkSize-1)] }

func (t *ipTable) hash(k *ipKey) uint64 { return t.index.tag(k) }

// find returns the slot of k's record.
func (t *ipTable) find(k ipKey) (uint32, bool) {
	return t.findTagged(k, t.hash(&k))
}

func (t *ipTable) findTagged(k ipKey, tag uint64) (uint32, bool) {
	return t.index.find(tag, func(i uint32) bool { return t.rec(i).key == k })
}

// failures returns the sorted failure times of one table of record r. The slice is only valid
// until the table changes.
func (t *ipTable) failures(r *ipRecord, tb int) []int64 {
	c := r.count[tb]
	if c <= 2 {
		return r.inline[tb][:c]
	}
	return t.lists.get(r.list[tb], int(c))[:c:c] // callers must not append into the block
}

// add records a failure and returns the table's failures after it, and whether an IP had to be
// evicted to make room.
func (t *ipTable) add(k ipKey, tb int, ts, horizon, w int64, need int) (f []int64, evicted bool) {
	tag := t.hash(&k)
	i, ok := t.findTagged(k, tag)
	if !ok {
		if t.len() >= t.max {
			t.drop(t.front())
			evicted = true
		}
		i = t.alloc()
		*t.rec(i) = ipRecord{key: k, newest: ts, tag: uint32(tag)}
		t.index.insert(i, tag)
		t.pushBack(i)
	}
	r := t.rec(i)
	switch r.count[tb] {
	case 0:
		r.inline[tb][0] = ts
		r.count[tb] = 1
	case 1:
		first := r.inline[tb][0]
		r.inline[tb] = [2]int64{min(first, ts), max(first, ts)}
		r.count[tb] = 2
	case 2:
		b := t.lists.alloc(0)
		list := t.lists.block(0, b)[:2]
		copy(list, r.inline[tb][:])
		insertSorted(list, ts)
		r.list[tb] = b
		r.count[tb] = 3
	default:
		c, b := listClass(int(r.count[tb])), r.list[tb]
		list := t.lists.get(b, int(r.count[tb]))
		if list[0] < horizon {
			// Failures older than the horizon can no longer pair with any current event.
			cut, _ := slices.BinarySearch(list, horizon)
			list = slices.Delete(list, 0, cut)
		}
		if len(list) == cap(list) {
			b, list = t.lists.move(c, b, list, c+1)
			c++
		}
		list = insertSorted(list, ts) // in place: the block has room
		if len(list) >= 4*need {
			list = compact(list, w, need)
		}
		switch {
		case len(list) <= 2:
			copy(r.inline[tb][:], list)
			t.lists.release(c, b)
			b = 0
		case listClass(len(list)) != c:
			b, _ = t.lists.move(c, b, list, listClass(len(list)))
		}
		r.list[tb] = b
		r.count[tb] = uint32(len(list))
	}
	if ts > r.newest {
		r.newest = ts
		t.pushBack(i)
	}
	return t.failures(r, tb), evicted
}

// expire drops the IPs whose newest failure is older than horizon and prunes old failures of
// the rest lazily (a stale failure can never fire: it is more than a window from any current event).
func (t *ipTable) expire(horizon int64) int {
	n := 0
	for i := t.front(); i != nilIndex && t.rec(i).newest < horizon; i = t.front() {
		t.drop(i)
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
		if c := r.count[tb]; c > 2 {
			t.lists.release(listClass(int(c)), r.list[tb])
		}
	}
	t.index.remove(i, uint64(r.tag))
	t.markStale(r)
	*r = ipRecord{}
	t.free = append(t.free, i)
}

// pushBack makes record i the newest in the order of expiry and eviction.
func (t *ipTable) pushBack(i uint32) {
	r := t.rec(i)
	t.markStale(r)
	if n := t.len(); len(t.queue)-n > 64 && len(t.queue) > 2*n {
		t.compactQueue()
	}
	p := len(t.queue)
	t.queue = append(t.queue, i)
	if p>>6 == len(t.stale) {
		t.stale = append(t.stale, 0)
	}
	r.qpos = uint32(p + 1)
}

// markStale marks r's entry in the queue, if it has one, as stale.
func (t *ipTable) markStale(r *ipRecord) {
	if r.qpos != 0 {
		p := r.qpos - 1
		t.stale[p>>6] |= 1 << (p & 63)
	}
}

func (t *ipTable) isStale(p int) bool { return t.stale[p>>6]&(1<<(p&63)) != 0 }

// compactQueue keeps only the live entries, in order. Each record has exactly one, so this runs
// at most once every t.len() updates. Only the records whose entry moves are written to.
func (t *ipTable) compactQueue() {
	w := 0
	for p := t.qhead; p < len(t.queue); p++ {
		if t.isStale(p) {
			continue
		}
		if i := t.queue[p]; w != p {
			t.queue[w] = i
			t.rec(i).qpos = uint32(w + 1)
		}
		w++
	}
	t.queue, t.qhead = t.queue[:w], 0
	clear(t.stale)
	t.stale = t.stale[:(w+63)>>6]
}

// front returns the record updated longest ago, or nilIndex.
func (t *ipTable) front() uint32 {
	for ; t.qhead < len(t.queue); t.qhead++ {
		if !t.isStale(t.qhead) {
			return t.queue[t.qhead]
		}
	}
	return nilIndex
}

// oldestFirst yields the records from the one updated longest ago to the newest.
func (t *ipTable) oldestFirst() iter.Seq[uint32] {
	return func(yield func(uint32) bool) {
		for p := t.qhead; p < len(t.queue); p++ {
			if !t.isStale(p) && !yield(t.queue[p]) {
				return
			}
		}
	}
}

// prefetch loads the slots and records of a batch's addresses ahead of their processing, so that
// in a table too large for the CPU caches their misses overlap instead of coming one by one. It
// changes nothing.
func (t *ipTable) prefetch(n int, addr func(int) netip.Addr) {
	if t.len() < prefetchMin {
		return
	}
	// Three tight loops rather than one: a loop whose body is a single independent load keeps
	// many misses in flight at once.
	t.hashes = t.hashes[:0]
	for j := 0; j < n; j++ {
		k := keyOf(addr(j))
		t.hashes = append(t.hashes, t.hash(&k))
	}
	sink := t.sink
	slots, mask := t.index.slots, t.index.mask
	for _, tag := range t.hashes {
		sink += slots[tag&mask]
	}
	idx := t.prefetched[:0]
	for _, tag := range t.hashes {
		if i := t.index.home(tag); i != nilIndex { // most keys sit in their home slot
			idx = append(idx, i)
		}
	}
	t.prefetched = idx
	for _, i := range idx {
		r := t.rec(i)
		sink += uint64(r.key[0]) + uint64(r.list[maxTables-1]) // its first and last bytes: both its lines
	}
	// The failure lists of IPs with more than two failures: their first and last lines.
	for _, i := range idx {
		r := t.rec(i)
		for tb := range maxTables {
			if n := r.count[tb]; n > 2 {
				l := t.lists.get(r.list[tb], int(n))
				sink += uint64(l[0]) + uint64(l[n-1])
			}
		}
	}
	t.sink = sink
}
