// Package alert builds the rule's alert record from a logon and the failed sign-ins that
// incriminate it, and keeps the waiting payloads: host logons, and for the second rule successful
// sign-ins (or failed host logons).
package alert

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
)

// maxFieldLen bounds each string a waiting logon keeps, so a hostile 1 MiB message cannot make a
// pending logon expensive; longer values are cut and marked.
const maxFieldLen = 2048

// Logon is a host logon as the alert needs it: the recognised fields, its event time, and the
// resource it came with. It outlives the batch it came in, so it owns its data. It carries a
// successful sign-in or a failed host logon (of any kind) the
// same way, when one is what waits.
type Logon struct {
	classify.Event
	Time     int64
	Resource pcommon.Resource // a copy owned by the logon (shared by logons of one batch resource)
}

// NewLogon returns the logon Set makes.
func NewLogon(ev *classify.Event, t int64, res pcommon.Resource) Logon {
	var l Logon
	l.Set(ev, t, res)
	return l
}

// Set makes l the logon ev at time t, from resource res, to keep for as long as it may wait. Strings
// of the record are immutable and can be kept as they are; only the over-long ones are cut (and
// so copied). It works in place: a Logon is some 400 bytes, too many to copy around per record.
func (l *Logon) Set(ev *classify.Event, t int64, res pcommon.Resource) {
	l.Event, l.Time, l.Resource = *ev, t, res
	for _, s := range l.fields() {
		bound(s)
	}
	for _, s := range l.signInFields() {
		bound(s)
	}
	for _, s := range l.consoleFields() {
		bound(s)
	}
}

// bound cuts a string longer than maxFieldLen, and marks it cut. It is small enough to be inlined:
// Set calls it for every field of every waiting logon, and almost none is cut.
func bound(s *string) {
	if len(*s) > maxFieldLen {
		*s = cut(*s)
	}
}

// cut is s cut to maxFieldLen bytes of valid UTF-8, marked cut.
func cut(s string) string {
	return strings.ToValidUTF8(strings.Clone(s[:maxFieldLen]), "") + "…"
}

// fields lists the strings a logon keeps, for bounding and serialising them.
func (l *Logon) fields() []*string {
	e := &l.Event
	return []*string{
		&e.Computer, &e.HostIP, &e.SyslogMessage, &e.Facility, &e.ProcessName,
		&e.Account, &e.AccountType, &e.Activity, &e.EventID, &e.LogonProcessName, &e.LogonType,
		&e.LogonTypeName, &e.TargetUserSid, &e.TargetUserName, &e.TargetDomainName, &e.ResourceID,
		&e.User, &e.Reject, &e.ResultType, &e.LogonUser,
	}
}

// signInFields lists the strings only a successful sign-in has, which the encoding of a logon
// (format 1) leaves out.
func (l *Logon) signInFields() []*string {
	e := &l.Event
	return []*string{&e.AppDisplayName, &e.UserDisplayName, &e.ClientAppUsed, &e.Location}
}

// consoleFields lists the strings only an AWS console login has, which format 2 encodes after
// signInFields for a console login alone.
func (l *Logon) consoleFields() []*string {
	e := &l.Event
	return []*string{&e.LoginResult, &e.EventTypeName, &e.UserIdentityType, &e.UserIdentityUserName,
		&e.AWSRegion, &e.UserAgent, &e.MFAUsed}
}

// console reports whether the logon is an AWS console login.
func (l *Logon) console() bool {
	n, _ := format2Number(l.Kind)
	return n == format2ConsoleLogin
}
