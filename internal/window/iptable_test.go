package window

import (
	"bytes"
	"cmp"
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
	type model struct {
		key    ipKey
		newest int64
		f      [maxTables][]int64
	}
	for _, seed := range []uint64{1, 2, 3} {
		rng := rand.New(rand.NewPCG(seed, 99))
		const maxIPs = 300
		var tb ipTable
		tb.init(maxIPs)
		var order []*model // by newest failure, then key: the order of expiry and eviction
		byKey := map[ipKey]*model{}
		const w = 1_000
		longest := 0
		clock := int64(0)
		before := func(a, b *model) int {
			if c := cmp.Compare(a.newest, b.newest); c != 0 {
				return c
			}
			return bytes.Compare(a.key[:], b.key[:])
		}
		for step := 0; step < 8_000; step++ {
			clock += int64(rng.IntN(3))
			ts := clock - int64(rng.IntN(50)) // a little out of order
			x := rng.IntN(keys)
			k := keyOf(netip.AddrFrom4([4]byte{10, 0, byte(x >> 8), byte(x)}))
			table := rng.IntN(maxTables)
			horizon := clock - 2*w

			if rng.IntN(50) == 0 {
				n := tb.expire(horizon)
				dropped := 0
				for dropped < len(order) && order[dropped].newest < horizon {
					delete(byKey, order[dropped].key)
					dropped++
				}
				order = order[dropped:]
				require.Equal(t, dropped, n, "step %d: expired", step)
			}

			_, evicted, kept := tb.add(k, table, ts, horizon, w, need)
			m := byKey[k]
			if m == nil {
				m = &model{key: k, newest: ts}
				require.Equal(t, len(byKey) >= maxIPs, evicted, "step %d: eviction", step)
				if evicted {
					// The oldest goes, the new one included.
					if before(m, order[0]) < 0 {
						require.False(t, kept, "step %d: the new IP is the oldest", step)
						continue
					}
					delete(byKey, order[0].key)
					order = order[1:]
				}
				require.True(t, kept)
				byKey[k] = m
				order = append(order, m)
			}
			m.f[table] = insertSorted(m.f[table], ts)
			m.newest = max(m.newest, ts)
			slices.SortFunc(order, before)

			require.Equal(t, len(byKey), tb.len())
			if step%8 != 0 {
				continue
			}
			var got []ipKey
			for i := range tb.oldestFirst() {
				got = append(got, tb.rec(i).key)
			}
			want := make([]ipKey, len(order))
			for i, m := range order {
				want[i] = m.key
			}
			require.Equal(t, want, got, "step %d: order", step)
			if step%96 == 0 {
				for key, m := range byKey {
					i, ok := tb.find(key)
					require.True(t, ok)
					r := tb.rec(i)
					for x := range maxTables {
						longest = max(longest, len(tb.failures(r, x)))
						// The table prunes and compacts; what it keeps must decide like the model.
						for _, at := range []int64{clock, clock - w/2, clock - w} {
							a, _, _, _ := fires(m.f[x], at, w, need)
							b, _, _, _ := fires(tb.failures(r, x), at, w, need)
							require.Equal(t, a, b, "step %d", step)
						}
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
	tb.init(1 << 20)
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
	for i := 0; i < prefetchMin+100; i++ {
		tb.add(keyOf(addr(i)), 0, int64(i), 0, 10, 3)
	}
	before := slices.Collect(tb.oldestFirst())
	tb.prefetch(2*prefetchMin, addr)
	require.Equal(t, before, slices.Collect(tb.oldestFirst()))
	for i := 0; i < 2*prefetchMin; i++ {
		_, ok := tb.find(keyOf(addr(i)))
		require.Equal(t, i < prefetchMin+100, ok, "address %d", i)
	}
}

// TestIPRecordIsOneCacheLine: a lookup in a large table costs one miss for the record, not two.
func TestIPRecordIsOneCacheLine(t *testing.T) {
	require.Equal(t, uintptr(64), unsafe.Sizeof(ipRecord{}))
	var tb ipTable
	tb.init(10)
	require.Zero(t, uintptr(unsafe.Pointer(tb.rec(0)))%64, "chunks start on a cache line")
}
