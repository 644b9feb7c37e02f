package checkpoint

import (
	"context"
	"time"
)

// Pacer spreads work done in the background over time, so that it never holds a CPU for long: the
// work runs in slices of about work, each followed by a rest of rest, so that it takes at most a
// share work/(work+rest) of one CPU, and a goroutine that needs a CPU meanwhile (a batch) waits
// for it at most about one slice. On two CPUs, with the garbage collector's workers taking turns on
// them too, a compaction that ran unpaced kept batches waiting for a CPU for tens of milliseconds.
//
// The work calls Step often, every few tens of microseconds of work; Step rests when the slice is
// over. After each storage transaction it calls Rest, which rests at once. A nil *Pacer never
// rests.
type Pacer struct {
	ctx        context.Context
	work, rest time.Duration
	since      time.Time // when the current slice began
	rests      int
	rested     time.Duration
}

// NewPacer returns a pacer of slices of work and rests of rest, whose Step returns ctx's error once
// ctx is done.
func NewPacer(ctx context.Context, work, rest time.Duration) *Pacer {
	return &Pacer{ctx: ctx, work: work, rest: rest, since: time.Now()}
}

// Step rests if the current slice has lasted its time, and reports whether the work should stop
// (the context's error).
func (p *Pacer) Step() error {
	if p == nil {
		return nil
	}
	if time.Since(p.since) >= p.work {
		p.pause()
	}
	return p.ctx.Err()
}

// Rest rests now, whatever the slice, and reports whether the work should stop. The work calls it
// after each storage transaction: the storage takes one writer at a time (file_storage's reads are
// transactions that write too), and a batch that carries an alert may be waiting for it to write
// the journal; a waiter on a mutex can be passed over for up to a millisecond by a holder that
// locks it again at once.
func (p *Pacer) Rest() error {
	if p == nil {
		return nil
	}
	p.pause()
	return p.ctx.Err()
}

func (p *Pacer) pause() {
	started := time.Now()
	timer := time.NewTimer(p.rest)
	select {
	case <-p.ctx.Done():
		timer.Stop()
	case <-timer.C:
	}
	p.since = time.Now()
	p.rests++
	p.rested += p.since.Sub(started)
}

// Rested reports how many rests the pacer took and how long they lasted in all.
func (p *Pacer) Rested() (int, time.Duration) {
	if p == nil {
		return 0, 0
	}
	return p.rests, p.rested
}
