package state

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"sync"

	"github.com/secops-otel/aadhostlogincorrelation/internal/alert"
	"github.com/secops-otel/aadhostlogincorrelation/internal/codec"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window"
)

// The journal of the memory backend is the sequence of observations its state took, in order:
// the engine is deterministic, so replaying them onto the state they started from rebuilds the
// state they led to (alert marks, suppress marks, evictions and the clock included). Only events
// judged current are written: late and future ones changed nothing.
//
// A journal is a sequence of records, one per batch that changed something:
//
//	uvarint length, then that many bytes of entries
//
// and each entry is
//
//	0, uvarint counter, 16-byte address, varint time                       (a failure)
//	1, uvarint rule, 16-byte address, varint time, host, uvarint length, logon (a success)
//
// A logon is encoded as in a snapshot; logons of one record that share a resource encode it once,
// so a record decodes on its own.
const (
	entryFailure = 0
	entrySuccess = 1
)

// journal is what the memory backend has observed since the journal was last taken.
type journal struct {
	on        bool
	batch     []byte                  // the current batch's entries
	scratch   []byte                  // a logon's encoding
	resources alert.ResourceEncodings // of the current batch's logons

	mu      sync.Mutex // guards the fields below: taken by the checkpoint writer while batches run
	records []byte
	entries int
}

// Journal turns the journal on or off (off discards what it held).
func (m *Memory) Journal(on bool) {
	m.journal.mu.Lock()
	defer m.journal.mu.Unlock()
	m.journal.on = on
	m.journal.records, m.journal.entries = nil, 0
}

// TakeJournal returns the journal records written since the last call (nil if none) and how many
// observations they hold, and starts a new journal. It is safe to call while a batch is applied.
func (m *Memory) TakeJournal() (records []byte, entries int) {
	j := &m.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	records, entries = j.records, j.entries
	j.records, j.entries = nil, 0
	return records, entries
}

// journalFailure appends a failure entry to the current batch.
func (j *journal) failure(ev *Event) {
	b := append(j.batch, entryFailure)
	b = binary.AppendUvarint(b, uint64(ev.Table))
	a := ev.Addr.As16()
	b = append(b, a[:]...)
	j.batch = binary.AppendVarint(b, ev.Time)
}

// success appends a success entry to the current batch.
func (j *journal) success(ev *Event, host string, packed alert.Packed) error {
	if j.resources == nil {
		j.resources = alert.ResourceEncodings{}
	}
	logon, err := packed.AppendEncoded(j.scratch[:0], j.resources)
	if err != nil {
		return err
	}
	j.scratch = logon
	b := append(j.batch, entrySuccess)
	b = binary.AppendUvarint(b, uint64(ev.Rule))
	a := ev.Addr.As16()
	b = append(b, a[:]...)
	b = binary.AppendVarint(b, ev.Time)
	b = codec.AppendString(b, host)
	b = binary.AppendUvarint(b, uint64(len(logon)))
	j.batch = append(b, logon...)
	return nil
}

// endBatch moves the batch's entries, as one record, into the journal.
func (j *journal) endBatch(entries int) {
	if len(j.batch) == 0 {
		return
	}
	j.mu.Lock()
	j.records = binary.AppendUvarint(j.records, uint64(len(j.batch)))
	j.records = append(j.records, j.batch...)
	j.entries += entries
	j.mu.Unlock()
	j.batch = j.batch[:0]
	clear(j.resources)
}

// Replay applies journal records, as TakeJournal returned them, to the state: what the backend
// observed is observed again, in the same order, and the alerts it made are not made again.
// The counters stay as they were: what the replay evicts or suppresses was counted when it happened.
func (m *Memory) Replay(records []byte) error {
	stats := m.Engine.Stats
	defer func() { m.Engine.Stats = stats }()
	return replay(m.Engine, records, &m.fired, alert.UnmarshalPacked, nil)
}

// replay applies journal records to engine: a success's logon becomes the engine's payload through
// decode (with the resources of the logons of its record), and step (when not nil) is called after
// each entry.
func replay[P any](engine *window.Engine[P], records []byte, scratch *[]window.Alert[P],
	decode func([]byte, alert.Resources) (P, error), step func() error) error {
	r := codec.NewReader(records)
	for r.Len() > 0 {
		rec := r.Bytes(r.Count(1))
		if r.Err() != nil {
			return fmt.Errorf("journal: record: %w", r.Err())
		}
		if err := replayRecord(engine, rec, scratch, decode, step); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
	return nil
}

func replayRecord[P any](engine *window.Engine[P], rec []byte, scratch *[]window.Alert[P],
	decode func([]byte, alert.Resources) (P, error), step func() error) error {
	r := codec.NewReader(rec)
	resources := alert.Resources{}
	fired := (*scratch)[:0]
	defer func() { *scratch = fired[:0] }()
	rules := engine.Rules()
	for r.Len() > 0 {
		kind := r.Byte()
		n := int(min(r.Uvarint(), math.MaxUint16)) // a rule or counter number: few
		addr := netip.AddrFrom16([16]byte(pad16(r.Bytes(16)))).Unmap()
		t := r.Varint()
		if r.Err() != nil {
			return r.Err()
		}
		switch kind {
		case entryFailure:
			if n > math.MaxUint8 {
				return fmt.Errorf("failure of counter %d", n)
			}
			if engine.Observe(t, math.MaxInt64, 0) == window.Current {
				fired = engine.Failure(n, addr, t, fired)
			}
		case entrySuccess:
			host := r.String()
			raw := r.Bytes(r.Count(1))
			if r.Err() != nil {
				return r.Err()
			}
			if n >= rules {
				return fmt.Errorf("success of rule %d (%d rules)", n, rules)
			}
			payload, err := decode(raw, resources)
			if err != nil {
				return fmt.Errorf("logon: %w", err)
			}
			if engine.Observe(t, math.MaxInt64, 0) == window.Current {
				fired = engine.Success(n, addr, t, host, payload, fired)
			}
		default:
			return fmt.Errorf("entry of kind %d", kind)
		}
		clear(fired) // made before: not again
		fired = fired[:0]
		if step != nil {
			if err := step(); err != nil {
				return err
			}
		}
	}
	return nil
}

// pad16 returns b, or 16 zero bytes when b is short (the reader has recorded the error).
func pad16(b []byte) []byte {
	if len(b) != 16 {
		return make([]byte, 16)
	}
	return b
}
