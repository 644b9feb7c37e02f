package window

import (
	"bytes"
	"cmp"
	"hash/maphash"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestIPTableAgainstModel drives the table with random failures from a small address space (so
// that records are found, evicted, expired and their slots reused, and probe runs collide) and
// checks it against a plain map and list after every step: the same keys, the same failures per
// table, and the same order of expiry and eviction. The second setting keeps a few addresses busy
// with a high threshold, so their lists grow through several block classes and shrink again. The
// third sends failures in batches stamped alike, from addresses in any order, at a bound that
// evicts all the time: the queue's last segment is out of order most of the time, and eviction,
// expiry and the order are read from it then.
func TestIPTableAgainstModel(t *testing.T) {
	for _, c := range []ipTableCase{
		{keys: 1024, need: 3, maxIPs: 300, jitter: 50, advance: 2, checkEvery: 8},
		{keys: 16, need: 40, maxIPs: 300, jitter: 50, advance: 2, checkEvery: 8},
		{keys: 1024, need: 3, maxIPs: 40, jitter: 0, advance: 25, checkEvery: 1},
	} {
		testIPTableAgainstModel(t, c)
	}
}

// ipTableCase is a setting of testIPTableAgainstModel: failures of keys addresses, a threshold of
// need, at most maxIPs records; failures up to jitter older than the clock, which moves up to
// advance per failure on average.
type ipTableCase struct {
	keys, need, maxIPs int
	jitter             int
	advance            int
	checkEvery         int // steps between checks of the order
}

func testIPTableAgainstModel(t *testing.T, c ipTableCase) {
	keys, need := c.keys, c.need
	type id struct {
		key     ipKey
		counter int
	}
	type model struct {
		id
		newest int64
		f      []int64
	}
	const w = 1_000
	spans := []int64{2 * w, 3 * w} // two counters of rules with different windows
	for _, seed := range []uint64{1, 2, 3} {
		rng := rand.New(rand.NewPCG(seed, 99))
		maxIPs := c.maxIPs
		var tb ipTable
		tb.init(maxIPs, spans, maphash.MakeSeed())
		var order []*model // by due time, then key, then counter: the order of expiry and eviction
		byID := map[id]*model{}
		longest, unsortedSeen := 0, 0
		clock := int64(0)
		due := func(m *model) int64 { return m.newest + spans[m.counter] }
		before := func(a, b *model) int {
			if c := cmp.Compare(due(a), due(b)); c != 0 {
				return c
			}
			if c := bytes.Compare(a.key[:], b.key[:]); c != 0 {
				return c
			}
			return cmp.Compare(a.counter, b.counter)
		}
		for step := 0; step < 8_000; step++ {
			if c.advance <= 2 {
				clock += int64(rng.IntN(c.advance + 1))
			} else if rng.IntN(c.advance) == 0 {
				clock++ // a new batch
			}
			ts := clock
			if c.jitter > 0 {
				ts -= int64(rng.IntN(c.jitter)) // a little out of order
			}
			x := rng.IntN(keys)
			k := id{keyOf(netip.AddrFrom4([4]byte{10, 0, byte(x >> 8), byte(x)})), rng.IntN(len(spans))}

			if rng.IntN(50) == 0 {
				n := tb.expire(clock)
				dropped := 0
				for dropped < len(order) && due(order[dropped]) < clock {
					delete(byID, order[dropped].id)
					dropped++
				}
				order = order[dropped:]
				require.Equal(t, dropped, n, "step %d: expired", step)
			}

			_, evicted, kept := tb.add(k.key, k.counter, ts, clock-spans[k.counter], w, need)
			m := byID[k]
			if m == nil {
				m = &model{id: k, newest: ts}
				require.Equal(t, len(byID) >= maxIPs, evicted, "step %d: eviction", step)
				if evicted {
					// The first to expire goes, the new one included.
					if before(m, order[0]) < 0 {
						require.False(t, kept, "step %d: the new record is the first to go", step)
						continue
					}
					delete(byID, order[0].id)
					order = order[1:]
				}
				require.True(t, kept)
				byID[k] = m
				order = append(order, m)
			}
			m.f = insertSorted(m.f, ts)
			m.newest = max(m.newest, ts)
			slices.SortFunc(order, before)

			require.Equal(t, len(byID), tb.len())
			if tb.segUnsorted {
				unsortedSeen++
			}
			if step%c.checkEvery != 0 {
				continue
			}
			queue, stale, qhead, unsorted := slices.Clone(tb.queue), slices.Clone(tb.stale), tb.qhead, tb.segUnsorted
			var got []id
			for i := range tb.oldestFirst() {
				r := tb.rec(i)
				got = append(got, id{r.key, int(r.counter)})
			}
			require.Equal(t, queue, tb.queue, "oldestFirst changes nothing")
			require.Equal(t, stale, tb.stale)
			require.Equal(t, qhead, tb.qhead)
			require.Equal(t, unsorted, tb.segUnsorted)
			want := make([]id, len(order))
			for i, m := range order {
				want[i] = m.id
			}
			require.Equal(t, want, got, "step %d: order", step)
			if step%(12*c.checkEvery) == 0 {
				for k, m := range byID {
					i, ok := tb.find(k.key, k.counter)
					require.True(t, ok)
					r := tb.rec(i)
					longest = max(longest, len(tb.failures(r)))
					// The table prunes and compacts; what it keeps must decide like the model.
					for _, at := range []int64{clock, clock - w/2, clock - w} {
						a, _, _, _ := fires(m.f, at, w, need)
						b, _, _, _ := fires(tb.failures(r), at, w, need)
						require.Equal(t, a, b, "step %d", step)
					}
				}
			}
		}
		require.LessOrEqual(t, len(tb.queue), 2*tb.len()+66, "stale queue entries are compacted")
		if c.jitter == 0 {
			require.Greater(t, unsortedSeen, 100, "the last segment was out of order")
		}
		if keys < 100 {
			require.Greater(t, longest, 32, "lists grew through several block classes")
		}
	}
}

// TestIPTablePrefetchChangesNothing runs the prefetch over a table large enough to use it, for
// addresses present and absent.
func TestIPTablePrefetchChangesNothing(t *testing.T) {
	var tb ipTable
	tb.init(1<<20, []int64{20}, maphash.MakeSeed())
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
	for i := 0; i < prefetchMin+100; i++ {
		tb.add(keyOf(addr(i)), 0, int64(i), 0, 10, 3)
	}
	before := slices.Collect(tb.oldestFirst())
	tb.prefetch(2*prefetchMin, func(i int) (netip.Addr, int) { return addr(i), 0 })
	require.Equal(t, before, slices.Collect(tb.oldestFirst()))
	for i := 0; i < 2*prefetchMin; i++ {
		_, ok := tb.find(keyOf(addr(i)), 0)
		require.Equal(t, i < prefetchMin+100, ok, "address %d", i)
	}
}

// TestIPRecordIsOneCacheLine: a lookup in a large table costs one miss for the record, not two.
func TestIPRecordIsOneCacheLine(t *testing.T) {
	require.Equal(t, uintptr(64), unsafe.Sizeof(ipRecord{}))
	var tb ipTable
	tb.init(10, []int64{20}, maphash.MakeSeed())
	require.Zero(t, uintptr(unsafe.Pointer(tb.rec(0)))%64, "chunks start on a cache line")
}

// TestIPTableOrderTakesTheCheapPath: failures later than every queued one are appended to the
// queue, and a batch stamped alike from addresses in any order waits in the last segment and is
// sorted once; neither goes through the heap of late updates. Only a failure older than the
// newest queued one does.
func TestIPTableOrderTakesTheCheapPath(t *testing.T) {
	var tb ipTable
	tb.init(1<<16, []int64{1000}, maphash.MakeSeed())
	addr := func(i int) ipKey { return keyOf(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})) }
	rng := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 500; i++ { // distinct times, addresses in any order
		tb.add(addr(rng.IntN(300)), 0, int64(i), 0, 100, 3)
	}
	require.Empty(t, tb.late)
	require.False(t, tb.segUnsorted)

	perm := rng.Perm(300)
	for _, x := range perm { // one batch stamped alike
		tb.add(addr(x), 0, 1000, 0, 100, 3)
	}
	require.Empty(t, tb.late)
	require.True(t, tb.segUnsorted, "the batch waits unsorted in the last segment")
	tb.add(addr(0), 0, 1001, 0, 100, 3) // a later time closes the segment: it is sorted
	require.False(t, tb.segUnsorted)
	require.Empty(t, tb.late)
	var order []ipKey
	for i := range tb.oldestFirst() {
		order = append(order, tb.rec(i).key)
	}
	require.Len(t, order, 300)
	for i := 0; i < 299; i++ {
		require.Equal(t, addr(i+1), order[i], "due alike: by address") // addr(0) went last
	}

	tb.add(addr(5), 0, 900, 0, 100, 3) // older than its newest: no change of order
	require.Empty(t, tb.late)
	tb.add(addr(400), 0, 900, 0, 100, 3) // a new record older than the newest queued one
	require.Len(t, tb.late, 1)
}

// TestExpireWaitsForTheEarliestDue: expiry does nothing until the clock passes the earliest due
// time, which a record of a counter with a shorter span can bring forward; then it drops exactly
// the records due before the clock.
func TestExpireWaitsForTheEarliestDue(t *testing.T) {
	var tb ipTable
	tb.init(100, []int64{100, 1000}, maphash.MakeSeed())
	a := keyOf(netip.MustParseAddr("192.0.2.1"))
	b := keyOf(netip.MustParseAddr("192.0.2.2"))
	tb.add(a, 1, 0, 0, 100, 3) // due at 1000
	require.Equal(t, int64(1000), tb.nextDue)
	tb.add(b, 0, 10, 0, 100, 3) // due at 110: earlier
	require.Equal(t, int64(110), tb.nextDue)
	require.Equal(t, 0, tb.expire(110))
	require.Equal(t, 1, tb.expire(111), "b is due before 111")
	_, ok := tb.find(b, 0)
	require.False(t, ok)
	require.Equal(t, int64(1000), tb.nextDue, "the next is a")
	require.Equal(t, 0, tb.expire(1000))
	require.Equal(t, 1, tb.expire(5000))
	require.Equal(t, 0, tb.len())
	tb.add(b, 0, 6000, 0, 100, 3)
	require.Equal(t, int64(6100), tb.nextDue)
	require.Equal(t, 1, tb.expire(6101))
}
