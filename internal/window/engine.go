// Package window holds the rule's state and decisions: failed sign-ins per (sign-in table, IP),
// logons waiting for failures that may still arrive, and the alerts they make. It is pure Go on
// netip.Addr and Unix-nanosecond times, with no pdata, so it can be checked against a brute-force
// reference.
package window

import (
	"container/heap"
	"net/netip"
	"slices"
	"sort"
)

// Config is the engine's share of the processor configuration.
type Config struct {
	Threshold        int   // alert when failures exceed this
	Window           int64 // nanoseconds
	Tables           int   // 2 counts each sign-in table apart, 1 counts them together
	MaxTrackedIPs    int
	MaxPendingLogons int
	Suppress         int64 // nanoseconds; 0 disables
	// MaxSuppressMarks bounds the suppress marks (the oldest go first); 0 means MaxPendingLogons.
	MaxSuppressMarks int
}

// Alert is one (logon, table) pair that fired.
type Alert[P any] struct {
	Payload P
	Addr    netip.Addr
	Host    string
	Time    int64 // the logon's event time
	Table   int
	Count   int   // failures in the interval that fired
	First   int64 // first failure in that interval
	Last    int64 // last failure in that interval
}

// Stats are cumulative counters; the caller reports their growth.
type Stats struct {
	EvictedIPs        int64
	EvictedLogons     int64
	EvictedSuppress   int64
	Suppressed        int64
	ExpiredIPs        int64
	ExpiredLogons     int64
	FailuresCompacted int64
}

// Verdict says how an event time relates to the engine's clock.
type Verdict uint8

const (
	// Current events take part in the correlation.
	Current Verdict = iota
	// Late events are older than the clock minus the window: they can no longer be judged fairly.
	Late
	// Future events are further ahead of the wall clock than the allowed skew.
	Future
)

// Engine correlates failed sign-ins and logons. It is not safe for concurrent use.
type Engine[P any] struct {
	cfg    Config
	k      int   // failures needed: Threshold+1
	clock  int64 // largest event time accepted
	ips    ipTable
	logons pendingLogons[P]
	// marks are the emitted alerts' logon times per (IpAddress, Computer, SigninTable), for suppress.
	marks    marks
	logonSeq uint64 // arrival number of the next waiting logon: ties in time go in arrival order
	Stats    Stats
}

// New returns an empty engine.
func New[P any](cfg Config) *Engine[P] {
	if cfg.Tables < 1 {
		cfg.Tables = 1
	}
	if cfg.Tables > maxTables {
		cfg.Tables = maxTables
	}
	if cfg.MaxSuppressMarks <= 0 {
		cfg.MaxSuppressMarks = cfg.MaxPendingLogons
	}
	e := &Engine[P]{cfg: cfg, k: cfg.Threshold + 1}
	e.ips.init(cfg.MaxTrackedIPs)
	e.logons.init()
	e.marks.init()
	return e
}

// Clock returns the largest event time accepted so far.
func (e *Engine[P]) Clock() int64 { return e.clock }

// TrackedIPs returns how many IPs have failures in memory.
func (e *Engine[P]) TrackedIPs() int { return e.ips.len() }

// PendingLogons returns how many logons wait for failures.
func (e *Engine[P]) PendingLogons() int { return len(e.logons.heap) }

// Observe judges the event time t against the clock (wall is the wall clock and maxSkew the
// allowed skew, both in nanoseconds) and, for a current event, advances the clock and drops the
// state that can no longer matter.
func (e *Engine[P]) Observe(t, wall, maxSkew int64) Verdict {
	if t > wall+maxSkew {
		return Future
	}
	if t < e.clock-e.cfg.Window {
		return Late
	}
	if t > e.clock {
		e.clock = t
		e.expire()
	}
	return Current
}

// horizon is the oldest time state is kept for: a current event is at most one window older than
// the clock, and it can pair with state up to one window older than itself.
func (e *Engine[P]) horizon() int64 { return e.clock - 2*e.cfg.Window }

func (e *Engine[P]) expire() {
	h := e.horizon()
	e.Stats.ExpiredIPs += int64(e.ips.expire(h))
	for len(e.logons.heap) > 0 && e.logons.heap[0].time < h {
		e.logons.remove(e.logons.heap[0])
		e.Stats.ExpiredLogons++
	}
	if e.cfg.Suppress > 0 {
		// A mark at m holds back logons in (m-d, m+d); none of them can still alert once m+d <= h.
		e.marks.expire(h - e.cfg.Suppress)
	}
}

func (e *Engine[P]) tableIndex(table int) int {
	if e.cfg.Tables == 1 {
		return 0
	}
	return table
}

// Prefetch loads the state of the n addresses addr(0) to addr(n-1), about to be processed in
// this order, into the CPU caches. It changes nothing: it only lets the cache misses of a large
// table overlap.
func (e *Engine[P]) Prefetch(n int, addr func(int) netip.Addr) { e.ips.prefetch(n, addr) }

// Failure records a failed sign-in of table at time t from addr (t must have been judged Current)
// and appends to out the alerts of waiting logons that it completes.
func (e *Engine[P]) Failure(table int, addr netip.Addr, t int64, out []Alert[P]) []Alert[P] {
	tb := e.tableIndex(table)
	key := keyOf(addr)
	f, evicted, kept := e.ips.add(key, tb, t, e.horizon(), e.cfg.Window, e.k)
	if evicted {
		e.Stats.EvictedIPs++
	}
	if !kept {
		return out // a new IP older than every tracked one, at the bound: it is the one evicted
	}
	w := e.logons.get(key)
	if w == nil || len(w.waiting[tb]) == 0 {
		return out
	}
	// Only runs of k failures that hold the new one can make a logon fire now; each run that fits
	// in the window makes every logon in [last-window, first+window] fire.
	lo, found := slices.BinarySearch(f, t)
	if !found {
		return out // compacted away: it changed no decision
	}
	hi := lo
	for hi+1 < len(f) && f[hi+1] == t {
		hi++
	}
	for i := max(0, lo-e.k+1); i <= hi && i+e.k <= len(f); i++ {
		first, last := f[i], f[i+e.k-1]
		if last-first > e.cfg.Window {
			continue
		}
		out = e.fireBetween(out, w, tb, f, last-e.cfg.Window, first+e.cfg.Window)
		if len(w.waiting[tb]) == 0 {
			break
		}
	}
	return out
}

// fireBetween alerts, for table tb, every logon of w waiting with a time in [from, to].
func (e *Engine[P]) fireBetween(out []Alert[P], w *ipLogons[P], tb int, f []int64, from, to int64) []Alert[P] {
	list := w.waiting[tb]
	a := sort.Search(len(list), func(i int) bool { return list[i].time >= from })
	b := a
	for b < len(list) && list[b].time <= to {
		b++
	}
	if a == b {
		return out
	}
	fired := slices.Clone(list[a:b])
	w.waiting[tb] = slices.Delete(list, a, b)
	for _, l := range fired {
		_, n, first, last := fires(f, l.time, e.cfg.Window, e.k)
		l.done |= 1 << tb
		out = e.emit(out, l, tb, n, first, last)
		if l.done == e.allTables() {
			e.logons.remove(l)
		}
	}
	return out
}

func (e *Engine[P]) allTables() uint8 { return uint8(1)<<e.cfg.Tables - 1 }

// Logon records a host logon at time t from addr (t judged Current) and appends its alerts for
// every table whose failures already suffice. Unless it alerted for every table it waits, bounded
// by MaxPendingLogons, for failures that may still arrive.
func (e *Engine[P]) Logon(addr netip.Addr, t int64, host string, payload P, out []Alert[P]) []Alert[P] {
	key := keyOf(addr)
	l := &pendingLogon[P]{key: key, addr: addr, time: t, host: host, payload: payload}
	if idx, ok := e.ips.find(key); ok {
		rec := e.ips.rec(idx)
		for tb := 0; tb < e.cfg.Tables; tb++ {
			f := e.ips.failures(rec, tb)
			if ok, n, first, last := fires(f, t, e.cfg.Window, e.k); ok {
				l.done |= 1 << tb
				out = e.emit(out, l, tb, n, first, last)
			}
		}
	}
	if l.done == e.allTables() {
		return out
	}
	e.wait(l)
	return out
}

// wait keeps l until failures complete it. At the bound the waiting logon with the oldest event
// time goes (the earliest arrived among equal times), which is l itself when it is older than all
// of them. Expired logons are already gone: expire runs whenever the clock moves.
func (e *Engine[P]) wait(l *pendingLogon[P]) {
	l.seq = e.logonSeq
	e.logonSeq++
	if len(e.logons.heap) >= e.cfg.MaxPendingLogons {
		e.Stats.EvictedLogons++
		oldest := e.logons.heap[0]
		if oldest.time > l.time {
			return
		}
		e.logons.remove(oldest)
	}
	e.logons.add(l, e.cfg.Tables)
}

func (e *Engine[P]) emit(out []Alert[P], l *pendingLogon[P], tb, n int, first, last int64) []Alert[P] {
	if e.cfg.Suppress > 0 {
		sk := suppressKey{addr: l.key, host: l.host, table: tb}
		if e.marks.holdsBack(&sk, l.time, e.cfg.Suppress) {
			e.Stats.Suppressed++
			return out
		}
		if e.marks.add(sk, l.time, e.cfg.MaxSuppressMarks) {
			e.Stats.EvictedSuppress++
		}
	}
	return append(out, Alert[P]{
		Payload: l.payload, Addr: l.addr, Host: l.host, Time: l.time,
		Table: tb, Count: n, First: first, Last: last,
	})
}

// pendingLogon is a logon that has not yet alerted for every table.
type pendingLogon[P any] struct {
	key     ipKey
	addr    netip.Addr
	time    int64
	host    string
	payload P
	done    uint8 // tables already alerted, one bit each
	heapIdx int
	seq     uint64 // arrival order, for ties in time
}

// pendingLogons indexes waiting logons by address and, per table, by time; and orders them all
// by time, oldest first, for expiry and eviction.
type pendingLogons[P any] struct {
	index index          // handle in sets by address
	sets  []*ipLogons[P] // by handle; handle 0 is never used
	ids   handles        // of sets; 0 is never used
	heap  logonHeap[P]
}

// ipLogons are one IP's waiting logons: per table, those that have not alerted for it, by time.
type ipLogons[P any] struct {
	key     ipKey
	handle  uint32 // in pendingLogons.sets
	tag     uint32 // the key's hash tag in pendingLogons.index
	waiting [maxTables][]*pendingLogon[P]
}

func (p *pendingLogons[P]) init() {
	p.index.init()
	p.sets = []*ipLogons[P]{nil}
	p.ids.next = 1
}

// get returns the waiting logons of k, or nil.
func (p *pendingLogons[P]) get(k ipKey) *ipLogons[P] {
	if p.index.n == 0 {
		return nil
	}
	return p.lookup(k, p.index.tag(&k))
}

func (p *pendingLogons[P]) lookup(k ipKey, tag uint64) *ipLogons[P] {
	h, ok := p.index.find(tag, func(h uint32) bool { return p.sets[h].key == k })
	if !ok {
		return nil
	}
	return p.sets[h]
}

func (p *pendingLogons[P]) add(l *pendingLogon[P], tables int) {
	tag := p.index.tag(&l.key)
	w := p.lookup(l.key, tag)
	if w == nil {
		w = &ipLogons[P]{key: l.key, tag: uint32(tag)}
		var fresh bool
		if w.handle, fresh = p.ids.take(); fresh {
			p.sets = append(p.sets, w)
		} else {
			p.sets[w.handle] = w
		}
		p.index.insert(w.handle, tag)
	}
	for tb := 0; tb < tables; tb++ {
		if l.done&(1<<tb) == 0 {
			list := w.waiting[tb]
			if n := len(list); n == 0 || list[n-1].time <= l.time {
				w.waiting[tb] = append(list, l) // logons mostly arrive in time order
				continue
			}
			i := sort.Search(len(list), func(i int) bool { return list[i].time > l.time })
			w.waiting[tb] = slices.Insert(list, i, l)
		}
	}
	heap.Push(&p.heap, l)
}

// remove forgets l everywhere.
func (p *pendingLogons[P]) remove(l *pendingLogon[P]) {
	heap.Remove(&p.heap, l.heapIdx)
	w := p.get(l.key)
	if w == nil {
		return // its lists were emptied by the alerts that complete it
	}
	empty := true
	for tb := range w.waiting {
		list := w.waiting[tb]
		i := sort.Search(len(list), func(i int) bool { return list[i].time >= l.time })
		for ; i < len(list) && list[i].time == l.time; i++ {
			if list[i] == l {
				list = slices.Delete(list, i, i+1)
				break
			}
		}
		w.waiting[tb] = list
		empty = empty && len(list) == 0
	}
	if empty {
		p.index.remove(w.handle, uint64(w.tag))
		p.sets[w.handle] = nil
		p.ids.release(w.handle)
	}
}

// before orders waiting logons for expiry and eviction: by event time, then arrival.
func (l *pendingLogon[P]) before(o *pendingLogon[P]) bool {
	return l.time < o.time || (l.time == o.time && l.seq < o.seq)
}

type logonHeap[P any] []*pendingLogon[P]

func (h logonHeap[P]) Len() int           { return len(h) }
func (h logonHeap[P]) Less(i, j int) bool { return h[i].before(h[j]) }
func (h logonHeap[P]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}
func (h *logonHeap[P]) Push(x any) {
	l := x.(*pendingLogon[P])
	l.heapIdx = len(*h)
	*h = append(*h, l)
}
func (h *logonHeap[P]) Pop() any {
	old := *h
	l := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return l
}
