package classify

import (
	"encoding/json"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// The kinds of Windows logons and failed logons, by the Sentinel table they count in: a 4624 with a
// counted LogonType and an address, and with the part hostFailures a 4625 with the same.
var (
	// SecurityEventLogon is a 4624 of SecurityEvent or of the windowseventlog receiver.
	SecurityEventLogon = Declare(KindSpec{Name: "windows_logon", Source: "SecurityEvent", Columns: hostColumns, Host: "Computer",
		Format1: true, Format1Code: byte(SecurityEvent)})
	// WindowsEventLogon is a 4624 of Sentinel's WindowsEvent table.
	WindowsEventLogon = Declare(KindSpec{Name: "windows_logon", Source: "WindowsEvent", Columns: hostColumns, Host: "Computer",
		Format1: true, Format1Code: byte(WindowsEvent)})
	// FailedSecurityEventLogon is a 4625 of SecurityEvent, or one the windowseventlog receiver read
	// from any channel but ForwardedEvents.
	FailedSecurityEventLogon = Declare(KindSpec{Name: "host_failure", Source: "SecurityEvent", Columns: hostColumns, Host: "Computer"})
	// FailedWindowsEventLogon is a 4625 of WindowsEvent, or one the windowseventlog receiver read
	// from the ForwardedEvents channel.
	FailedWindowsEventLogon = Declare(KindSpec{Name: "host_failure", Source: "WindowsEvent", Columns: hostColumns, Host: "Computer"})
)

// The shapes of a Windows event: a row of Sentinel's SecurityEvent or WindowsEvent table, and the
// windowseventlog receiver's record (event_id and channel in a map body).
var (
	keyEventID  = declareKey("EventID", always) // to drop other events before reading more
	keyEventLog = declareAlias("event_id", keyEventID, always)
	keyChannel  = declareFlag("channel", always)
)

func init() {
	declareTable(tableDecl{name: "SecurityEvent", part: always, classify: func(c *Classifier, in input, ev *Observation) {
		if c.mayBeLogon(ev.d.value(keyEventID)) {
			c.windows(&in, shapeSecurityEvent, ev)
		}
	}})
	declareTable(tableDecl{name: "WindowsEvent", part: always, classify: func(c *Classifier, in input, ev *Observation) {
		if c.mayBeLogon(ev.d.value(keyEventID)) {
			c.windows(&in, shapeWindowsEvent, ev)
		}
	}})
	declareShape(shapeDecl{order: 60, part: always, all: []key{keyEventLog, keyChannel},
		classify: func(c *Classifier, in input, ev *Observation) bool {
			if c.mayBeLogon(ev.d.value(keyEventID)) {
				c.windows(&in, shapeEventLog, ev)
			}
			return true
		}})
}

// windowsLogons and windowsFailures are the kinds of each source's logons and failed logons.
var (
	windowsLogons   = [...]Kind{SecurityEvent: SecurityEventLogon, WindowsEvent: WindowsEventLogon}
	windowsFailures = [...]Kind{SecurityEvent: FailedSecurityEventLogon, WindowsEvent: FailedWindowsEventLogon}
)

// eventSuccessfulLogon is Windows Security event 4624, "An account was successfully logged on".
const eventSuccessfulLogon = 4624

// eventFailedLogon is Windows Security event 4625, "An account failed to log on": a failed logon
// with the part hostFailures.
const eventFailedLogon = 4625

// activitySuccessfulLogon is the Activity of a 4624 as SecurityEvent rows carry it. The KQL gives it
// to every WindowsEvent 4624, which has no such column; so do we, and to the windowseventlog
// receiver's, which has none either.
const activitySuccessfulLogon = "4624 - An account was successfully logged on."

// activityFailedLogon is the Activity of a 4625 as SecurityEvent rows carry it, given to the 4625s
// of the other shapes the same way.
const activityFailedLogon = "4625 - An account failed to log on."

// windowsShape is which of the three Windows shapes a record is.
type windowsShape uint8

const (
	shapeSecurityEvent windowsShape = iota // Sentinel SecurityEvent
	shapeWindowsEvent                      // Sentinel WindowsEvent
	shapeEventLog                          // windowseventlog receiver
)

// eventNumber reads an EventID given as a number, a number in text, or the windowseventlog
// receiver's event_id{id, qualifiers}.
func eventNumber(f field) (int64, bool) {
	if m, ok := f.asMap(); ok {
		v, ok := m.Get("id")
		if !ok {
			return 0, false
		}
		f = field{v}
	}
	return f.integer()
}

// mayBeLogon is the early test on an EventID found among the discriminators: false when it is there
// and is not 4624 (nor, with the part hostFailures, 4625), so that the other fields of the many other
// events are never read.
func (c *Classifier) mayBeLogon(eventID field) bool {
	if !eventID.ok() {
		return true
	}
	n, ok := eventNumber(eventID)
	return ok && (n == eventSuccessfulLogon || (c.runs(hostFailures) && n == eventFailedLogon))
}

// windowsFields are the fields of the three Windows shapes, found in one pass:
//
//   - Sentinel SecurityEvent: EventID, LogonType, IpAddress and the projected columns at top level
//   - Sentinel WindowsEvent: EventID, Computer, and EventData{LogonType, IpAddress, Target…}
//   - windowseventlog receiver (body): event_id{id}, computer, system_time, and event_data either a
//     flat map ({LogonType: "3"}) or {data: [{LogonType: "3"}, …]} (event_data_format: array)
type windowsFields struct {
	eventID, logonType, ipAddress                                            field
	account, accountType, computer, activity, logonProcessName               field
	logonTypeName, targetUserSid, targetUserName, targetDomainName, resource field
	time, eventData, channel                                                 field
}

func (w *windowsFields) take(k string, v pcommon.Value) {
	switch k {
	case "EventID", "event_id":
		w.eventID.set(v)
	case "Computer", "computer":
		w.computer.set(v)
	case "channel": // the windowseventlog receiver's
		w.channel.set(v)
	case "TimeGenerated", "system_time":
		w.time.set(v)
	case "EventData", "event_data":
		w.eventData.set(v)
	case "Account":
		w.account.set(v)
	case "AccountType":
		w.accountType.set(v)
	case "Activity":
		w.activity.set(v)
	case "LogonTypeName":
		w.logonTypeName.set(v)
	case "_ResourceId":
		w.resource.set(v)
	default:
		w.takeEventData(k, v)
	}
}

// takeEventData takes the fields that SecurityEvent has at top level and the others in event data.
func (w *windowsFields) takeEventData(k string, v pcommon.Value) {
	switch k {
	case "LogonType":
		w.logonType.set(v)
	case "IpAddress":
		w.ipAddress.set(v)
	case "LogonProcessName":
		w.logonProcessName.set(v)
	case "TargetUserSid":
		w.targetUserSid.set(v)
	case "TargetUserName":
		w.targetUserName.set(v)
	case "TargetDomainName":
		w.targetDomainName.set(v)
	}
}

// eventDataMap reads event data given as a map: flat, or with a "data" array of one-key maps.
func (w *windowsFields) eventDataMap(m pcommon.Map) {
	for k, v := range m.All() {
		if k != "data" {
			w.takeEventData(k, v)
			continue
		}
		if v.Type() != pcommon.ValueTypeSlice {
			continue
		}
		for _, elem := range v.Slice().All() {
			if elem.Type() != pcommon.ValueTypeMap {
				continue
			}
			for dk, dv := range elem.Map().All() {
				w.takeEventData(dk, dv)
			}
		}
	}
}

// windowsEventData is the part of a WindowsEvent EventData column replayed as JSON text.
type windowsEventData struct {
	LogonType        jsonScalar `json:"LogonType"`
	IPAddress        jsonScalar `json:"IpAddress"`
	LogonProcessName string     `json:"LogonProcessName"`
	TargetUserSid    string     `json:"TargetUserSid"`
	TargetUserName   string     `json:"TargetUserName"`
	TargetDomainName string     `json:"TargetDomainName"`
}

// windowsLogon is what every Windows shape yields before the rule's tests.
type windowsLogon struct {
	logonTypeState valueState
	logonTypeNum   int64
	ip             string
	ipState        valueState
	logonProcess   string
	targetSid      string
	targetUser     string
	targetDomain   string
}

// windows classifies a record recognised as a Windows event of the given shape: a 4624, or with
// the part hostFailures a 4625, which goes through the same tests (counted LogonType, an address).
func (c *Classifier) windows(in *input, shape windowsShape, ev *Observation) {
	src := SecurityEvent // the receiver's events are SecurityEvent's
	if shape == shapeWindowsEvent {
		src = WindowsEvent
	}
	var w windowsFields
	in.each(w.take)

	n, ok := eventNumber(w.eventID)
	failure := ok && n == eventFailedLogon && c.runs(hostFailures)
	if !ok || (n != eventSuccessfulLogon && !failure) {
		return
	}

	var l windowsLogon
	if m, ok := w.eventData.asMap(); ok {
		w.eventDataMap(m)
	}
	if s, ok := w.eventData.str(); ok && src == WindowsEvent && strings.HasPrefix(strings.TrimSpace(s), "{") {
		l = windowsEventDataJSON(s)
	} else {
		l = windowsLogon{
			logonProcess: w.logonProcessName.text(),
			targetSid:    w.targetUserSid.text(),
			targetUser:   w.targetUserName.text(),
			targetDomain: w.targetDomainName.text(),
		}
		if w.logonType.ok() {
			l.logonTypeState = valueBad
			if n, ok := integer(w.logonType.v); ok {
				l.logonTypeState, l.logonTypeNum = valueOK, n
			}
		}
		if w.ipAddress.ok() {
			l.ipState = valueBad
			if s, ok := w.ipAddress.str(); ok {
				l.ip, l.ipState = s, valueOK
			}
		}
	}

	name, counted := c.logonTypeName(l)
	switch {
	case l.logonTypeState == valueMissing:
		return
	case l.logonTypeState == valueBad:
		ev.Kind, ev.Reject = Rejected, RejectBadLogonType
		return
	case !counted:
		return
	}

	ip := strings.TrimSpace(l.ip)
	switch {
	case l.ipState == valueMissing || (l.ipState == valueOK && (ip == "" || ip == "-")):
		return // no network source: a local logon
	case l.ipState == valueBad:
		ev.Kind, ev.Reject = Rejected, RejectBadAddress
		return
	}
	addr, ok := ParseAddr(ip)
	if !ok {
		ev.Kind, ev.Reject = Rejected, RejectBadAddress
		return
	}
	if c.excludedAddr(addr) {
		return
	}
	kind, eventID, activity, repeat := windowsLogons[src], "4624", activitySuccessfulLogon, 0
	if failure {
		if shape == shapeEventLog && forwardedChannel(w.channel) {
			src = WindowsEvent
		}
		kind, eventID, activity, repeat = windowsFailures[src], "4625", activityFailedLogon, 1
	}
	if shape == shapeSecurityEvent {
		activity = w.activity.text() // the row's own column
	}
	// ev was reset by Classify: only the columns a Windows logon has are written (building a whole
	// Observation to copy in would cost more).
	ev.Kind, ev.Addr, ev.Time, ev.Repeat = kind, addr, in.time(w.time), repeat
	cols := &ev.Cols
	cols[HostComputer], cols[HostLogonUser] = w.computer.text(), l.targetUser
	cols[HostAccount], cols[HostAccountType], cols[HostActivity], cols[HostEventID] = w.account.text(), w.accountType.text(), activity, eventID
	cols[HostLogonProcessName], cols[HostLogonType], cols[HostLogonTypeName] = l.logonProcess, name, w.logonTypeName.text()
	cols[HostTargetUserSid], cols[HostTargetUserName], cols[HostTargetDomainName] = l.targetSid, l.targetUser, l.targetDomain
	cols[HostResourceID] = w.resource.text()
}

// forwardedChannel reports whether a windowseventlog receiver's channel is ForwardedEvents, the log
// Windows Event Forwarding collects into: Sentinel reads that one into WindowsEvent, and the second
// rule counts its 4625s apart from SecurityEvent's.
func forwardedChannel(channel field) bool {
	s, ok := channel.str()
	return ok && strings.EqualFold(strings.TrimSpace(s), "ForwardedEvents")
}

// logonTypeName returns the canonical name of a counted logon type.
func (c *Classifier) logonTypeName(l windowsLogon) (string, bool) {
	if l.logonTypeState != valueOK {
		return "", false
	}
	for i, t := range c.logonTypes {
		if t == l.logonTypeNum {
			return c.logonTypeNames[i], true
		}
	}
	return "", false
}

// windowsEventDataJSON reads a WindowsEvent EventData column that arrives as JSON text.
func windowsEventDataJSON(s string) windowsLogon {
	var d windowsEventData
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		if _, typeErr := err.(*json.UnmarshalTypeError); !typeErr {
			return windowsLogon{}
		}
	}
	l := windowsLogon{
		logonProcess:   d.LogonProcessName,
		targetSid:      d.TargetUserSid,
		targetUser:     d.TargetUserName,
		targetDomain:   d.TargetDomainName,
		logonTypeState: d.LogonType.state(),
		ip:             d.IPAddress.s,
		ipState:        d.IPAddress.state(),
	}
	if l.logonTypeState == valueOK {
		n, ok := parseInteger(strings.TrimSpace(d.LogonType.s))
		if !ok {
			l.logonTypeState = valueBad
		}
		l.logonTypeNum = n
	}
	return l
}
