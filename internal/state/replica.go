package state

import (
	"github.com/secops-otel/aadhostlogincorrelation/internal/alert"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window"
)

// Replica is a copy of the memory backend's state rebuilt away from the live one, to compact a
// checkpoint: a base and the journal since go in, the next base comes out. It runs the same engine
// under the same rules, so it decides exactly as the live state did, but it keeps each waiting logon
// as its encoding, a view of the base or journal bytes it was read from: no logon is decoded or
// copied, no resource rebuilt, and its snapshot writes the encodings back as they were, the bytes
// the live state's own snapshot writes. What it allocates is the engine's index of the logons and
// the failures, not the logons, so that a compaction adds as little as it can to the garbage
// collector's work while batches run beside it.
//
// It works in the calling goroutine only, calling pace (when not nil) every few hundred entries:
// a compaction rests there, so that it never holds a CPU for long. An error from pace stops the
// work with that error.
type Replica struct {
	engine *window.Engine[encodedLogon]
	pace   func() error
	fired  []window.Alert[encodedLogon]
	steps  int
}

// encodedLogon is a waiting logon as a checkpoint encodes it (alert.Packed.AppendEncoded): a view
// of the bytes it was read from, which must not change while the replica lives.
type encodedLogon []byte

// NewReplica returns an empty replica of a state of configuration cfg.
func NewReplica(cfg window.Config, pace func() error) *Replica {
	return &Replica{engine: window.New[encodedLogon](cfg), pace: pace}
}

// Restore replaces the state with a base made by Memory.Snapshot (or SnapshotTo). The replica
// keeps views of base: it must not change while the replica lives.
func (r *Replica) Restore(base []byte) error {
	return r.engine.RestorePaced(base, func(b []byte) (encodedLogon, error) { return b, nil }, r.pace)
}

// Replay applies journal records, as Memory.TakeJournal returned them. The replica keeps views of
// journal: it must not change while the replica lives. A logon is checked as Memory.Replay checks
// it, so that a journal the live state would refuse is refused here too, rather than written into a
// base (the base's own logons were checked when the state they came from was restored, or made).
func (r *Replica) Replay(journal []byte) error {
	return replay(r.engine, journal, &r.fired, func(b []byte, rs alert.Resources) (encodedLogon, error) {
		if _, err := alert.UnmarshalPacked(b, rs); err != nil {
			return nil, err
		}
		return b, nil
	}, r.step)
}

// step calls pace every paceEvery journal entries.
func (r *Replica) step() error {
	if r.pace == nil {
		return nil
	}
	if r.steps++; r.steps < paceEvery {
		return nil
	}
	r.steps = 0
	return r.pace()
}

// paceEvery is how many journal entries a replica replays between two calls of pace.
const paceEvery = 64

// SnapshotTo encodes the state as Memory.Snapshot would encode the same state, handing the encoding
// to emit in consecutive pieces of size bytes (the last one shorter); each piece is emit's to keep.
func (r *Replica) SnapshotTo(size int, emit func([]byte) error) error {
	return r.engine.SnapshotTo(size, func(b []byte, l *encodedLogon) ([]byte, error) {
		return append(b, *l...), nil
	}, emit, r.pace)
}

// Sizes reports the tracked IPs and the waiting logons.
func (r *Replica) Sizes() (trackedIPs, pendingLogons int) {
	return r.engine.TrackedIPs(), r.engine.PendingLogons()
}
