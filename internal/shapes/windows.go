package shapes

import (
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

// WindowsShape is how a Windows security event reaches the processor.
type WindowsShape uint8

const (
	// SecurityEventRow is a row of Sentinel's SecurityEvent table: attributes.
	SecurityEventRow WindowsShape = iota
	// WindowsEventRow is a row of Sentinel's WindowsEvent table, the event's fields in the dynamic
	// EventData column: attributes.
	WindowsEventRow
	// EventLog is the windowseventlog receiver's body, event_data as a map: a map body.
	EventLog
	// EventLogArray is the same with event_data_format: array (a list of one-key maps).
	EventLogArray
)

// Windows is one security event of a logon. The zero value is alice's successful network logon
// (4624, LogonType 3) to WS01.contoso.com from Addr at WindowsTime, as a SecurityEvent row.
type Windows struct {
	Shape WindowsShape
	// Place overrides where Fill writes the fields.
	Place Place
	// EventID is 4624 (zero, a successful logon) or 4625 (a failed one); others are written as given.
	EventID int
	// LogonType (zero: 3 in a SecurityEvent row, 10 in a WindowsEvent row, 7 from the receiver, one
	// of each counted type).
	LogonType int
	// Addr is IpAddress as written (zero: Addr); "-" is an event without a network source.
	Addr string
	// Computer is the host (zero: WindowsComputer).
	Computer string
	// User is TargetUserName (zero: User); one ending in $ is a machine account.
	User string
	// Domain is TargetDomainName (zero: Domain).
	Domain string
	// Channel is the receiver's channel: Security (zero) or ForwardedEvents (Windows Event
	// Forwarding, which Sentinel files under WindowsEvent).
	Channel string
	// Numbers writes a SecurityEvent row's EventID and LogonType as numbers, as typed exports and
	// OTLP senders do; by default they are text, as a CSV export has them.
	Numbers bool
	// EventDataJSON writes a WindowsEvent row's EventData as one JSON text, as some exports do.
	EventDataJSON bool
	// Time is when the event happened (zero: WindowsTime).
	Time time.Time
}

// LogonTypeNames are SecurityEvent's LogonTypeName values.
var LogonTypeNames = map[int]string{
	2: "2 - Interactive", 3: "3 - Network", 4: "4 - Batch", 5: "5 - Service", 7: "7 - Unlock",
	8: "8 - NetworkCleartext", 9: "9 - NewCredentials", 10: "10 - RemoteInteractive", 11: "11 - CachedInteractive",
}

func (w Windows) eventID() int {
	if w.EventID == 0 {
		return 4624
	}
	return w.EventID
}

func (w Windows) logonType() int {
	if w.LogonType != 0 {
		return w.LogonType
	}
	switch w.Shape {
	case WindowsEventRow:
		return 10
	case EventLog, EventLogArray:
		return 7
	default:
		return 3
	}
}

func (w Windows) addr() string     { return or(w.Addr, Addr) }
func (w Windows) computer() string { return or(w.Computer, WindowsComputer) }
func (w Windows) user() string     { return or(w.User, User) }
func (w Windows) domain() string   { return or(w.Domain, Domain) }
func (w Windows) when() time.Time  { return orTime(w.Time, WindowsTime).UTC() }

// Activity is SecurityEvent's Activity of the event.
func (w Windows) Activity() string {
	switch w.eventID() {
	case 4624:
		return "4624 - An account was successfully logged on."
	case 4625:
		return "4625 - An account failed to log on."
	default:
		return strconv.Itoa(w.eventID())
	}
}

// message is the event's text as the receiver renders it.
func (w Windows) message() string {
	if w.eventID() == 4625 {
		return "An account failed to log on."
	}
	return "An account was successfully logged on."
}

func (w Windows) logonProcess() string {
	switch w.logonType() {
	case 3:
		return "NtLmSsp "
	case 5:
		return "Advapi  "
	default:
		return "User32 "
	}
}

func (w Windows) ipPort() string {
	if w.addr() == "-" {
		return "-"
	}
	if w.logonType() == 3 {
		return "50123"
	}
	return "0"
}

func (w Windows) accountType() string {
	if strings.HasSuffix(w.user(), "$") {
		return "Machine"
	}
	return "User"
}

// ResourceID is the event's _ResourceId: the host's virtual machine.
func (w Windows) ResourceID() string {
	short, _, _ := strings.Cut(w.computer(), ".")
	return "/subscriptions/0000/resourcegroups/rg/providers/microsoft.compute/virtualmachines/" + strings.ToLower(short)
}

// eventData is the event's own fields, in the order Windows writes them.
func (w Windows) eventData() [][2]string {
	return [][2]string{
		{"SubjectUserSid", "S-1-0-0"},
		{"TargetUserSid", "S-1-5-21-1-2-3-1104"},
		{"TargetUserName", w.user()},
		{"TargetDomainName", w.domain()},
		{"LogonType", strconv.Itoa(w.logonType())},
		{"LogonProcessName", w.logonProcess()},
		{"IpAddress", w.addr()},
		{"IpPort", w.ipPort()},
	}
}

// Map returns the event's fields in its shape.
func (w Windows) Map() map[string]any {
	switch w.Shape {
	case WindowsEventRow:
		data := map[string]any{}
		for _, kv := range w.eventData() {
			data[kv[0]] = kv[1]
		}
		var eventData any = data
		if w.EventDataJSON {
			eventData = jsonText(data)
		}
		return map[string]any{
			"TimeGenerated": w.when().Format(time.RFC3339Nano),
			"Channel":       "Security",
			"Computer":      w.computer(),
			"EventID":       w.eventID(),
			"Provider":      "Microsoft-Windows-Security-Auditing",
			"Type":          "WindowsEvent",
			"EventData":     eventData,
		}
	case EventLog, EventLogArray:
		return w.eventLog()
	default:
		return w.securityEvent()
	}
}

func (w Windows) securityEvent() map[string]any {
	var eventID, logonType any = strconv.Itoa(w.eventID()), strconv.Itoa(w.logonType())
	if w.Numbers {
		eventID, logonType = w.eventID(), w.logonType()
	}
	m := map[string]any{
		"TimeGenerated":             w.when().Format(time.RFC3339Nano),
		"Account":                   w.domain() + `\` + w.user(),
		"AccountType":               w.accountType(),
		"Computer":                  w.computer(),
		"EventSourceName":           "Microsoft-Windows-Security-Auditing",
		"Channel":                   "Security",
		"EventID":                   eventID,
		"Activity":                  w.Activity(),
		"IpAddress":                 w.addr(),
		"IpPort":                    w.ipPort(),
		"LogonProcessName":          w.logonProcess(),
		"LogonType":                 logonType,
		"LogonTypeName":             LogonTypeNames[w.logonType()],
		"TargetUserSid":             "S-1-5-21-1-2-3-1104",
		"TargetUserName":            w.user(),
		"TargetDomainName":          w.domain(),
		"_ResourceId":               w.ResourceID(),
		"EventData":                 "",
		"Type":                      "SecurityEvent",
		"AuthenticationPackageName": "NTLM",
	}
	if w.logonType() != 3 {
		m["AuthenticationPackageName"] = "Negotiate"
	}
	if w.eventID() == 4625 {
		m["Status"], m["SubStatus"], m["FailureReason"] = "0xc000006d", "0xc000006a", "%%2313"
	}
	return m
}

func (w Windows) eventLog() map[string]any {
	var eventData map[string]any
	if w.Shape == EventLogArray {
		var elems []any
		for _, kv := range w.eventData() {
			elems = append(elems, map[string]any{kv[0]: kv[1]})
		}
		eventData = map[string]any{"data": elems}
	} else {
		eventData = map[string]any{}
		for _, kv := range w.eventData() {
			eventData[kv[0]] = kv[1]
		}
	}
	keyword := "Audit Success"
	if w.eventID() == 4625 {
		keyword = "Audit Failure"
	}
	return map[string]any{
		"channel":     or(w.Channel, "Security"),
		"computer":    w.computer(),
		"event_id":    map[string]any{"id": w.eventID(), "qualifiers": 0},
		"keywords":    []any{keyword},
		"level":       "Information",
		"message":     w.message(),
		"opcode":      "Info",
		"provider":    map[string]any{"name": "Microsoft-Windows-Security-Auditing", "guid": "{54849625-5478-4994-a5ba-3e3b0328c30d}", "event_source": ""},
		"record_id":   12345,
		"system_time": w.when().Format("2006-01-02T15:04:05.0000000Z"),
		"task":        "Logon",
		"event_data":  eventData,
	}
}

// Fill writes the event into lr: attributes for the Sentinel rows, a map body for the receiver's
// shapes (see Place).
func (w Windows) Fill(lr plog.LogRecord) {
	natural := InAttributes
	if w.Shape == EventLog || w.Shape == EventLogArray {
		natural = InMapBody
	}
	fill(lr, w.Map(), w.Place, natural)
}

// Line is the event as one JSON text: a line of an export file.
func (w Windows) Line() string { return jsonText(w.Map()) }
