// Package window holds the rules' state and decisions: failures per (counter, IP), successes
// waiting for failures that may still arrive, and the alerts they make. It knows rules only as
// numbers: a rule counts failures in one or more counters (a counter is a failure source, or
// several sources counted together) and alerts on a success from an address whose failures in
// one of its counters exceed its threshold within its window. It is pure Go on netip.Addr and
// Unix-nanosecond times, with no pdata, so it can be checked against a brute-force reference.
package window

import (
	"errors"
	"fmt"
	"hash/maphash"
	"net/netip"
	"slices"
	"sort"
)

// Config is the engine's share of the processor configuration.
type Config struct {
	// Rules run by the engine; when empty, the one rule of the fields below (the seed's settings).
	Rules []Rule

	Threshold int   // alert when failures exceed this
	Window    int64 // nanoseconds
	Tables    int   // counters of the one rule: 2 counts each sign-in table apart, 1 counts them together
	Suppress  int64 // nanoseconds; 0 disables

	MaxTrackedIPs    int // (counter, address) records
	MaxPendingLogons int // waiting successes
	// MaxSuppressMarks bounds the suppress marks (the first to expire go first); 0 means MaxPendingLogons.
	MaxSuppressMarks int

	// RuleSet names what the rules and counters are beyond their numbers; a snapshot made under
	// another RuleSet is refused. "" (the seed's) adds nothing to the snapshot.
	RuleSet string
}

// Rule is one rule as the engine sees it.
type Rule struct {
	Threshold int   // alert when a counter's failures exceed this
	Window    int64 // nanoseconds
	Suppress  int64 // nanoseconds; 0 disables
	// Counters are the rule's counters, each counted on its own; a counter shared with another rule
	// is kept once and must have the same threshold and window in both.
	Counters []int
}

// maxCounters bounds a rule's counters (their alerts are bits of a byte) and the engine's.
const (
	maxRuleCounters = 8
	maxCounters     = 256
)

// rules returns the configured rules, the shorthand turned into its one rule.
func (c *Config) rules() []Rule {
	if len(c.Rules) > 0 {
		return c.Rules
	}
	counters := []int{0, 1}
	if c.Tables == 1 {
		counters = []int{0}
	}
	return []Rule{{Threshold: c.Threshold, Window: c.Window, Suppress: c.Suppress, Counters: counters}}
}

// Check reports what is wrong with the configuration, if anything.
func (c *Config) Check() error {
	rules := c.rules()
	type spec struct {
		k int
		w int64
	}
	counters := map[int]spec{}
	for i, r := range rules {
		if r.Threshold < 0 || r.Window <= 0 || r.Suppress < 0 {
			return fmt.Errorf("rule %d: threshold %d, window %d, suppress %d", i, r.Threshold, r.Window, r.Suppress)
		}
		if len(r.Counters) == 0 || len(r.Counters) > maxRuleCounters {
			return fmt.Errorf("rule %d: %d counters, want 1 to %d", i, len(r.Counters), maxRuleCounters)
		}
		for j, id := range r.Counters {
			if id < 0 || id >= maxCounters || slices.Contains(r.Counters[:j], id) {
				return fmt.Errorf("rule %d: counter %d", i, id)
			}
			s, seen := counters[id]
			if seen && (s.k != r.Threshold || s.w != r.Window) {
				return fmt.Errorf("rule %d: counter %d is shared with a rule of another threshold or window", i, id)
			}
			counters[id] = spec{r.Threshold, r.Window}
		}
	}
	if c.MaxTrackedIPs <= 0 || c.MaxPendingLogons <= 0 {
		return errors.New("bounds must be positive")
	}
	return nil
}

// Alert is one (success, counter) pair that fired.
type Alert[P any] struct {
	Payload P
	Addr    netip.Addr
	Host    string
	Time    int64 // the success's event time
	Rule    int   // index of the rule in Config.Rules
	Table   int   // index of the counter among the rule's counters (the seed's sign-in table)
	Counter int   // the counter
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
	// Late events are older than the clock minus the (longest) window: they can no longer be judged fairly.
	Late
	// Future events are further ahead of the wall clock than the allowed skew.
	Future
)

// rule is a rule with what the engine derives from it.
type rule struct {
	Rule
	k    int   // failures needed: Threshold+1
	span int64 // how long after its time a waiting success expires
	all  uint8 // done bits when every counter alerted
}

// counter is what the engine derives for one counter from the rules that read it.
type counter struct {
	k int
	w int64
}

// Engine correlates failures and successes. It is not safe for concurrent use.
//
// Time. The clock is the largest event time accepted. An event more than the longest window of
// the rules (maxWindow) behind it is late. A rule's state may pair with a current event until it is
// maxWindow plus the rule's window behind the clock (its span), and is dropped then.
type Engine[P any] struct {
	cfg       Config
	rules     []rule
	counters  []counter // by counter id (ids no rule reads are unused)
	together  bool      // the shorthand with Tables 1: every failure goes to counter 0
	maxWindow int64
	clock     int64 // largest event time accepted
	ips       ipTable
	logons    pendingLogons[P]
	// marks are the emitted alerts' success times per (rule, counter, address, host), for suppress.
	marks    marks
	logonSeq uint64 // arrival number of the next waiting success: ties go in arrival order
	seed     maphash.Seed
	fired    []*pendingLogon[P] // scratch of fireBetween
	Stats    Stats
}

// New returns an empty engine. The configuration must pass Check.
func New[P any](cfg Config) *Engine[P] {
	if err := cfg.Check(); err != nil {
		panic("window: " + err.Error())
	}
	if cfg.MaxSuppressMarks <= 0 {
		cfg.MaxSuppressMarks = cfg.MaxPendingLogons
	}
	e := &Engine[P]{cfg: cfg, together: len(cfg.Rules) == 0 && cfg.Tables == 1, seed: maphash.MakeSeed()}
	rules := cfg.rules()
	for _, r := range rules {
		e.maxWindow = max(e.maxWindow, r.Window)
	}
	spans := []int64{}
	for _, r := range rules {
		d := rule{Rule: r, k: r.Threshold + 1, span: satAdd(e.maxWindow, r.Window), all: uint8(1)<<len(r.Counters) - 1}
		e.rules = append(e.rules, d)
		for _, id := range r.Counters {
			for len(e.counters) <= id {
				e.counters = append(e.counters, counter{})
				spans = append(spans, 0)
			}
			e.counters[id] = counter{k: d.k, w: r.Window}
			spans[id] = d.span
		}
	}
	e.ips.init(cfg.MaxTrackedIPs, spans, e.seed)
	e.logons.init(e.seed)
	e.marks.init()
	return e
}

// Clock returns the largest event time accepted so far.
func (e *Engine[P]) Clock() int64 { return e.clock }

// Rules returns how many rules the engine runs.
func (e *Engine[P]) Rules() int { return len(e.rules) }

// TrackedIPs returns how many (counter, address) records hold failures.
func (e *Engine[P]) TrackedIPs() int { return e.ips.len() }

// PendingLogons returns how many successes wait for failures.
func (e *Engine[P]) PendingLogons() int { return len(e.logons.heap) }

// Observe judges the event time t against the clock (wall is the wall clock and maxSkew the
// allowed skew, both in nanoseconds) and, for a current event, advances the clock and drops the
// state that can no longer matter.
func (e *Engine[P]) Observe(t, wall, maxSkew int64) Verdict {
	if t > wall+maxSkew {
		return Future
	}
	if t < e.clock-e.maxWindow {
		return Late
	}
	if t > e.clock {
		e.clock = t
		e.expire()
	}
	return Current
}

// horizon is the oldest time state of a counter or rule with this span is kept for: a current event
// is at most maxWindow older than the clock, and it can pair with state up to one window older than
// itself.
func (e *Engine[P]) horizon(span int64) int64 { return e.clock - span }

func (e *Engine[P]) expire() {
	e.Stats.ExpiredIPs += int64(e.ips.expire(e.clock))
	for len(e.logons.heap) > 0 && e.logons.heap[0].due < e.clock {
		e.logons.remove(e.logons.heap[0], e.rules)
		e.Stats.ExpiredLogons++
	}
	// A mark at m holds back successes in (m-d, m+d); none of them can still alert once m+d is
	// behind the rule's horizon.
	if e.marks.len() > 0 {
		e.marks.expire(e.clock)
	}
}

// counterOf is the counter a failure of counter c goes to.
func (e *Engine[P]) counterOf(c int) int {
	if e.together {
		return 0
	}
	return c
}

// Prefetch loads the state of the n (address, counter) pairs at(0) to at(n-1), about to be
// processed in this order, into the CPU caches. It changes nothing: it only lets the cache misses
// of a large table overlap.
func (e *Engine[P]) Prefetch(n int, at func(int) (netip.Addr, int)) {
	e.ips.prefetch(n, func(j int) (netip.Addr, int) {
		a, c := at(j)
		return a, e.counterOf(c)
	})
}

// FirstCounter is the first counter of rule r: what Prefetch wants for a success of r.
func (e *Engine[P]) FirstCounter(r int) int { return e.rules[r].Counters[0] }

// Failure records a failure of counter c at time t from addr (t must have been judged Current)
// and appends to out the alerts of waiting successes that it completes.
func (e *Engine[P]) Failure(c int, addr netip.Addr, t int64, out []Alert[P]) []Alert[P] {
	c = e.counterOf(c)
	if c >= len(e.counters) || e.counters[c].k == 0 {
		return out // no rule reads it
	}
	cn := e.counters[c]
	key := keyOf(addr)
	h := hashKey(e.seed, &key) // one hash for both tables
	i, evicted, kept := e.ips.addTagged(key, c, counterTag(h, c), t, e.horizon(e.ips.spans[c]), cn.w, cn.k)
	if evicted {
		e.Stats.EvictedIPs++
	}
	if !kept {
		return out // a new record that would expire before every tracked one, at the bound: it is the one evicted
	}
	w := e.logons.get(key, addrTag(h))
	if w == nil {
		return out
	}
	list := e.logons.list(w, c)
	if list == nil {
		return out
	}
	f := e.ips.failures(e.ips.rec(i)) // only now: most failures find no success waiting
	// Only runs of k failures that hold the new one can make a success fire now; each run that fits
	// in the window makes every success in [last-window, first+window] fire.
	lo, found := slices.BinarySearch(f, t)
	if !found {
		return out // compacted away: it changed no decision
	}
	hi := lo
	for hi+1 < len(f) && f[hi+1] == t {
		hi++
	}
	for i := max(0, lo-cn.k+1); i <= hi && i+cn.k <= len(f); i++ {
		first, last := f[i], f[i+cn.k-1]
		if last-first > cn.w {
			continue
		}
		out = e.fireBetween(out, w, list, c, f, last-cn.w, first+cn.w)
		if len(*list) == 0 {
			break
		}
	}
	return out
}

// fireBetween alerts every success of list, the successes of w waiting for counter c, with a time
// in [from, to].
func (e *Engine[P]) fireBetween(out []Alert[P], w *ipWaits[P], list *[]*pendingLogon[P], c int, f []int64, from, to int64) []Alert[P] {
	l := *list
	a := sort.Search(len(l), func(i int) bool { return l[i].time >= from })
	b := a
	for b < len(l) && l[b].time <= to {
		b++
	}
	if a == b {
		return out
	}
	fired := append(e.fired[:0], l[a:b]...)
	*list = slices.Delete(l, a, b)
	if len(*list) == 0 && e.logons.empty(w) {
		e.logons.drop(w)
	}
	for _, l := range fired {
		r := &e.rules[l.rule]
		j := slices.Index(r.Counters, c)
		_, n, first, last := fires(f, l.time, r.Window, r.k)
		l.done |= 1 << j
		out = e.emit(out, l, j, n, first, last)
		if l.done == r.all {
			e.logons.heap.remove(l.heapIdx) // it waits nowhere else
		}
	}
	clear(fired)
	e.fired = fired[:0]
	return out
}

// Logon is Success of the first rule: the seed's host logon.
func (e *Engine[P]) Logon(addr netip.Addr, t int64, host string, payload P, out []Alert[P]) []Alert[P] {
	return e.Success(0, addr, t, host, payload, out)
}

// Success records a success of rule r at time t from addr (t judged Current) on host (what
// suppress keys it by besides the address), and appends its alerts for every counter of r whose
// failures already suffice. Unless it alerted for every counter it waits, bounded by
// MaxPendingLogons, for failures that may still arrive.
func (e *Engine[P]) Success(r int, addr netip.Addr, t int64, host string, payload P, out []Alert[P]) []Alert[P] {
	key := keyOf(addr)
	h := hashKey(e.seed, &key) // one hash for both tables
	ru := &e.rules[r]
	l := &pendingLogon[P]{key: key, addr: addr, time: t, host: host, payload: payload, rule: uint8(r),
		due: satAdd(t, ru.span), tag: uint32(addrTag(h))}
	for j, c := range ru.Counters {
		if idx, ok := e.ips.findTagged(key, c, counterTag(h, c)); ok {
			f := e.ips.failures(e.ips.rec(idx))
			if ok, n, first, last := fires(f, t, ru.Window, ru.k); ok {
				l.done |= 1 << j
				out = e.emit(out, l, j, n, first, last)
			}
		}
	}
	if l.done == ru.all {
		return out
	}
	e.enqueue(l)
	return out
}

// wait keeps l until failures complete it. At the bound the waiting success that expires first
// goes (the earliest arrived among equal times), which is l itself when it would expire before all
// of them. Expired successes are already gone: expire runs whenever the clock moves.
func (e *Engine[P]) wait(l *pendingLogon[P]) {
	l.tag = uint32(addrTag(hashKey(e.seed, &l.key)))
	e.enqueue(l)
}

// enqueue is wait for l with its tag set.
func (e *Engine[P]) enqueue(l *pendingLogon[P]) {
	l.seq = e.logonSeq
	e.logonSeq++
	if len(e.logons.heap) >= e.cfg.MaxPendingLogons {
		e.Stats.EvictedLogons++
		oldest := e.logons.heap[0]
		if oldest.due > l.due {
			return
		}
		e.logons.remove(oldest, e.rules)
	}
	e.logons.add(l, e.rules[l.rule].Counters)
}

// emit appends the alert of l for the rule's j-th counter, unless suppress holds it back.
func (e *Engine[P]) emit(out []Alert[P], l *pendingLogon[P], j, n int, first, last int64) []Alert[P] {
	r := &e.rules[l.rule]
	c := r.Counters[j]
	if r.Suppress > 0 {
		sk := suppressKey{rule: int(l.rule), counter: c, addr: l.key, host: l.host}
		if e.marks.holdsBack(&sk, l.time, r.Suppress) {
			e.Stats.Suppressed++
			return out
		}
		// Its last use: a success within suppress of it may alert until the rule's horizon passes it.
		due := satAdd(satAdd(l.time, r.Suppress), r.span)
		if e.marks.add(sk, l.time, due, e.cfg.MaxSuppressMarks) {
			e.Stats.EvictedSuppress++
		}
	}
	return append(out, Alert[P]{
		Payload: l.payload, Addr: l.addr, Host: l.host, Time: l.time,
		Rule: int(l.rule), Table: j, Counter: c, Count: n, First: first, Last: last,
	})
}

// pendingLogon is a success that has not yet alerted for every counter of its rule.
type pendingLogon[P any] struct {
	key     ipKey
	addr    netip.Addr
	time    int64
	due     int64 // when it expires: time + its rule's span
	host    string
	payload P
	rule    uint8
	done    uint8  // the rule's counters already alerted, one bit each
	tag     uint32 // the address's tag in pendingLogons.index
	heapIdx int
	seq     uint64 // arrival order, for ties
}

// pendingLogons indexes waiting successes by address and, there, by time; and orders them all by
// when they expire, for expiry and eviction.
type pendingLogons[P any] struct {
	index index         // handle in sets by address
	sets  []*ipWaits[P] // by handle; handle 0 is never used
	ids   handles       // of sets; 0 is never used
	heap  logonHeap[P]
	// more are the lists of addresses with successes waiting for more than two counters, by handle.
	more    [][]waitList[P]
	moreIDs handles
}

// ipWaits are the successes waiting at one address, one list per counter they wait for (those of
// their rule they have not alerted for), by time, equal times in arrival order. They are filed once
// per address, so a success is one index lookup however many counters it waits for; the lists of
// the first two counters (all of the seed's) sit in the object, with the first array of each: 96
// bytes, and one object for an address with one waiting success.
type ipWaits[P any] struct {
	key     ipKey
	handle  uint32                // in pendingLogons.sets
	tag     uint32                // the key's hash tag in pendingLogons.index
	counter [2]uint8              // the counter of waiting[i], when it is not empty
	more    uint32                // the lists of further counters: a handle in pendingLogons.more, or 0
	waiting [2][]*pendingLogon[P] // an empty list is a free place
	// one is the first array of each of waiting: a list of one success costs no array of its own.
	one [2]*pendingLogon[P]
}

// waitList is the successes of an address waiting for one counter, beyond ipWaits' first two.
type waitList[P any] struct {
	counter int
	waiting []*pendingLogon[P]
}

// list returns the list of w for counter c, or nil when no success waits for it.
func (p *pendingLogons[P]) list(w *ipWaits[P], c int) *[]*pendingLogon[P] {
	for i := range w.waiting {
		if len(w.waiting[i]) > 0 && int(w.counter[i]) == c {
			return &w.waiting[i]
		}
	}
	if w.more != 0 {
		more := p.more[w.more]
		for i := range more {
			if l := &more[i]; len(l.waiting) > 0 && l.counter == c {
				return &l.waiting
			}
		}
	}
	return nil
}

// place returns the list of w for counter c, making one when none waits for it yet.
func (p *pendingLogons[P]) place(w *ipWaits[P], c int) *[]*pendingLogon[P] {
	if l := p.list(w, c); l != nil {
		return l
	}
	for i := range w.waiting {
		if len(w.waiting[i]) == 0 {
			w.counter[i] = uint8(c)
			return &w.waiting[i]
		}
	}
	if w.more == 0 {
		var fresh bool
		if w.more, fresh = p.moreIDs.take(); fresh {
			p.more = append(p.more, nil)
		}
	}
	more := p.more[w.more]
	for i := range more {
		if l := &more[i]; len(l.waiting) == 0 {
			l.counter = c
			return &l.waiting
		}
	}
	p.more[w.more] = append(more, waitList[P]{counter: c})
	more = p.more[w.more]
	return &more[len(more)-1].waiting
}

// empty reports whether no success waits in w any more.
func (p *pendingLogons[P]) empty(w *ipWaits[P]) bool {
	for i := range w.waiting {
		if len(w.waiting[i]) > 0 {
			return false
		}
	}
	if w.more != 0 {
		for _, l := range p.more[w.more] {
			if len(l.waiting) > 0 {
				return false
			}
		}
	}
	return true
}

func (p *pendingLogons[P]) init(seed maphash.Seed) {
	p.index.init(seed)
	p.sets = []*ipWaits[P]{nil}
	p.ids.next = 1
	p.more = [][]waitList[P]{nil}
	p.moreIDs.next = 1
}

// get returns the successes waiting at k (whose address tag is tag), or nil.
func (p *pendingLogons[P]) get(k ipKey, tag uint64) *ipWaits[P] {
	if p.index.n == 0 {
		return nil
	}
	h, ok := p.index.find(tag, func(h uint32) bool { return p.sets[h].key == k })
	if !ok {
		return nil
	}
	return p.sets[h]
}

// add makes l wait for each counter of counters (its rule's) it has not alerted for.
func (p *pendingLogons[P]) add(l *pendingLogon[P], counters []int) {
	w := p.get(l.key, uint64(l.tag))
	if w == nil {
		w = &ipWaits[P]{key: l.key, tag: l.tag}
		for i := range w.waiting {
			w.waiting[i] = w.one[i : i : i+1]
		}
		var fresh bool
		if w.handle, fresh = p.ids.take(); fresh {
			p.sets = append(p.sets, w)
		} else {
			p.sets[w.handle] = w
		}
		p.index.insert(w.handle, uint64(l.tag))
	}
	for j, c := range counters {
		if l.done&(1<<j) != 0 {
			continue
		}
		list := p.place(w, c)
		if n := len(*list); n == 0 || (*list)[n-1].time <= l.time {
			*list = append(*list, l) // successes mostly arrive in time order
			continue
		}
		i := sort.Search(len(*list), func(i int) bool { return (*list)[i].time > l.time })
		*list = slices.Insert(*list, i, l)
	}
	p.heap.push(l)
}

// remove forgets l everywhere.
func (p *pendingLogons[P]) remove(l *pendingLogon[P], rules []rule) {
	p.heap.remove(l.heapIdx)
	w := p.get(l.key, uint64(l.tag))
	if w == nil {
		return // it had alerted for every counter it waited for
	}
	for j, c := range rules[l.rule].Counters {
		if l.done&(1<<j) != 0 {
			continue
		}
		list := p.list(w, c)
		if list == nil {
			continue
		}
		s := *list
		i := sort.Search(len(s), func(i int) bool { return s[i].time >= l.time })
		for ; i < len(s) && s[i].time == l.time; i++ {
			if s[i] == l {
				*list = slices.Delete(s, i, i+1)
				break
			}
		}
	}
	if p.empty(w) {
		p.drop(w)
	}
}

// drop forgets an empty set.
func (p *pendingLogons[P]) drop(w *ipWaits[P]) {
	p.index.remove(w.handle, uint64(w.tag))
	p.sets[w.handle] = nil
	p.ids.release(w.handle)
	if w.more != 0 {
		p.more[w.more] = nil
		p.moreIDs.release(w.more)
	}
}

// before orders waiting successes for expiry and eviction: by when they expire, then arrival.
func (l *pendingLogon[P]) before(o *pendingLogon[P]) bool {
	return l.due < o.due || (l.due == o.due && l.seq < o.seq)
}

// logonHeap is a min-heap of waiting successes in the order of before; each knows its position
// (heapIdx). It is container/heap's algorithm on the concrete type: no call through an interface
// per comparison and swap.
type logonHeap[P any] []*pendingLogon[P]

func (h *logonHeap[P]) push(l *pendingLogon[P]) {
	l.heapIdx = len(*h)
	*h = append(*h, l)
	h.up(l.heapIdx)
}

// remove takes out the success at position i.
func (h *logonHeap[P]) remove(i int) {
	n := len(*h) - 1
	if n != i {
		h.swap(i, n)
		if !h.down(i, n) {
			h.up(i)
		}
	}
	(*h)[n] = nil
	*h = (*h)[:n]
}

func (h logonHeap[P]) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}

func (h logonHeap[P]) up(j int) {
	for j > 0 {
		i := (j - 1) / 2 // parent
		if !h[j].before(h[i]) {
			return
		}
		h.swap(i, j)
		j = i
	}
}

// down sifts position i0 down among the first n and reports whether it moved.
func (h logonHeap[P]) down(i0, n int) bool {
	i := i0
	for {
		j := 2*i + 1
		if j >= n || j < 0 { // j < 0 after an overflow
			break
		}
		if j2 := j + 1; j2 < n && h[j2].before(h[j]) {
			j = j2 // the smaller child
		}
		if !h[j].before(h[i]) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}
