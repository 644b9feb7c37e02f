// Package state holds the rule's state behind one small interface, so one collector can keep it in
// memory and a fleet can share it (Redis).
package state

import (
	"context"
	"net/netip"

	"github.com/secops-otel/aadhostlogincorrelation/internal/alert"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window"
)

// Event is one failure or success of a batch, on its way to the state. It is small (a failure is
// most of a batch's events): a success's payload stays out of line, where the batch keeps it.
type Event struct {
	Addr netip.Addr
	Time int64 // event time, Unix nanoseconds
	// Payload is, for a success, what the alert will say; nil for a failure. It belongs to the
	// batch: a backend that keeps it copies (packs, encodes) it.
	Payload *alert.Logon
	Rule    int  // for a success: the rule it is a success of
	Table   int  // for a failure: its counter (the seed's sign-in table: 0 SigninLogs, 1 AADNonInteractiveUserSignInLogs)
	Logon   bool // a success (the seed's host logon)

	// Verdict is set by Apply: whether the event was current, late or from the future.
	Verdict window.Verdict
}

// Alert is one (logon, table) pair that fired.
type Alert = window.Alert[alert.Logon]

// Counters are cumulative; the processor reports their growth as telemetry.
type Counters struct {
	window.Stats
	Errors int64
}

// Backend keeps failed sign-ins, waiting logons and alert marks, and decides alerts.
type Backend interface {
	// Apply judges every event's time against the clock (wall and maxSkew in nanoseconds), takes
	// the current ones into the state, and appends the alerts they complete to out.
	Apply(ctx context.Context, wall, maxSkew int64, events []Event, out []Alert) ([]Alert, error)
	// Sizes reports the tracked IPs and the waiting logons.
	Sizes() (trackedIPs, pendingLogons int)
	// Counters returns the cumulative counters.
	Counters() Counters
	// Close releases the backend's resources.
	Close(ctx context.Context) error
}
