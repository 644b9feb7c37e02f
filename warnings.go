package aadhostlogincorrelation

import (
	"time"

	"go.uber.org/zap"

	"github.com/secops-otel/aadhostlogincorrelation/internal/state"
)

// requestCounter is a backend that sends each batch to a server and counts its requests (Redis): a
// batch it had nothing to send for (no sign-in or logon, or only events from the future) succeeds
// without a request, and so says nothing about whether the server is back.
type requestCounter interface {
	RoundTrips() (requests, scriptSent int64)
}

var _ requestCounter = (*state.Redis)(nil)

// backendRequests returns how many requests the backend has sent, or -1 for a backend that answers
// every batch itself (memory).
func (p *correlationProcessor) backendRequests() int64 {
	rc, ok := p.backend.(requestCounter)
	if !ok {
		return -1
	}
	n, _ := rc.RoundTrips()
	return n
}

// backendWarnEvery is the least time between two warnings about a failing state backend (Redis
// down: every batch fails).
const backendWarnEvery = 10 * time.Second

// backendWarnings logs state backend failures at most once per backendWarnEvery, with how many it
// held back, and says when the backend works again: when it answers a batch, not merely when a
// batch that needed no answer (nothing to send) succeeds.
type backendWarnings struct {
	last    time.Time // when the last warning was logged
	held    int       // failures since then that were not logged
	failing int       // batches failed in a row
}

func (w *backendWarnings) failed(logger *zap.Logger, now time.Time, err error) {
	w.failing++
	if !w.last.IsZero() && now.Sub(w.last) < backendWarnEvery {
		w.held++
		return
	}
	logger.Warn("state backend failed; records pass through uncorrelated", zap.Error(err),
		zap.Int("suppressed_warnings", w.held))
	w.last, w.held = now, 0
}

func (w *backendWarnings) succeeded(logger *zap.Logger) {
	if w.failing > 0 {
		logger.Info("state backend works again; correlation resumes", zap.Int("failed_batches", w.failing))
		w.failing = 0
	}
}
