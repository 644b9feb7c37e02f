package window

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestListClass(t *testing.T) {
	for n, want := range map[int]int{3: 0, 8: 0, 9: 1, 16: 1, 17: 2, 40_004: 13} {
		require.Equal(t, want, listClass(n), "n=%d", n)
		require.GreaterOrEqual(t, 1<<(minListBits+listClass(n)), n)
	}
}

// TestFailureListsKeepBlocksApart allocates, moves and releases blocks of many classes at random,
// each filled with its own mark, and checks after every step that no block overwrote another and
// that a move keeps the list.
func TestFailureListsKeepBlocksApart(t *testing.T) {
	type live struct {
		class int
		block uint32
		mark  int64
	}
	var l failureLists
	var blocks []live
	rng := rand.New(rand.NewPCG(5, 6))
	fill := func(b live) {
		blk := l.block(b.class, b.block)
		for i := range blk {
			blk[i] = b.mark
		}
	}
	for step := int64(1); step < 2_000; step++ {
		switch op := rng.IntN(3); {
		case op == 0 || len(blocks) == 0:
			c := rng.IntN(12) >> rng.IntN(3) // mostly small, up to blocks larger than a slab
			b := live{class: c, block: l.alloc(c), mark: step}
			fill(b)
			blocks = append(blocks, b)
		case op == 1:
			i := rng.IntN(len(blocks))
			b := &blocks[i]
			to := rng.IntN(12) >> rng.IntN(3)
			n := min(1<<(minListBits+b.class), 1<<(minListBits+to))
			nb, moved := l.move(b.class, b.block, l.block(b.class, b.block)[:n], to)
			require.Len(t, moved, n)
			for _, v := range moved {
				if v != b.mark {
					t.Fatalf("step %d: moved list holds %d, want %d", step, v, b.mark)
				}
			}
			b.class, b.block = to, nb
			fill(*b)
		default:
			i := rng.IntN(len(blocks))
			l.release(blocks[i].class, blocks[i].block)
			blocks = append(blocks[:i], blocks[i+1:]...)
		}
		for _, b := range blocks {
			blk := l.block(b.class, b.block)
			require.Len(t, blk, 1<<(minListBits+b.class))
			require.Equal(t, len(blk), cap(blk), "a block cannot be appended into its neighbour")
			for _, v := range blk {
				if v != b.mark {
					t.Fatalf("step %d: block %d of class %d holds %d, want %d", step, b.block, b.class, v, b.mark)
				}
			}
		}
	}
}
