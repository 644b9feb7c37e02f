package window

import (
	"bytes"
	"hash/maphash"
	"iter"
	"math"
	"math/bits"
	"net/netip"
	"slices"
)

// ipKey is an address in its 16-byte form (IPv4 as ::ffff:a.b.c.d): comparable, with no pointer
// for the garbage collector to scan, and 8 bytes smaller than netip.Addr.
type ipKey [16]byte

func keyOf(a netip.Addr) ipKey { return a.Unmap().As16() }

// Addr returns the key as a normalised address.
func (k ipKey) Addr() netip.Addr { return netip.AddrFrom16(k).Unmap() }

// inlineFailures is how many failures a record holds itself; from one more, they move to a block
// of ipTable.lists, which only addresses under attack need.
const inlineFailures = 4

// ipRecord is the failures of one address for one counter (a failure source, or sources counted
// together): 64 bytes, one cache line (records sit in page-aligned chunks). When the failures are
// listed, inline[0] holds the block's number and inline[1] the count.
type ipRecord struct {
	key     ipKey
	newest  int64                 // latest failure time: with the counter's span, the order of expiry and eviction
	qpos    uint32                // 1 + position of its live entry in ipTable.queue, or inLate | position in ipTable.late; 0 for none
	counter uint16                // which counter
	shape   uint16                // failures inline (0 to inlineFailures), or listed
	inline  [inlineFailures]int64 // the failures, sorted; or, when listed, block and count
}

// listed is a record's shape when its failures are in a block of ipTable.lists.
const listed = 0xffff

// count is how many failures the record keeps.
func (r *ipRecord) count() int {
	if r.shape != listed {
		return int(r.shape)
	}
	return int(r.inline[1])
}

// setList records that the n failures are in block b.
func (r *ipRecord) setList(b uint32, n int) {
	r.shape = listed
	r.inline[0], r.inline[1] = int64(b), int64(n)
}

// block is the block of a listed record.
func (r *ipRecord) block() uint32 { return uint32(r.inline[0]) }

const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
	nilIndex  = 0 // slot 0 is never used, so 0 means "no record"

	// prefetchMin is the table size from which a batch's records are loaded ahead of their
	// processing: below it the table stays in the CPU caches.
	prefetchMin = 1 << 15
)

// ipTable tracks failures per (counter, address). Records sit in fixed-size chunks (no per-IP
// allocation, no doubling slack) and are found through an open-addressing hash table of 8-byte
// slots, so a lookup touches one slot line and the record itself.
//
// Expiry and eviction take records in the order of when they expire: their newest failure's event
// time plus their counter's span (how long a counter's failures may still pair with a current
// event), ties broken by address, then counter. With one span for all counters (one rule, or rules
// of one window) that is the order of the newest failures. Most updates arrive in that order, and
// they are appended to a queue that stays sorted: an update appends an entry and marks the record's
// previous entry stale in a bitmap; stale entries are dropped lazily, so no update touches another
// IP's record, and dropping them reads the bitmap, not the records. An update that would break the
// queue's order (a failure older than the newest one queued) goes to a heap instead; the oldest
// record is the first of the two.
//
// Records due alike (a batch of failures stamped alike from many addresses) join the queue's last
// segment, the entries due at its latest due time, in whatever order of address they come; the
// segment is sorted once, when a later due time starts a new one or the order reaches it. So such
// a batch costs a sort, not a heap insertion each, and a failure later than every queued one (the
// common case) is one append.
type ipTable struct {
	index index // record index by key

	chunks [][]ipRecord
	ids    handles // record numbers; 0 is never used

	queue []uint32 // record numbers by (due, key, counter) ascending; some are stale
	stale []uint64 // bit p is set when queue[p] is stale: its record was updated again or dropped
	qhead int      // entries before it are consumed
	// The queue's latest due time, and the largest (address, counter) appended with it: a record
	// joins the queue only at or after them, or, due at tailDue, in its last segment.
	tailDue     int64
	tailKey     ipKey
	tailCounter uint16
	// The last segment: the entries from segStart on, all due at tailDue. segUnsorted says that
	// they are not yet in order of address and counter.
	segStart    int
	segUnsorted bool
	late        []lateEntry // min-heap of the records updated out of order
	// nextDue is at most the due time of every record: expiry has nothing to drop until the clock
	// passes it, so a clock that moves a little per failure costs one comparison.
	nextDue int64

	lists failureLists // sorted failures of the records with more than inlineFailures
	max   int
	spans []int64 // per counter: how long after its newest failure a record expires

	hashes     []uint64 // scratch for prefetch
	prefetched []uint32 // scratch for prefetch
	sink       uint64   // keeps prefetch loads alive
}

// lateEntry is a record in ipTable.late, with when it expires kept beside it for comparisons.
type lateEntry struct {
	due int64
	rec uint32
}

// inLate marks a record's qpos as a position in ipTable.late rather than in the queue.
const inLate = 1 << 31

func (t *ipTable) init(max int, spans []int64, seed maphash.Seed) {
	t.index.init(seed)
	t.max = max
	t.spans = spans
	t.ids.next = 1
	t.chunks = [][]ipRecord{make([]ipRecord, chunkSize)}
	t.nextDue = math.MaxInt64
}

func (t *ipTable) len() int { return t.index.n }

func (t *ipTable) rec(i uint32) *ipRecord { return &t.chunks[i>>chunkBits][i&(chunkSize-1)] }

// hash is the tag of (k, c).
func (t *ipTable) hash(k *ipKey, c int) uint64 { return counterTag(hashKey(t.index.seed, k), c) }

// find returns the slot of the record of (k, c).
func (t *ipTable) find(k ipKey, c int) (uint32, bool) {
	return t.findTagged(k, c, t.hash(&k, c))
}

func (t *ipTable) findTagged(k ipKey, c int, tag uint64) (uint32, bool) {
	return t.index.find(tag, func(i uint32) bool {
		r := t.rec(i)
		return r.key == k && int(r.counter) == c
	})
}

// failures returns the sorted failure times of record r. The slice is only valid until the record
// changes.
func (t *ipTable) failures(r *ipRecord) []int64 {
	if r.shape != listed {
		return r.inline[:r.shape]
	}
	n := r.count()
	return t.lists.get(r.block(), n)[:n:n] // callers must not append into the block
}

// due is when record r expires: its newest failure plus its counter's span.
func (t *ipTable) due(r *ipRecord) int64 { return satAdd(r.newest, t.spans[r.counter]) }

// satAdd is a + b, held at the largest int64 rather than wrapping (b >= 0).
func satAdd(a, b int64) int64 {
	if s := a + b; s >= a {
		return s
	}
	return math.MaxInt64
}

// add records a failure of counter c and returns the record (its failures are failures(rec(i))),
// whether a record had to be evicted to make room, and whether the failure was kept (a new record
// that is itself the first to go at the bound is the one evicted; then i is nilIndex). Failures
// older than horizon are pruned; w and need (the counter's window and threshold+1) drive compaction.
func (t *ipTable) add(k ipKey, c int, ts, horizon, w int64, need int) (i uint32, evicted, kept bool) {
	return t.addTagged(k, c, t.hash(&k, c), ts, horizon, w, need)
}

// addTagged is add with the tag of (k, c) already computed.
func (t *ipTable) addTagged(k ipKey, c int, tag uint64, ts, horizon, w int64, need int) (i uint32, evicted, kept bool) {
	i, ok := t.findTagged(k, c, tag)
	if !ok {
		if i, evicted = t.insert(k, c, tag, ts); i == nilIndex {
			return nilIndex, true, false
		}
	}
	r := t.rec(i)
	switch n := int(r.shape); {
	case r.shape != listed && n < inlineFailures:
		insertSorted(r.inline[:n], ts) // in place: inline has room
		r.shape++
	case r.shape != listed:
		b := t.lists.alloc(0)
		list := t.lists.block(0, b)[:n]
		copy(list, r.inline[:])
		insertSorted(list, ts) // in place
		r.setList(b, n+1)
	default:
		n := r.count()
		cl, b := listClass(n), r.block()
		list := t.lists.get(b, n)
		if list[0] < horizon {
			// Failures older than the horizon can no longer pair with any current event.
			cut, _ := slices.BinarySearch(list, horizon)
			list = slices.Delete(list, 0, cut)
		}
		if len(list) == cap(list) {
			b, list = t.lists.move(cl, b, list, cl+1)
			cl++
		}
		list = insertSorted(list, ts) // in place: the block has room
		if len(list) >= 4*need {
			list = compact(list, w, need)
		}
		switch {
		case len(list) <= inlineFailures:
			var kept [inlineFailures]int64
			copy(kept[:], list)
			r.inline = kept
			r.shape = uint16(len(list))
			t.lists.release(cl, b)
		case listClass(len(list)) != cl:
			b, _ = t.lists.move(cl, b, list, listClass(len(list)))
			fallthrough
		default:
			r.setList(b, len(list))
		}
	}
	if ts > r.newest {
		r.newest = ts
		t.pushBack(i)
	}
	return i, evicted, true
}

// insert adds a record for (k, c) with its newest failure at newest. At the bound the record that
// expires first goes, which may be the new one: then it returns nilIndex. It also reports whether a
// record was evicted (expired ones are already gone: expire runs whenever the clock moves).
func (t *ipTable) insert(k ipKey, c int, tag uint64, newest int64) (i uint32, evicted bool) {
	if t.len() >= t.max {
		v := t.front()
		if r := t.rec(v); before(satAdd(newest, t.spans[c]), &k, uint16(c), t.due(r), &r.key, r.counter) {
			return nilIndex, true
		}
		t.drop(v)
		evicted = true
	}
	i = t.alloc()
	*t.rec(i) = ipRecord{key: k, newest: newest, counter: uint16(c)}
	t.index.insert(i, tag)
	t.pushBack(i)
	return i, evicted
}

// before is the order of expiry and eviction: by due time, then address, then counter.
func before(due int64, k *ipKey, c uint16, due2 int64, k2 *ipKey, c2 uint16) bool {
	if due != due2 {
		return due < due2
	}
	if x := bytes.Compare(k[:], k2[:]); x != 0 {
		return x < 0
	}
	return c < c2
}

// older reports whether record i comes before record j in the order of expiry and eviction.
func (t *ipTable) older(i, j uint32) bool {
	a, b := t.rec(i), t.rec(j)
	return before(t.due(a), &a.key, a.counter, t.due(b), &b.key, b.counter)
}

// expire drops the records due before clock and prunes old failures of the rest lazily (a stale
// failure can never fire: it is more than a window from any current event).
func (t *ipTable) expire(clock int64) int {
	if clock <= t.nextDue {
		return 0
	}
	return t.expireFront(clock)
}

// expireFront is expire past nextDue: it drops the first records while they are due before clock,
// and leaves nextDue at the due time of the first one kept.
func (t *ipTable) expireFront(clock int64) int {
	n := 0
	for {
		i := t.front()
		if i == nilIndex {
			t.nextDue = math.MaxInt64
			return n
		}
		if due := t.due(t.rec(i)); due >= clock {
			t.nextDue = due
			return n
		}
		t.drop(i)
		n++
	}
}

func (t *ipTable) alloc() uint32 {
	i, fresh := t.ids.take()
	if fresh && int(i>>chunkBits) == len(t.chunks) {
		t.chunks = append(t.chunks, make([]ipRecord, chunkSize))
	}
	return i
}

func (t *ipTable) drop(i uint32) {
	r := t.rec(i)
	if r.shape == listed {
		t.lists.release(listClass(r.count()), r.block())
	}
	t.index.remove(i, t.hash(&r.key, int(r.counter)))
	t.unlink(r)
	*r = ipRecord{}
	t.ids.release(i)
}

// pushBack places record i, new or with a newer newest failure, in the order of expiry and
// eviction: at the end of the queue when it is due after every queued record (a new last segment),
// in the last segment when it is due with it, else in the heap of late updates.
func (t *ipTable) pushBack(i uint32) {
	r := t.rec(i)
	t.unlink(r)
	due := t.due(r)
	t.nextDue = min(t.nextDue, due)
	switch queued := t.len() - 1 - len(t.late); { // live queue entries besides r
	case queued == 0 || due > t.tailDue:
		if t.segUnsorted {
			if queued > 0 {
				t.sortSegment() // it is no longer the last one
			}
			t.segUnsorted = false // else all its entries are stale
		}
		t.queueAppend(i, r, due)
		t.segStart = len(t.queue) - 1
	case due == t.tailDue:
		if before(due, &r.key, r.counter, due, &t.tailKey, t.tailCounter) {
			// Out of order within the segment: it is sorted before anything reads it.
			key, counter := t.tailKey, t.tailCounter
			t.queueAppend(i, r, due)
			t.tailKey, t.tailCounter = key, counter
			t.segUnsorted = true
			return
		}
		t.queueAppend(i, r, due)
	default:
		t.lateInsert(i)
	}
}

// queueAppend appends record r, number i, due at due, to the queue, which it must sort at the end
// of (or in the last segment of).
func (t *ipTable) queueAppend(i uint32, r *ipRecord, due int64) {
	if n := t.len(); len(t.queue)-n > 64 && len(t.queue) > 2*n {
		t.compactQueue()
	}
	p := len(t.queue)
	t.queue = append(t.queue, i)
	if p>>6 == len(t.stale) {
		t.stale = append(t.stale, 0)
	}
	r.qpos = uint32(p + 1)
	t.tailDue, t.tailKey, t.tailCounter = due, r.key, r.counter
}

// sortSegment puts the live entries of the last segment in order of address and counter; its stale
// entries go.
func (t *ipTable) sortSegment() {
	lo := max(t.segStart, t.qhead) // entries before qhead are all stale
	live := t.queue[lo:lo]
	for p := lo; p < len(t.queue); p++ {
		if !t.isStale(p) {
			live = append(live, t.queue[p]) // in place: it writes at or before what it reads
		}
	}
	t.sortSameDue(live)
	for j, i := range live {
		t.rec(i).qpos = uint32(lo + j + 1)
	}
	for p := lo; p < len(t.queue); p++ {
		t.stale[p>>6] &^= 1 << (p & 63)
	}
	t.queue = t.queue[:lo+len(live)]
	t.stale = t.stale[:(len(t.queue)+63)>>6]
	t.segUnsorted = false
}

// sortSameDue sorts records that are due alike by address, then counter.
func (t *ipTable) sortSameDue(recs []uint32) {
	if len(recs) < 2 {
		return
	}
	slices.SortFunc(recs, func(a, b uint32) int {
		x, y := t.rec(a), t.rec(b)
		if c := bytes.Compare(x.key[:], y.key[:]); c != 0 {
			return c
		}
		return int(x.counter) - int(y.counter)
	})
}

// unlink takes r out of the order: its queue entry becomes stale, or it leaves the heap.
func (t *ipTable) unlink(r *ipRecord) {
	switch {
	case r.qpos == 0:
	case r.qpos&inLate != 0:
		t.lateRemove(int(r.qpos &^ inLate))
	default:
		p := r.qpos - 1
		t.stale[p>>6] |= 1 << (p & 63)
	}
	r.qpos = 0
}

func (t *ipTable) isStale(p int) bool { return t.stale[p>>6]&(1<<(p&63)) != 0 }

// compactQueue keeps only the live entries, in order. Each record has exactly one, so this runs
// at most once every t.len() updates. Only the records whose entry moves are written to.
func (t *ipTable) compactQueue() {
	seg := t.liveBetween(t.qhead, t.segStart) // where the last segment starts after
	w := 0
	// A word of the bitmap at a time: updates in time order leave long runs all stale or all live.
	for k := t.qhead >> 6; k<<6 < len(t.queue); k++ {
		base := k << 6
		live := ^t.stale[k]
		if base < t.qhead {
			live &= ^uint64(0) << (t.qhead - base)
		}
		if n := len(t.queue) - base; n < 64 {
			live &= 1<<n - 1
		}
		for ; live != 0; live &= live - 1 {
			p := base + bits.TrailingZeros64(live)
			if i := t.queue[p]; w != p {
				t.queue[w] = i
				t.rec(i).qpos = uint32(w + 1)
			}
			w++
		}
	}
	t.queue, t.qhead, t.segStart = t.queue[:w], 0, seg
	clear(t.stale)
	t.stale = t.stale[:(w+63)>>6]
}

// liveBetween counts the live queue entries at positions lo to hi-1.
func (t *ipTable) liveBetween(lo, hi int) int {
	n := 0
	hi = min(hi, len(t.queue))
	for p := lo; p < hi; {
		k := p >> 6
		live := ^t.stale[k] & (^uint64(0) << (p & 63))
		if end := (k + 1) << 6; hi < end {
			live &= 1<<(hi&63) - 1
		}
		n += bits.OnesCount64(live)
		p = (k + 1) << 6
	}
	return n
}

// queueFront returns the first live entry of the queue, or nilIndex.
func (t *ipTable) queueFront() uint32 {
	for t.qhead < len(t.queue) {
		if t.segUnsorted && t.qhead >= t.segStart {
			t.sortSegment()
			continue
		}
		if !t.isStale(t.qhead) {
			return t.queue[t.qhead]
		}
		t.qhead++
	}
	return nilIndex
}

// front returns the record due first (ties: the lowest address, then counter), or nilIndex.
func (t *ipTable) front() uint32 {
	q := t.queueFront()
	if len(t.late) == 0 {
		return q
	}
	if l := t.late[0].rec; q == nilIndex || t.older(l, q) {
		return l
	}
	return q
}

// oldestFirst yields the records in the order of expiry and eviction. It changes nothing: an
// unsorted last segment is read through a sorted copy.
func (t *ipTable) oldestFirst() iter.Seq[uint32] {
	return func(yield func(uint32) bool) {
		late := make([]uint32, len(t.late))
		for j, e := range t.late {
			late[j] = e.rec
		}
		slices.SortFunc(late, func(a, b uint32) int {
			if t.older(a, b) {
				return -1
			}
			return 1
		})
		end := len(t.queue) // the queue up to the unsorted segment, then seg
		var seg []uint32
		if t.segUnsorted {
			end = max(t.segStart, t.qhead)
			for p := end; p < len(t.queue); p++ {
				if !t.isStale(p) {
					seg = append(seg, t.queue[p])
				}
			}
			t.sortSameDue(seg)
		}
		p := t.qhead
		for {
			for p < end && t.isStale(p) {
				p++
			}
			q := uint32(nilIndex)
			if p < end {
				q = t.queue[p]
			} else if len(seg) > 0 {
				q = seg[0]
			}
			var next uint32
			switch {
			case q != nilIndex && (len(late) == 0 || t.older(q, late[0])):
				next = q
				if p < end {
					p++
				} else {
					seg = seg[1:]
				}
			case len(late) > 0:
				next, late = late[0], late[1:]
			default:
				return
			}
			if !yield(next) {
				return
			}
		}
	}
}

// The heap of late updates. Each record in it knows its position (qpos with inLate), so an update
// or a drop takes it out directly.

func (t *ipTable) lateLess(a, b int) bool {
	x, y := &t.late[a], &t.late[b]
	if x.due != y.due {
		return x.due < y.due
	}
	r, q := t.rec(x.rec), t.rec(y.rec)
	return before(x.due, &r.key, r.counter, y.due, &q.key, q.counter)
}

func (t *ipTable) lateSwap(a, b int) {
	t.late[a], t.late[b] = t.late[b], t.late[a]
	t.rec(t.late[a].rec).qpos = uint32(a) | inLate
	t.rec(t.late[b].rec).qpos = uint32(b) | inLate
}

func (t *ipTable) lateInsert(i uint32) {
	r := t.rec(i)
	p := len(t.late)
	t.late = append(t.late, lateEntry{due: t.due(r), rec: i})
	r.qpos = uint32(p) | inLate
	t.lateUp(p)
}

func (t *ipTable) lateRemove(p int) {
	last := len(t.late) - 1
	if p != last {
		t.lateSwap(p, last)
	}
	t.late = t.late[:last]
	if p != last {
		t.lateDown(p)
		t.lateUp(p)
	}
}

func (t *ipTable) lateUp(p int) {
	for p > 0 {
		q := (p - 1) / 2
		if !t.lateLess(p, q) {
			return
		}
		t.lateSwap(p, q)
		p = q
	}
}

func (t *ipTable) lateDown(p int) {
	for n := len(t.late); ; {
		c := 2*p + 1
		if c >= n {
			return
		}
		if c+1 < n && t.lateLess(c+1, c) {
			c++
		}
		if !t.lateLess(c, p) {
			return
		}
		t.lateSwap(p, c)
		p = c
	}
}

// prefetch loads the slots and records of a batch's (address, counter) pairs ahead of their
// processing, so that in a table too large for the CPU caches their misses overlap instead of coming
// one by one. It changes nothing.
func (t *ipTable) prefetch(n int, at func(int) (netip.Addr, int)) {
	if t.len() < prefetchMin {
		return
	}
	// A tight loop per step (hashes, slots, records, then what the records point to) rather than one
	// loop: a loop whose body is little more than an independent load keeps many misses in flight.
	t.hashes = t.hashes[:0]
	for j := 0; j < n; j++ {
		a, c := at(j)
		k := keyOf(a)
		t.hashes = append(t.hashes, t.hash(&k, c))
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
		sink += uint64(r.key[0])
	}
	// Their words of the stale bitmap, which their update writes.
	for _, i := range idx {
		if p := t.rec(i).qpos; p != 0 && p&inLate == 0 {
			sink += t.stale[(p-1)>>6]
		}
	}
	// The failure lists of records with more than inlineFailures: their first and last lines.
	for _, i := range idx {
		if r := t.rec(i); r.shape == listed {
			n := r.count()
			l := t.lists.get(r.block(), n)
			sink += uint64(l[0]) + uint64(l[n-1])
		}
	}
	t.sink = sink
}
