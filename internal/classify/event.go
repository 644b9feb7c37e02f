// Package classify recognises the input shapes the processor accepts in a plog.LogRecord and turns a
// matching record into an Observation: its kind (see Kind: "a failed sign-in of
// SigninLogs", "a logon to a Linux host", ...), its source address, event time and the fields an
// alert may project. Each classifier file declares the kinds it yields; the parts of the classifier
// that only other rules than the seed use (failed host logons, successful sign-ins, AWS console
// logins) run only when Rules.Kinds asks for one of their kinds.
//
// One pass over the attributes (and over a map body) looks for the few keys that tell the shapes
// apart; only a recognised shape has its other fields read. Fields may sit in the attributes or in
// a map body (attributes win), and numbers may be strings, ints or doubles.
//
//	Type = SigninLogs | AADNonInteractiveUserSignInLogs   Sentinel sign-in
//	azure.category | category = SignInLogs | NonInteractiveUserSignInLogs
//	                                      diagnostic settings, azure_event_hub (azure format or
//	                                      semantic conventions), azure_encoding
//	string body "{…"category"…SignInLogs…}"  diagnostic-settings JSON, decoded
//	Type = Syslog                         Sentinel Syslog
//	appname + message                     syslog receiver (RFC 3164 or 5424)
//	MESSAGE                               journald receiver
//	string body "<PRI>…"                  raw syslog line; without PRI only from auth.log* / secure*
//	                                      (log.file.name)
//	Type = SecurityEvent | WindowsEvent   Sentinel Windows tables
//	event_id + channel                    windowseventlog receiver
//
// Everything else is Unrelated, and costs one pass over the attribute keys (most dismissed by
// their length alone) and a look at the body's first byte; it allocates nothing.
package classify

import "net/netip"

// Reasons a recognised record is Rejected (Observation.Reject), besides those a classifier file declares
// for its own records.
var (
	// RejectMissingAddress: a sign-in with no address field at all.
	RejectMissingAddress = declareReject("missing_address")
	// RejectBadAddress: an address field that is empty, not a string, or not an IP address.
	RejectBadAddress = declareReject("bad_address")
	// RejectMissingResultType: a sign-in with no ResultType (nor status.errorCode), or an empty one.
	RejectMissingResultType = declareReject("missing_result_type")
	// RejectBadResultType: a ResultType that is neither a string nor a number.
	RejectBadResultType = declareReject("bad_result_type")
	// RejectBadLogonType: a 4624 whose LogonType is not a whole number.
	RejectBadLogonType = declareReject("bad_logon_type")
	// RejectBadWrapper: a wrapper that is not valid JSON, or whose records are not an array.
	RejectBadWrapper = declareReject("bad_wrapper")
	// RejectBadWrappedRecord: an element of a wrapper that is not an object, or has no category.
	RejectBadWrappedRecord = declareReject("bad_wrapped_record")
	// RejectWrapperTooLarge: a wrapper of more than MaxWrapperBytes of text, or the elements of a
	// map wrapper past the first MaxWrapperRecords (one rejection for all of them).
	RejectWrapperTooLarge = declareReject("wrapper_too_large")
)

// Observation is what Classify found in one record: the kind, the source address, the event time,
// how many occurrences it stands for, and the kind's columns (see KindSpec.Columns). The strings
// alias the record's own values (no copies). Every Classify call sets Kind; the other fields
// describe the record only when Kind is not Unrelated (an unrelated record leaves them as they were,
// to keep the hot path short).
type Observation struct {
	Kind   Kind
	Reject string // for Kind Rejected: a short snake_case reason ("bad_address", "bad_type", ...)

	// Addr is the source address, parsed and normalised (IPv4-mapped IPv6 unmapped, zone dropped).
	Addr netip.Addr
	// Time is the event time in Unix nanoseconds found in the record's schema fields (TimeGenerated,
	// time, createdDateTime, ...), or 0 when the record carries none. It is not read from records
	// that have a LogRecord Timestamp, which the caller prefers (and it falls back to ObservedTimestamp).
	Time int64
	// InWrapper is set on what Unwrap yields for each element of a wrapper: a record there has its
	// own time, which comes before the LogRecord Timestamp of the message that carried them all.
	InWrapper bool
	// Repeat is how many occurrences the observation stands for when a record folds several into
	// one: N for a syslog daemon's "message repeated N times: [ … ]", else 1 for a failed host
	// logon and 0 (one) for every other kind.
	Repeat int

	// Cols are the values of the kind's columns, in the order its declaration lists them; the
	// columns past those are "".
	Cols Columns

	// d is the classifier's while it reads a record, and zero when it is done: the discriminator
	// keys it found. It lives here, in the caller's Observation, because the functions the files
	// declare their shapes with are called through function values, which would move a local of
	// Classify to the heap, once per record.
	d discriminators
}

// MaxColumns bounds the columns of a kind.
const MaxColumns = 20

// Columns are the values of an observation's columns: what an alert may project, and what a
// waiting success keeps (internal/alert encodes them, whatever the kind).
type Columns [MaxColumns]string
