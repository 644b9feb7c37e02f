package window

import (
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

// Snapshot encodes the engine's whole state; encode turns a waiting logon's payload into bytes.
// The encoding ends with a CRC-32 so a torn or corrupt checkpoint is detected on Restore.
func (e *Engine[P]) Snapshot(encode func([]byte, *P) ([]byte, error)) ([]byte, error) {
	b := make([]byte, 0, 64+e.ips.len()*40+len(e.logons.heap)*512)
	b = append(b, snapshotMagic...)
	b = append(b, snapshotVersion)
	b = e.appendRuleSet(b)
	b = binary.AppendVarint(b, e.clock)

	b = binary.AppendUvarint(b, uint64(e.ips.len()))
	// In their order of eviction, so a restore into a smaller bound keeps the last to go.
	for i := range e.ips.oldestFirst() {
		r := e.ips.rec(i)
		b = append(b, r.key[:]...)
		b = append(b, byte(r.counter))       // counters are fewer than 256
		b = binary.AppendVarint(b, r.newest) // may be newer than every failure kept (compaction)
		f := e.ips.failures(r)
		b = binary.AppendUvarint(b, uint64(len(f)))
		for _, t := range f {
			b = binary.AppendVarint(b, t)
		}
	}

	logons := slices.Clone(e.logons.heap)
	// In their order of eviction, which a restore keeps.
	slices.SortFunc(logons, func(a, b *pendingLogon[P]) int {
		if a.before(b) {
			return -1
		}
		return 1
	})
	b = binary.AppendUvarint(b, uint64(len(logons)))
	for _, l := range logons {
		b = append(b, l.key[:]...)
		b = binary.AppendVarint(b, l.time)
		b = append(b, l.rule, l.done)
		b = codec.AppendString(b, l.host)
		mark := len(b)
		b = binary.AppendUvarint(b, 0) // room for the payload length, rewritten below
		start := len(b)
		var err error
		if b, err = encode(b, &l.payload); err != nil {
			return nil, fmt.Errorf("encoding a waiting logon: %w", err)
		}
		payload := slices.Clone(b[start:])
		b = binary.AppendUvarint(b[:mark], uint64(len(payload)))
		b = append(b, payload...)
	}

	// Every suppress mark: they are dropped by event time only, so no sweep position is needed.
	b = binary.AppendUvarint(b, uint64(e.marks.len()))
	for _, m := range e.marks.sorted() {
		b = append(b, m.key.addr[:]...)
		b = codec.AppendString(b, m.key.host)
		b = append(b, byte(m.key.rule), byte(m.key.counter))
		b = binary.AppendVarint(b, m.time)
	}
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b)), nil
}

// Restore replaces the engine's state with a snapshot. On any error the engine is left empty
// and the error says why (ErrIncompatible for another version or configuration).
func (e *Engine[P]) Restore(data []byte, decode func([]byte) (P, error)) (err error) {
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
	if crc32.ChecksumIEEE(body) != sum {
		return errors.New("corrupt snapshot: checksum mismatch")
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
	ips.Go(func() { ipErr = e.restoreFailures(codec.NewReader(rest[:ipLen])) })
	defer func() {
		ips.Wait()
		if err == nil {
			err = ipErr
		}
	}()

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
	}
	if r.Err() != nil {
		return fmt.Errorf("corrupt snapshot: %w", r.Err())
	}
	if r.Len() != 0 {
		return errors.New("corrupt snapshot: trailing bytes")
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

// restoreFailures restores the failures' section of a snapshot, read by r, into an empty engine.
// It touches the failures only (and the count of their evictions).
func (e *Engine[P]) restoreFailures(r *codec.Reader) error {
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
	}
	if r.Err() != nil {
		return fmt.Errorf("corrupt snapshot: %w", r.Err())
	}
	if r.Len() != 0 {
		return errors.New("corrupt snapshot: failures section")
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
