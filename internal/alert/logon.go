// Package alert builds a rule's alert record from the success that fired it and the failures that
// incriminate it, and keeps waiting successes (payloads): what a success of any kind keeps while it
// waits for failures, encoded alike for every kind from the columns its classifier file declares.
package alert

import (
	"net/netip"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
)

// maxFieldLen bounds each string a waiting success keeps, so a hostile 1 MiB message cannot make a
// pending logon expensive; longer values are cut and marked.
const maxFieldLen = 2048

// Logon is a success as the alert needs it: its kind, its address, the columns of its kind, its
// event time, and the resource it came with. It outlives the batch it came in, so it owns its
// data. (The name is the seed's, whose successes are host logons; a Logon holds a success of any
// kind.)
type Logon struct {
	Kind classify.Kind
	Addr netip.Addr
	Time int64 // event time, Unix nanoseconds
	// Cols are the values of the kind's columns; the ones past them are "".
	Cols     classify.Columns
	Resource pcommon.Resource // a copy owned by the logon (shared by logons of one batch resource)
}

// NewLogon returns the logon Set makes.
func NewLogon(ev *classify.Observation, t int64, res pcommon.Resource) Logon {
	var l Logon
	l.Set(ev, t, res)
	return l
}

// Set makes l the success ev at time t, from resource res, to keep for as long as it may wait.
// Strings of the record are immutable and can be kept as they are; only the over-long ones are cut
// (and so copied). It works in place: a Logon is some 370 bytes, too many to copy around per record.
func (l *Logon) Set(ev *classify.Observation, t int64, res pcommon.Resource) {
	l.Kind, l.Addr, l.Time, l.Resource = ev.Kind, ev.Addr, t, res
	n := l.columns()
	copy(l.Cols[:n], ev.Cols[:n])
	clear(l.Cols[n:])
	for i := range l.Cols[:n] {
		bound(&l.Cols[i])
	}
}

// columns is how many columns the logon's kind has.
func (l *Logon) columns() int { return min(len(l.Kind.Columns()), classify.MaxColumns) }

// Host is the value of the kind's host column ("" for a kind without one): what the engine files
// a waiting success under besides its address, and what suppression tells alerts apart by.
func (l *Logon) Host() string {
	if h := l.Kind.Host(); h >= 0 {
		return l.Cols[h]
	}
	return ""
}

// bound cuts a string longer than maxFieldLen, and marks it cut. It is small enough to be inlined:
// Set calls it for every column of every waiting success, and almost none is cut.
func bound(s *string) {
	if len(*s) > maxFieldLen {
		*s = cut(*s)
	}
}

// cut is s cut to maxFieldLen bytes of valid UTF-8, marked cut.
func cut(s string) string {
	return strings.ToValidUTF8(strings.Clone(s[:maxFieldLen]), "") + "…"
}
