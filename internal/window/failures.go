package window

import "slices"

// fires reports whether more than k-1 failures of f (sorted ascending), together with the logon
// time t, fit in one interval of length w (inclusive). When they do it also returns the failures in
// the first such interval: how many, the first and the last.
func fires(f []int64, t, w int64, k int) (ok bool, count int, first, last int64) {
	for i := 0; i+k <= len(f); i++ {
		lo, hi := min(f[i], t), max(f[i+k-1], t)
		if hi-lo > w {
			continue
		}
		j := i + k
		for j < len(f) && f[j] <= lo+w {
			j++
		}
		return true, j - i, f[i], f[j-1]
	}
	return false, 0, 0, 0
}

// insertSorted adds t to the sorted slice f.
func insertSorted(f []int64, t int64) []int64 {
	if n := len(f); n == 0 || f[n-1] <= t {
		return append(f, t) // failures mostly arrive in time order
	}
	i, _ := slices.BinarySearch(f, t)
	return slices.Insert(f, i, t)
}

// compact drops the failures that can never change a decision, so a sprayed IP's list stays short.
//
// A decision for a logon at t, present or future, is "some a in [t-w, t] has c(a) >= k", where
// c(a) counts failures in [a, a+w]; failures only ever get added. So what must be kept is
// min(c(a), k) for every a, and a failure is redundant exactly when every interval of length w
// holding it holds at least k others. Removing redundant failures one at a time keeps at most 2k
// failures in any interval of length w, however many arrive.
func compact(f []int64, w int64, k int) []int64 {
	for j := 0; j < len(f); {
		// Fast rule: with k failures on each side inside one window, every interval holding f[j]
		// holds k of them (it reaches back to f[j-k] or, if not, on to f[j+k]). Dropping f[j] makes
		// f[j+1] the next one at j, and f is sorted, so the rule holds for a run of them and then for
		// none: the run goes at once, as it would one at a time.
		if j >= k {
			d := 0
			for j+d+k < len(f) && f[j+d+k]-f[j-k] <= w {
				d++
			}
			if d > 0 {
				f = slices.Delete(f, j, j+d)
				continue
			}
		}
		if redundant(f, j, w, k) {
			f = slices.Delete(f, j, j+1)
			continue
		}
		j++
	}
	return f
}

// redundant reports whether every interval [a, a+w] with a in [f[j]-w, f[j]] holds at least k
// failures other than f[j].
func redundant(f []int64, j int, w int64, k int) bool {
	x := f[j]
	// c(a) only drops just after a failure leaves the interval on the left, so the minimum over
	// a is at a = x-w or at a = f[i]+1 for failures f[i] in [x-w, x).
	//
	// Before counting, a bound from the positions alone: [x-w, x] holds no failure after the last
	// one equal to x, and [f[i]+1, ...] none at or before i. Near either end of a list (where the
	// fast rule of compact does not apply) the bound alone says no.
	same := 0
	for j+same+1 < len(f) && f[j+same+1] == x {
		same++
	}
	if j+same < k || others(f, j, x-w, w) < k {
		return false
	}
	for i := j - 1; i >= 0 && f[i] >= x-w; i-- {
		if f[i] == x {
			continue
		}
		if len(f)-i-2 < k || others(f, j, f[i]+1, w) < k {
			return false
		}
	}
	return true
}

// others counts the failures in [a, a+w] except the one at index j.
func others(f []int64, j int, a, w int64) int {
	lo, _ := slices.BinarySearch(f, a)
	hi, found := slices.BinarySearch(f, a+w)
	if found {
		for hi < len(f) && f[hi] == a+w {
			hi++
		}
	}
	n := hi - lo
	if j >= lo && j < hi {
		n--
	}
	return n
}
