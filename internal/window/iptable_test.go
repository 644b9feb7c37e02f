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
// with a high threshold, so their lists grow through several block classes and shrink again.
func TestIPTableAgainstModel(t *testing.T) {
	for _, c := range []struct{ keys, need int }{{1024, 3}, {16, 40}} {
		testIPTableAgainstModel(t, c.keys, c.need)
	}
}

func testIPTableAgainstModel(t *testing.T, keys, need int) {
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
		const maxIPs = 300
		var tb ipTable
		tb.init(maxIPs, spans, maphash.MakeSeed())
		var order []*model // by due time, then key, then counter: the order of expiry and eviction
		byID := map[id]*model{}
		longest := 0
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
			clock += int64(rng.IntN(3))
			ts := clock - int64(rng.IntN(50)) // a little out of order
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
			if step%8 != 0 {
				continue
			}
			var got []id
			for i := range tb.oldestFirst() {
				r := tb.rec(i)
				got = append(got, id{r.key, int(r.counter)})
			}
			want := make([]id, len(order))
			for i, m := range order {
				want[i] = m.id
			}
			require.Equal(t, want, got, "step %d: order", step)
			if step%96 == 0 {
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
