package window

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"sync"

	"github.com/secops-otel/aadhostlogincorrelation/internal/codec"
)

// Snapshots start with this magic and version; anything else is refused as incompatible.
const (
	snapshotMagic   = "AHLCSNAP"
	snapshotVersion = 3
)

// ErrIncompatible marks a snapshot that was made by another version or under another
// configuration (the rules' thresholds, windows and counters): its state would decide differently,
// so it is ignored.
var ErrIncompatible = errors.New("incompatible snapshot")

// Snapshot encodes the engine's whole state; encode appends a waiting logon's payload to b.
// The encoding ends with a CRC-32 so a torn or corrupt checkpoint is detected on Restore.
func (e *Engine[P]) Snapshot(encode func([]byte, *P) ([]byte, error)) ([]byte, error) {
	w := snapshotWriter{buf: make([]byte, 0, 64+e.ips.len()*40+len(e.logons.heap)*512)}
	if err := e.snapshot(&w, encode); err != nil {
		return nil, err
	}
	return w.buf, nil
}

// SnapshotTo encodes what Snapshot does, handing the encoding to emit as it goes, in consecutive
// pieces of size bytes (the last one shorter), so that no buffer of the whole state is made; each
// piece is emit's to keep. pace, when not nil, is called every few hundred entries, and an error
// from it or from emit stops the snapshot with that error: a snapshot taken in the background
// rests there, so that it never holds a CPU for long.
func (e *Engine[P]) SnapshotTo(size int, encode func([]byte, *P) ([]byte, error), emit func([]byte) error, pace func() error) error {
	if size <= 0 {
		return errors.New("snapshot pieces of no size")
	}
	w := snapshotWriter{buf: make([]byte, 0, 2*size), size: size, emit: emit, pace: pacer{pace: pace}}
	return e.snapshot(&w, encode)
}

func (e *Engine[P]) snapshot(w *snapshotWriter, encode func([]byte, *P) ([]byte, error)) error {
	w.buf = append(w.buf, snapshotMagic...)
	w.buf = append(w.buf, snapshotVersion)
	w.buf = e.appendRuleSet(w.buf)
	w.buf = binary.AppendVarint(w.buf, e.clock)

	w.buf = binary.AppendUvarint(w.buf, uint64(e.ips.len()))
	// In their order of eviction, so a restore into a smaller bound keeps the last to go.
	for i := range e.ips.oldestFirst() {
		r := e.ips.rec(i)
		b := append(w.buf, r.key[:]...)
		b = append(b, byte(r.counter))       // counters are fewer than 256
		b = binary.AppendVarint(b, r.newest) // may be newer than every failure kept (compaction)
		f := e.ips.failures(r)
		b = binary.AppendUvarint(b, uint64(len(f)))
		for _, t := range f {
			b = binary.AppendVarint(b, t)
		}
		w.buf = b
		if err := w.entry(); err != nil {
			return err
		}
	}

	logons := slices.Clone(e.logons.heap)
	// In their order of eviction, which a restore keeps. A paced snapshot rests while sorting too:
	// a million waiting logons take some twenty million comparisons.
	var paceErr error
	compared := 0
	slices.SortFunc(logons, func(a, b *pendingLogon[P]) int {
		if compared++; compared%(64*paceEvery) == 0 && paceErr == nil {
			paceErr = w.pace.now()
		}
		if a.before(b) {
			return -1
		}
		return 1
	})
	if paceErr != nil {
		return paceErr
	}
	w.buf = binary.AppendUvarint(w.buf, uint64(len(logons)))
	for _, l := range logons {
		b := append(w.buf, l.key[:]...)
		b = binary.AppendVarint(b, l.time)
		b = append(b, l.rule, l.done)
		b = codec.AppendString(b, l.host)
		var err error
		if w.scratch, err = encode(w.scratch[:0], &l.payload); err != nil {
			return fmt.Errorf("encoding a waiting logon: %w", err)
		}
		b = binary.AppendUvarint(b, uint64(len(w.scratch)))
		w.buf = append(b, w.scratch...)
		if err := w.entry(); err != nil {
			return err
		}
	}

	// Every suppress mark: they are dropped by event time only, so no sweep position is needed.
	w.buf = binary.AppendUvarint(w.buf, uint64(e.marks.len()))
	for _, m := range e.marks.sorted() {
		b := append(w.buf, m.key.addr[:]...)
		b = codec.AppendString(b, m.key.host)
		b = append(b, byte(m.key.rule), byte(m.key.counter))
		w.buf = binary.AppendVarint(b, m.time)
		if err := w.entry(); err != nil {
			return err
		}
	}
	return w.end()
}

// paceEvery is how many entries a paced snapshot or restore encodes or decodes between two calls
// of its pace function: some tens of microseconds of work.
const paceEvery = 256

// pacer calls pace (when not nil) every paceEvery steps.
type pacer struct {
	pace  func() error
	steps int
}

func (p *pacer) step() error {
	if p.pace == nil {
		return nil
	}
	if p.steps++; p.steps < paceEvery {
		return nil
	}
	return p.now()
}

// now calls pace at once.
func (p *pacer) now() error {
	p.steps = 0
	if p.pace == nil {
		return nil
	}
	return p.pace()
}

// snapshotWriter collects a snapshot's encoding: all of it in buf (size 0), or handed to emit in
// pieces of size bytes as it grows.
type snapshotWriter struct {
	buf     []byte
	scratch []byte // a waiting logon's payload
	size    int
	emit    func([]byte) error
	crc     uint32 // of the bytes handed to emit so far
	pace    pacer
}

// entry is called after each entry appended to buf.
func (w *snapshotWriter) entry() error {
	if w.size > 0 && len(w.buf) >= w.size {
		if err := w.flush(w.size); err != nil {
			return err
		}
	}
	return w.pace.step()
}

// flush hands the pieces of buf that are at least min bytes to emit.
func (w *snapshotWriter) flush(least int) error {
	for len(w.buf) >= least && len(w.buf) > 0 {
		piece := bytes.Clone(w.buf[:min(w.size, len(w.buf))])
		w.crc = crc32.Update(w.crc, crc32.IEEETable, piece)
		if err := w.emit(piece); err != nil {
			return err
		}
		w.buf = append(w.buf[:0], w.buf[len(piece):]...)
	}
	return nil
}

// end appends the checksum of everything before it and hands out the rest.
func (w *snapshotWriter) end() error {
	sum := crc32.Update(w.crc, crc32.IEEETable, w.buf)
	w.buf = binary.BigEndian.AppendUint32(w.buf, sum)
	if w.size == 0 {
		return nil
	}
	return w.flush(1)
}

// Restore replaces the engine's state with a snapshot. On any error the engine is left empty
// and the error says why (ErrIncompatible for another version or configuration).
func (e *Engine[P]) Restore(data []byte, decode func([]byte) (P, error)) error {
	return e.restore(data, decode, nil)
}

// RestorePaced is Restore in the calling goroutine alone (Restore rebuilds the failures in a
// goroutine of its own), calling pace every few hundred entries: a restore in the background rests
// there, so that it never holds a CPU for long. An error from pace stops the restore with that
// error, the engine left empty.
func (e *Engine[P]) RestorePaced(data []byte, decode func([]byte) (P, error), pace func() error) error {
	if pace == nil {
		pace = func() error { return nil }
	}
	return e.restore(data, decode, pace)
}

func (e *Engine[P]) restore(data []byte, decode func([]byte) (P, error), pace func() error) (err error) {
	fresh := New[P](e.cfg)
	defer func() {
		if err != nil {
			*e = *fresh
		}
	}()
	// Nothing but a snapshot is ever stored under its key: a value without the magic is damage.
	if len(data) < len(snapshotMagic)+5 || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return fmt.Errorf("corrupt snapshot: no snapshot header (%d bytes)", len(data))
	}
	body, sum := data[:len(data)-4], binary.BigEndian.Uint32(data[len(data)-4:])
	p := pacer{pace: pace}
	if pace == nil {
		if crc32.ChecksumIEEE(body) != sum {
			return errors.New("corrupt snapshot: checksum mismatch")
		}
	} else if err := pacedChecksum(body, sum, &p); err != nil {
		return err
	}
	r := codec.NewReader(body[len(snapshotMagic):])
	if v := r.Byte(); v != snapshotVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrIncompatible, v, snapshotVersion)
	}
	want := e.appendRuleSet(nil)
	// The checksum holds, so a rule set that cannot even be read is another one (a longer name).
	if got := r.Bytes(len(want)); r.Err() != nil || string(got) != string(want) {
		return fmt.Errorf("%w: made for other rules (or their thresholds, windows or counters)", ErrIncompatible)
	}
	*e = *New[P](e.cfg)
	e.clock = r.Varint()

	if pace != nil {
		// One section after the other, in this goroutine.
		if err := e.restoreFailures(r, &p); err != nil {
			return err
		}
	} else {
		// The failures and the waiting successes go into structures of their own: the failures are
		// restored by a goroutine of their own while this one restores the rest.
		rest := body[len(body)-r.Len():]
		ipLen, err := ipSectionLen(rest)
		if err != nil {
			return err
		}
		r.Bytes(ipLen)
		var (
			ips   sync.WaitGroup
			ipErr error
		)
		ips.Go(func() {
			section := codec.NewReader(rest[:ipLen])
			if ipErr = e.restoreFailures(section, &pacer{}); ipErr == nil && section.Len() != 0 {
				ipErr = errors.New("corrupt snapshot: failures section")
			}
		})
		defer func() {
			ips.Wait()
			if err == nil {
				err = ipErr
			}
		}()
	}

	for n := r.Count(16 + 4); n > 0 && r.Err() == nil; n-- {
		var key ipKey
		copy(key[:], r.Bytes(16))
		t := r.Varint()
		rule, done := int(r.Byte()), r.Byte()
		host := r.String()
		raw := r.Bytes(r.Count(1))
		if r.Err() != nil {
			break
		}
		payload, err := decode(raw)
		if err != nil {
			return fmt.Errorf("corrupt snapshot: waiting logon: %w", err)
		}
		if rule >= len(e.rules) || done >= e.rules[rule].all {
			return errors.New("corrupt snapshot: waiting success of an unknown rule, or done")
		}
		e.wait(&pendingLogon[P]{key: key, addr: key.Addr(), time: t, host: host, payload: payload,
			rule: uint8(rule), done: done, due: satAdd(t, e.rules[rule].span)})
		if err := p.step(); err != nil {
			return err
		}
	}

	for n := r.Count(16 + 4); n > 0 && r.Err() == nil; n-- {
		var k suppressKey
		copy(k.addr[:], r.Bytes(16))
		k.host = r.String()
		k.rule, k.counter = int(r.Byte()), int(r.Byte())
		t := r.Varint()
		if r.Err() != nil {
			break
		}
		if k.rule >= len(e.rules) || !slices.Contains(e.rules[k.rule].Counters, k.counter) {
			return errors.New("corrupt snapshot: suppress mark of an unknown rule or counter")
		}
		ru := &e.rules[k.rule]
		if ru.Suppress == 0 {
			continue // suppress was turned off: marks hold nothing back
		}
		if e.marks.holdsBack(&k, t, 1) {
			return errors.New("corrupt snapshot: a suppress mark twice")
		}
		if e.marks.add(k, t, satAdd(satAdd(t, ru.Suppress), ru.span), e.cfg.MaxSuppressMarks) {
			e.Stats.EvictedSuppress++
		}
		if err := p.step(); err != nil {
			return err
		}
	}
	if r.Err() != nil {
		return fmt.Errorf("corrupt snapshot: %w", r.Err())
	}
	if r.Len() != 0 {
		return errors.New("corrupt snapshot: trailing bytes")
	}
	return nil
}

// pacedChecksum checks the CRC-32 of body in slices, resting between them.
func pacedChecksum(body []byte, sum uint32, p *pacer) error {
	const slice = 64 << 10 // some tens of microseconds
	crc := uint32(0)
	for at := 0; at < len(body); at += slice {
		crc = crc32.Update(crc, crc32.IEEETable, body[at:min(at+slice, len(body))])
		if err := p.now(); err != nil {
			return err
		}
	}
	if crc != sum {
		return errors.New("corrupt snapshot: checksum mismatch")
	}
	return nil
}

// ipSectionLen is the length of the failures' section at the start of b.
func ipSectionLen(b []byte) (int, error) {
	r := codec.NewReader(b)
	for n := r.Count(16 + 3); n > 0 && r.Err() == nil; n-- {
		r.Bytes(16 + 1)
		r.Varint()
		for m := r.Count(1); m > 0 && r.Err() == nil; m-- {
			r.Varint()
		}
	}
	if r.Err() != nil {
		return 0, fmt.Errorf("corrupt snapshot: %w", r.Err())
	}
	return len(b) - r.Len(), nil
}

// restoreFailures restores the failures' section of a snapshot, read by r, into an empty engine,
// calling p's step after each record. It touches the failures only (and the count of their
// evictions).
func (e *Engine[P]) restoreFailures(r *codec.Reader, p *pacer) error {
	for n := r.Count(16 + 3); n > 0 && r.Err() == nil; n-- {
		var key ipKey
		copy(key[:], r.Bytes(16))
		c := int(r.Byte())
		newest := r.Varint()
		if r.Err() != nil {
			break
		}
		if c >= len(e.counters) || e.counters[c].k == 0 {
			return errors.New("corrupt snapshot: failures of an unknown counter")
		}
		if _, dup := e.ips.find(key, c); dup {
			return errors.New("corrupt snapshot: a record twice")
		}
		// In their order of eviction: at a smaller bound, the first to go are the ones evicted.
		i, evicted := e.ips.insert(key, c, e.ips.hash(&key, c), newest)
		if evicted {
			e.Stats.EvictedIPs++
		}
		cn := e.counters[c]
		for m := r.Count(1); m > 0 && r.Err() == nil; m-- {
			t := r.Varint()
			if i == nilIndex {
				continue
			}
			if t > newest {
				return errors.New("corrupt snapshot: a failure newer than its record's newest")
			}
			e.ips.add(key, c, t, e.horizon(e.ips.spans[c]), cn.w, cn.k)
		}
		if err := p.step(); err != nil {
			return err
		}
	}
	if r.Err() != nil {
		return fmt.Errorf("corrupt snapshot: %w", r.Err())
	}
	return nil
}

// RuleSet is the encoding of what decisions depend on besides the state (appendRuleSet).
func (e *Engine[P]) RuleSet() []byte { return e.appendRuleSet(nil) }

// appendRuleSet appends what decisions depend on besides the state: each rule's threshold,
// window and counters (suppress and the bounds may change across a restart), and what the rules
// are when Config.RuleSet names them.
func (e *Engine[P]) appendRuleSet(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(e.rules)))
	for _, r := range e.rules {
		b = binary.AppendVarint(b, int64(r.Threshold))
		b = binary.AppendVarint(b, r.Window)
		b = binary.AppendUvarint(b, uint64(len(r.Counters)))
		for _, c := range r.Counters {
			b = binary.AppendUvarint(b, uint64(c))
		}
	}
	b = append(b, boolByte(e.together))
	if e.cfg.RuleSet != "" {
		b = binary.AppendUvarint(b, uint64(len(e.cfg.RuleSet)))
		b = append(b, e.cfg.RuleSet...)
	}
	return b
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}
