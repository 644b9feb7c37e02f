package state

import (
	"context"
	"net/netip"
	"slices"

	"github.com/secops-otel/aadhostlogincorrelation/internal/alert"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window"
)

// Memory keeps the state in this process. It is not safe for concurrent use; the processor
// serialises batches.
type Memory struct {
	// Engine keeps waiting logons packed: the garbage collector hardly looks at them.
	Engine  *window.Engine[alert.Packed]
	fired   []window.Alert[alert.Packed]
	journal journal // what was observed since the last TakeJournal, when on
}

// NewMemory returns an empty in-memory backend.
func NewMemory(cfg window.Config) *Memory {
	return &Memory{Engine: window.New[alert.Packed](cfg)}
}

// prefetchGroup is how many events' state is loaded ahead at a time: few enough that the pages
// they touch stay within the CPU's TLB reach (about 1500 pages) until they are processed.
const prefetchGroup = 256

// Apply implements Backend.
func (m *Memory) Apply(_ context.Context, wall, maxSkew int64, events []Event, out []Alert) ([]Alert, error) {
	fired := m.fired[:0]
	journaled := 0
	defer func() { m.journal.endBatch(journaled) }() // even on error: the engine took the events
	for i := range events {
		if i%prefetchGroup == 0 {
			group := events[i:min(i+prefetchGroup, len(events))]
			m.Engine.Prefetch(len(group), func(j int) (netip.Addr, int) {
				if ev := &group[j]; ev.Logon {
					return ev.Addr, m.Engine.FirstCounter(ev.Rule)
				}
				return group[j].Addr, group[j].Table
			})
		}
		ev := &events[i]
		ev.Verdict = m.Engine.Observe(ev.Time, wall, maxSkew)
		if ev.Verdict != window.Current {
			continue
		}
		if ev.Logon {
			packed, host := ev.Payload.Pack()
			if m.journal.on {
				if err := m.journal.success(ev, host, packed); err != nil {
					return out, err
				}
				journaled++
			}
			fired = m.Engine.Success(ev.Rule, ev.Addr, ev.Time, host, packed, fired)
		} else {
			if m.journal.on {
				m.journal.failure(ev)
				journaled++
			}
			fired = m.Engine.Failure(ev.Table, ev.Addr, ev.Time, fired)
		}
	}
	m.fired = fired
	out = slices.Grow(out, len(fired))
	for i := range fired {
		a := &fired[i]
		out = out[:len(out)+1]
		o := &out[len(out)-1] // filled in place: an Alert is some 500 bytes
		*o = Alert{}
		if err := a.Payload.Unpack(&o.Payload); err != nil {
			return out[:len(out)-1], err
		}
		o.Addr, o.Host, o.Time = a.Addr, a.Host, a.Time
		o.Rule, o.Table, o.Counter = a.Rule, a.Table, a.Counter
		o.Count, o.First, o.Last = a.Count, a.First, a.Last
		a.Payload = alert.Packed{} // the engine may forget it
	}
	return out, nil
}

// Sizes implements Backend.
func (m *Memory) Sizes() (int, int) { return m.Engine.TrackedIPs(), m.Engine.PendingLogons() }

// Counters implements Backend.
func (m *Memory) Counters() Counters { return Counters{Stats: m.Engine.Stats} }

// Close implements Backend.
func (m *Memory) Close(context.Context) error { return nil }

// Snapshot encodes the whole state for a checkpoint.
func (m *Memory) Snapshot() ([]byte, error) {
	resources := alert.ResourceEncodings{} // logons that share a resource encode it once
	return m.Engine.Snapshot(func(b []byte, l *alert.Packed) ([]byte, error) { return l.AppendEncoded(b, resources) })
}

// RuleSet is what the state's decisions depend on besides the state: a journal replays only onto
// the state of the same rule set.
func (m *Memory) RuleSet() []byte { return m.Engine.RuleSet() }

// Restore replaces the state with a checkpoint made by Snapshot; on error the state is empty.
func (m *Memory) Restore(data []byte) error {
	resources := alert.Resources{} // logons that shared a resource before the checkpoint share it again
	return m.Engine.Restore(data, func(b []byte) (alert.Packed, error) { return alert.UnmarshalPacked(b, resources) })
}
