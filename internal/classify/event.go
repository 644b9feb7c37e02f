// Package classify recognises the input shapes the processor accepts in a plog.LogRecord and turns a
// matching record into an observation (an Event): its kind (see Kind: "a failed sign-in of
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

// Reasons a recognised record is Rejected (Event.Reject), besides those a classifier file declares
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

// Table is the sign-in table a failure belongs to.
type Table uint8

const (
	// SigninLogs is the interactive sign-in table (Azure category SignInLogs).
	SigninLogs Table = iota
	// AADNonInteractiveUserSignInLogs is the non-interactive table (category NonInteractiveUserSignInLogs).
	AADNonInteractiveUserSignInLogs
)

// String returns the Sentinel table name.
func (t Table) String() string {
	if t == AADNonInteractiveUserSignInLogs {
		return "AADNonInteractiveUserSignInLogs"
	}
	return "SigninLogs"
}

// LogonSource is the Sentinel table a logon (or a failed logon) would live in.
type LogonSource uint8

const (
	// Syslog logons come from sshd (or another auth-facility program).
	Syslog LogonSource = iota
	// SecurityEvent logons are Windows events in the SecurityEvent shape or from the windowseventlog
	// receiver (all its 4624s; its 4625s but those of the ForwardedEvents channel).
	SecurityEvent
	// WindowsEvent logons are Windows events in Sentinel's WindowsEvent shape, and 4625s the
	// windowseventlog receiver read from the ForwardedEvents channel (where the Windows Event
	// Forwarding connector, whose table is WindowsEvent, reads them).
	WindowsEvent
)

// String returns the Sentinel table name.
func (s LogonSource) String() string {
	switch s {
	case SecurityEvent:
		return "SecurityEvent"
	case WindowsEvent:
		return "WindowsEvent"
	}
	return "Syslog"
}

// Event is what Classify found in one record. The strings alias the record's own values (no copies).
// Every Classify call sets Kind; the other fields describe the record only when Kind is not
// Unrelated (an unrelated record leaves them as they were, to keep the hot path short).
type Event struct {
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

	// Sign-ins.
	Table      Table
	ResultType string
	User       string // UserPrincipalName

	// Sign-in columns an alert on a successful sign-in projects, read only with
	// the part signinSuccesses (and then for every sign-in); "" when the shape does not carry them.
	AppDisplayName  string
	UserDisplayName string
	ClientAppUsed   string
	// Location is the country or region code: Sentinel's Location, the diagnostic record's location,
	// properties.location.countryOrRegion, or the azure_event_hub receiver's cloud.region.
	Location string

	// Logons (both families) and failed logons.
	Source LogonSource
	// Repeat is how many failed logons a failed host logon stands for: 1, or N for a syslog daemon's
	// "message repeated N times: [ … ]", which folds N identical lines into one. 0 for other kinds.
	Repeat   int
	Computer string // host logged on to: Sentinel Computer, syslog hostname, journald _HOSTNAME, Windows computer
	// LogonUser is the account that logged on (or, for a failed logon, tried to): the <user> of the
	// sshd grammar (empty when the message does not follow it), or TargetUserName for Windows.
	LogonUser string

	// Linux logons and failed logons.
	HostIP        string
	SyslogMessage string
	Facility      string // facility name: "auth" or "authpriv"
	ProcessName   string

	// Windows logons and failed logons.
	Account     string
	AccountType string // as given; the alert derives Machine/User when empty
	// Activity is SecurityEvent's own column; for the other shapes "4624 - An account was
	// successfully logged on." (or "4625 - An account failed to log on." for a failed logon).
	Activity         string
	EventID          string // "4624", or "4625" for a failed logon (the alert writes it as an int, the KQL column's type)
	LogonProcessName string
	LogonType        string // "10", "7" or "3"
	LogonTypeName    string
	TargetUserSid    string
	TargetUserName   string
	TargetDomainName string
	ResourceID       string // _ResourceId

	// AWS console logins, as Sentinel's AWSCloudTrail columns name them.
	LoginResult          string // responseElements.ConsoleLogin as given ("Success", "Failure")
	EventTypeName        string // eventType ("AwsConsoleSignIn")
	UserIdentityType     string // userIdentity.type ("IAMUser", "Root", "AssumedRole", ...)
	UserIdentityUserName string // userIdentity.userName
	AWSRegion            string
	UserAgent            string
	MFAUsed              string // additionalEventData.MFAUsed ("Yes", "No")
}
