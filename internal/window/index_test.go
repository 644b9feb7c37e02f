package window

import (
	"hash/maphash"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIndexAgainstMap inserts and removes handles whose tags crowd a few home slots (long probe runs
// that wrap around the end of the table, the case backward-shift deletion must get right) and
// checks after every step that exactly the present handles are found.
func TestIndexAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var x index
	x.init(maphash.MakeSeed())
	present := map[uint32]uint64{} // handle → tag
	for step := 0; step < 20_000; step++ {
		h := uint32(1 + rng.IntN(200))
		tag, ok := present[h]
		if ok {
			x.remove(h, tag)
			delete(present, h)
		} else {
			// Tags near the end of the table, and a few values only, so runs collide and wrap.
			tag = uint64(len(x.slots)-3+rng.IntN(6)) | uint64(rng.IntN(4))<<20
			x.insert(h, tag)
			present[h] = tag
		}
		require.Equal(t, len(present), x.n)
		if step%10 != 0 {
			continue
		}
		for h := uint32(1); h <= 200; h++ {
			tag, want := present[h]
			if !want {
				tag = uint64(len(x.slots) - 1)
			}
			got, found := x.find(tag, func(c uint32) bool { return c == h })
			require.Equal(t, want, found, "step %d handle %d", step, h)
			if want {
				require.Equal(t, h, got)
			}
		}
	}
}
