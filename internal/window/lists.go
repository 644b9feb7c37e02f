package window

import "math/bits"

// failureLists keeps the failure times of the tables with more than two failures, in blocks of
// 8, 16, 32, ... times carved out of slabs that hold no pointers. The table so holds no pointer
// per IP for the garbage collector to visit, and a record leads straight to its list's data,
// with no list header in between to fetch from memory first.
//
// A list of n failures always sits in a block of class listClass(n), the smallest that holds n,
// so the record only keeps the block's number and the count. Freed blocks are reused by lists of
// their class; the slabs are kept for the table's lifetime, like its records.
type failureLists struct {
	classes [listClasses]listSlabs
}

const (
	minListBits = 3 // the smallest block holds 8 failures
	listClasses = 32 - minListBits
	slabBits    = 13 // a slab holds 8192 failures (64 KiB), or one block when that is larger
)

// listSlabs are the blocks of one class.
type listSlabs struct {
	slabs [][]int64
	ids   handles // block numbers
}

// listClass is the class of the block that holds n failures, n > 2.
func listClass(n int) int { return max(0, bits.Len(uint(n-1))-minListBits) }

// blocksPerSlabBits is log2 of the blocks of class c in one slab.
func blocksPerSlabBits(c int) int { return max(0, slabBits-minListBits-c) }

// block returns block b of class c, whole (its length is its capacity).
func (l *failureLists) block(c int, b uint32) []int64 {
	per := blocksPerSlabBits(c)
	size := 1 << (minListBits + c)
	off := int(b&(1<<per-1)) << (minListBits + c)
	return l.classes[c].slabs[b>>per][off : off+size : off+size]
}

// alloc returns a free block of class c.
func (l *failureLists) alloc(c int) uint32 {
	s := &l.classes[c]
	b, fresh := s.ids.take()
	if per := blocksPerSlabBits(c); fresh && int(b>>per) == len(s.slabs) {
		s.slabs = append(s.slabs, make([]int64, 1<<(per+minListBits+c)))
	}
	return b
}

// release makes block b of class c free for another list.
func (l *failureLists) release(c int, b uint32) {
	l.classes[c].ids.release(b)
}

// get returns list b of n failures.
func (l *failureLists) get(b uint32, n int) []int64 { return l.block(listClass(n), b)[:n] }

// move copies list, in block b of class c, to a new block of class to; it returns the new block
// and the list in it.
func (l *failureLists) move(c int, b uint32, list []int64, to int) (uint32, []int64) {
	nb := l.alloc(to)
	moved := l.block(to, nb)[:len(list)]
	copy(moved, list)
	l.release(c, b)
	return nb, moved
}
