package window

import "hash/maphash"

// index finds addresses' handles (non-zero uint32s chosen by the caller, which keeps the keys) in
// an open-addressing table of 8-byte slots with linear probing: the handle in the low 32 bits, the
// key's hash tag above. A lookup touches one slot line and then only the candidates whose tag
// matches. The hash is seeded per engine, so chosen addresses cannot be made to collide.
type index struct {
	seed  maphash.Seed
	slots []uint64 // 0 is empty
	mask  uint64
	n     int
}

func (x *index) init(seed maphash.Seed) {
	x.seed = seed
	x.slots = make([]uint64, 64)
	x.mask = 63
}

// hashKey is the seeded hash of an address. The engine's tables share one seed and hash an address
// once per record: each derives its tags from this hash.
func hashKey(seed maphash.Seed, k *ipKey) uint64 { return maphash.Bytes(seed, k[:]) }

// addrTag is the tag of the address of hash h; its low bits also pick the home slot.
func addrTag(h uint64) uint64 { return h >> 32 }

// counterTag is the tag of (the address of hash h, counter c): the address's tag plus c, so that the
// home slots of one address's counters are neighbours and a success that looks up each counter of
// its rule mostly reads one line of slots. The hash is seeded, so chosen addresses still cannot be
// made to collide.
func counterTag(h uint64, c int) uint64 { return uint64(uint32(h>>32) + uint32(c)) }

// find returns the handle with this tag for which same is true.
func (x *index) find(tag uint64, same func(uint32) bool) (uint32, bool) {
	for p := tag & x.mask; ; p = (p + 1) & x.mask {
		s := x.slots[p]
		if s == 0 {
			return 0, false
		}
		if s>>32 == tag && same(uint32(s)) {
			return uint32(s), true
		}
	}
}

// home is the content of tag's home slot, where most keys are: the handle when its tag matches, else 0.
func (x *index) home(tag uint64) uint32 {
	if s := x.slots[tag&x.mask]; s>>32 == tag {
		return uint32(s)
	}
	return 0
}

// insert adds handle h (not present) with its key's tag.
func (x *index) insert(h uint32, tag uint64) {
	if (x.n+1)*4 > len(x.slots)*3 {
		x.grow()
	}
	p := tag & x.mask
	for x.slots[p] != 0 {
		p = (p + 1) & x.mask
	}
	x.slots[p] = tag<<32 | uint64(h)
	x.n++
}

func (x *index) grow() {
	old := x.slots
	x.slots = make([]uint64, 2*len(old))
	x.mask = uint64(len(x.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		p := (s >> 32) & x.mask
		for x.slots[p] != 0 {
			p = (p + 1) & x.mask
		}
		x.slots[p] = s
	}
}

// remove deletes handle h (present, with its key's tag), shifting back the entries of its probe run
// that would otherwise become unreachable (no tombstones).
func (x *index) remove(h uint32, tag uint64) {
	p := tag & x.mask
	for uint32(x.slots[p]) != h {
		p = (p + 1) & x.mask
	}
	x.n--
	for q := p; ; {
		q = (q + 1) & x.mask
		s := x.slots[q]
		if s == 0 {
			x.slots[p] = 0
			return
		}
		// s may fill the hole at p unless its home lies cyclically in (p, q].
		home := (s >> 32) & x.mask
		if (q > p && (home <= p || home > q)) || (q < p && home <= p && home > q) {
			x.slots[p] = s
			p = q
		}
	}
}
