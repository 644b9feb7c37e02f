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
	// Domain is TargetDomainName (zero: Domain); "-" is none, as a failed logon of a name typed
	// without one has it (Account \name).
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
	// Detail is what a SecurityEvent export carries beyond what the rules read.
	Detail WindowsDetail
}

// WindowsDetail is the rest of a SecurityEvent row: ids and the logon's own values. Empty fields
// take fixed values.
type WindowsDetail struct {
	// TenantID is the workspace's tenant (zero: TenantID).
	TenantID string
	// ResourceID is _ResourceId (zero: the host's virtual machine in a fixed subscription).
	ResourceID string
	// TargetUserSid is the account's SID (zero: a fixed domain user's; S-1-0-0 for a 4625).
	TargetUserSid string
	// TargetLogonID is the session the logon made (zero: 0x3e8a1).
	TargetLogonID string
	// LogonGUID is the Kerberos logon's GUID (zero: the null GUID).
	LogonGUID string
	// IpPort is the source port (zero: 50123; 0 for a logon without a network source).
	IpPort string
	// Workstation is the client's name (zero: -).
	Workstation string
	// SubjectLogonID is a 4672's session (zero: 0x3e8a1).
	SubjectLogonID string
	// PrivilegeList is a 4672's privileges.
	PrivilegeList string
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
func (w Windows) domain() string {
	if w.Domain == "-" {
		return ""
	}
	return or(w.Domain, Domain)
}
func (w Windows) when() time.Time { return orTime(w.Time, WindowsTime).UTC() }

// Activity is SecurityEvent's Activity of the event.
func (w Windows) Activity() string {
	switch w.eventID() {
	case 4624:
		return "4624 - An account was successfully logged on."
	case 4625:
		return "4625 - An account failed to log on."
	case 4634:
		return "4634 - An account was logged off."
	case 4672:
		return "4672 - Special privileges assigned to new logon."
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
	return or(w.Detail.ResourceID, "/subscriptions/0000/resourcegroups/rg/providers/microsoft.compute/virtualmachines/"+strings.ToLower(w.shortName()))
}

// shortName is the computer's name without its domain.
func (w Windows) shortName() string {
	short, _, _ := strings.Cut(w.computer(), ".")
	return short
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

// securityEvent is the row as a map: the SecurityEventRecord's JSON as a parser hands it on, with
// EventID and LogonType as text unless Numbers.
func (w Windows) securityEvent() map[string]any {
	m := decodeJSON(jsonValue(w.SecurityEventRecord()))
	if !w.Numbers {
		m["EventID"] = strconv.Itoa(w.eventID())
		if _, ok := m["LogonType"]; ok {
			m["LogonType"] = strconv.Itoa(w.logonType())
		}
	}
	return m
}

// SecurityEventRecord is the event as a row of Sentinel's SecurityEvent table, its columns in the
// order a Log Analytics export writes them. It knows 4624 (a logon), 4625 (a failed one), 4634 (a
// logoff) and 4672 (special privileges of a new logon).
func (w Windows) SecurityEventRecord() SecurityEventRecord {
	d := w.Detail
	e := SecurityEventRecord{
		TenantID:          or(d.TenantID, TenantID),
		TimeGenerated:     w.when().Format("2006-01-02T15:04:05.000Z"),
		SourceSystem:      "OpsManager",
		Computer:          w.computer(),
		EventSourceName:   "Microsoft-Windows-Security-Auditing",
		Channel:           "Security",
		Task:              12544,
		Level:             "8",
		EventID:           w.eventID(),
		Activity:          w.Activity(),
		SubjectDomainName: "-",
		SubjectLogonID:    "0x0",
		SubjectUserName:   "-",
		SubjectUserSid:    "S-1-0-0",
		ResourceID:        w.ResourceID(),
		Type:              "SecurityEvent",
	}
	lt, keyLength := w.logonType(), 0
	domain, sid, accountType := w.domain(), or(d.TargetUserSid, "S-1-5-21-1-2-3-1104"), w.accountType()
	targetLogon := or(d.TargetLogonID, "0x3e8a1")
	switch w.eventID() {
	case 4624:
		if lt == 5 {
			domain, sid, accountType = "NT AUTHORITY", "S-1-5-18", "Machine" // services run as SYSTEM
		}
		e.Account, e.AccountType = domain+`\`+w.user(), accountType
		e.LogonType, e.LogonTypeName = &lt, LogonTypeNames[lt]
		e.IpAddress, e.IpPort = w.addr(), "0"
		if w.addr() != "-" && w.addr() != "127.0.0.1" {
			e.IpPort = or(d.IpPort, "50123")
		}
		e.KeyLength = &keyLength
		e.LogonGUID = or(d.LogonGUID, "{00000000-0000-0000-0000-000000000000}")
		e.ImpersonationLevel, e.ElevatedToken, e.VirtualAccount = "%%1833", "%%1842", "%%1843"
		e.ProcessID, e.ProcessName = "0x0", "-"
		e.AuthenticationPackageName, e.LogonProcessName, e.LmPackageName = "Negotiate", w.logonProcess(), "-"
		machine := strings.ToUpper(w.shortName()) + "$"
		switch lt {
		case 3:
			e.AuthenticationPackageName, e.LmPackageName = "NTLM", "NTLM V2"
		case 10, 2, 7:
			e.ProcessID, e.ProcessName = "0x1a4c", `C:\Windows\System32\svchost.exe`
			e.SubjectDomainName, e.SubjectUserName, e.SubjectUserSid, e.SubjectLogonID = Domain, machine, "S-1-5-18", "0x3e7"
		case 5:
			e.ProcessID, e.ProcessName = "0x2b8", `C:\Windows\System32\services.exe`
			e.SubjectDomainName, e.SubjectUserName, e.SubjectUserSid, e.SubjectLogonID = Domain, machine, "S-1-5-18", "0x3e7"
		}
		e.TargetDomainName, e.TargetUserName, e.TargetUserSid = domain, w.user(), sid
		e.TargetLogonID = targetLogon
		e.WorkstationName = or(d.Workstation, "-")
	case 4625:
		e.Level = "16"
		e.Account, e.AccountType = domain+`\`+w.user(), "User"
		e.LogonType, e.LogonTypeName = &lt, LogonTypeNames[lt]
		e.IpAddress, e.IpPort = w.addr(), or(d.IpPort, "50123")
		e.KeyLength = &keyLength
		e.AuthenticationPackageName, e.LogonProcessName, e.LmPackageName = "NTLM", "NtLmSsp ", "-"
		e.ProcessID, e.ProcessName = "0x0", "-"
		e.Status, e.SubStatus, e.FailureReason = "0xc000006d", "0xc000006a", "%%2313"
		e.TargetDomainName, e.TargetUserName, e.TargetUserSid = domain, w.user(), or(d.TargetUserSid, "S-1-0-0")
		e.WorkstationName = or(d.Workstation, "-")
	case 4634:
		e.Task = 12545
		e.Account, e.AccountType = domain+`\`+w.user(), "User"
		e.LogonType, e.LogonTypeName = &lt, LogonTypeNames[lt]
		e.TargetDomainName, e.TargetUserName, e.TargetUserSid = domain, w.user(), sid
		e.TargetLogonID = targetLogon
	case 4672:
		e.Task = 12548
		e.Account, e.AccountType = domain+`\`+w.user(), "User"
		e.PrivilegeList = d.PrivilegeList
		e.SubjectDomainName, e.SubjectUserName, e.SubjectUserSid = domain, w.user(), sid
		e.SubjectLogonID = or(d.SubjectLogonID, "0x3e8a1")
	}
	return e
}

// SecurityEventRecord is a row of Sentinel's SecurityEvent table.
type SecurityEventRecord struct {
	TenantID                  string `json:"TenantId"`
	TimeGenerated             string `json:"TimeGenerated"`
	SourceSystem              string `json:"SourceSystem"`
	Account                   string `json:"Account"`
	AccountType               string `json:"AccountType"`
	Computer                  string `json:"Computer"`
	EventSourceName           string `json:"EventSourceName"`
	Channel                   string `json:"Channel"`
	Task                      int    `json:"Task"`
	Level                     string `json:"Level"`
	EventID                   int    `json:"EventID"`
	Activity                  string `json:"Activity"`
	AuthenticationPackageName string `json:"AuthenticationPackageName,omitempty"`
	ElevatedToken             string `json:"ElevatedToken,omitempty"`
	ImpersonationLevel        string `json:"ImpersonationLevel,omitempty"`
	IpAddress                 string `json:"IpAddress,omitempty"`
	IpPort                    string `json:"IpPort,omitempty"`
	KeyLength                 *int   `json:"KeyLength,omitempty"`
	LmPackageName             string `json:"LmPackageName,omitempty"`
	LogonGUID                 string `json:"LogonGuid,omitempty"`
	LogonProcessName          string `json:"LogonProcessName,omitempty"`
	LogonType                 *int   `json:"LogonType,omitempty"`
	LogonTypeName             string `json:"LogonTypeName,omitempty"`
	ProcessID                 string `json:"ProcessId,omitempty"`
	ProcessName               string `json:"ProcessName,omitempty"`
	PrivilegeList             string `json:"PrivilegeList,omitempty"`
	Status                    string `json:"Status,omitempty"`
	SubStatus                 string `json:"SubStatus,omitempty"`
	FailureReason             string `json:"FailureReason,omitempty"`
	SubjectDomainName         string `json:"SubjectDomainName"`
	SubjectLogonID            string `json:"SubjectLogonId"`
	SubjectUserName           string `json:"SubjectUserName"`
	SubjectUserSid            string `json:"SubjectUserSid"`
	TargetDomainName          string `json:"TargetDomainName,omitempty"`
	TargetLogonID             string `json:"TargetLogonId,omitempty"`
	TargetUserName            string `json:"TargetUserName,omitempty"`
	TargetUserSid             string `json:"TargetUserSid,omitempty"`
	WorkstationName           string `json:"WorkstationName,omitempty"`
	VirtualAccount            string `json:"VirtualAccount,omitempty"`
	ResourceID                string `json:"_ResourceId"`
	Type                      string `json:"Type"`
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

// Line is the event as one JSON text: a line of an export file (a SecurityEvent row's columns in
// the export's order, its numbers as numbers).
func (w Windows) Line() string {
	if w.Shape == SecurityEventRow {
		return jsonValue(w.SecurityEventRecord())
	}
	return jsonText(w.Map())
}
