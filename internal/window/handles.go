package window

// handles hands out the numbers of the slots of a caller's arrays: a released number first, else
// the next one never handed out, for which the caller grows its arrays.
type handles struct {
	free []uint32
	next uint32 // numbers below it have been handed out
}

// take returns a number, and whether it was never handed out before.
func (h *handles) take() (n uint32, fresh bool) {
	if k := len(h.free); k > 0 {
		n = h.free[k-1]
		h.free = h.free[:k-1]
		return n, false
	}
	h.next++
	return h.next - 1, true
}

// release makes n available to take again.
func (h *handles) release(n uint32) { h.free = append(h.free, n) }
