package shapes

import (
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// SyslogShape is how a Linux auth line reaches the processor.
type SyslogShape uint8

const (
	// SentinelSyslog is a row of Sentinel's Syslog table: attributes.
	SentinelSyslog SyslogShape = iota
	// SyslogReceiver is what the syslog receiver (protocol rfc3164) makes of a line: its fields as
	// attributes, the line as the body, the line's time as the record's Timestamp.
	SyslogReceiver
	// SyslogReceiver5424 is the same for protocol rfc5424 (version, msg_id, the RFC 5424 line).
	SyslogReceiver5424
	// Journald is a journald receiver entry: a map body, the time in __REALTIME_TIMESTAMP.
	Journald
	// RFC3164 is a raw BSD syslog line with PRI, as sent over the wire: a string body.
	RFC3164
	// RFC5424 is a raw RFC 5424 line: a string body.
	RFC5424
	// AuthLogFile is a line of /var/log/auth.log as rsyslog writes it on Debian 12
	// (RSYSLOG_FileFormat: RFC 3339 time with microseconds, no PRI), read by the filelog receiver:
	// a string body and log.file.name.
	AuthLogFile
	// SecureFile is a line in the traditional file format ("Nov 27 02:34:56", no PRI), as
	// /var/log/secure holds on RHEL: a string body and log.file.name.
	SecureFile
)

// Syslog is one Linux auth line. The zero value is sshd on web01 logging alice's accepted password
// from Addr, facility auth, at SyslogTime (JournaldTime for Journald), as a Sentinel row.
type Syslog struct {
	Shape SyslogShape
	// Place overrides where Fill writes a structured shape's fields.
	Place Place
	// Host is the host name (zero: LinuxHost; SentinelLinuxHost for SentinelSyslog).
	Host string
	// Process is the program (zero: "sshd").
	Process string
	// PID is its process id (zero: 4242); negative writes none, as sudo logs.
	PID int
	// Facility is the facility's name: auth (zero), authpriv, daemon, user, cron...
	Facility string
	// Message is the text after the tag (zero: alice's accepted password from Addr).
	Message string
	// Time is when the line was written.
	Time time.Time
}

// Facilities are the syslog facility codes by name.
var Facilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
	"uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, "local0": 16, "local7": 23,
}

// severityInfo is the severity of every line built here.
const severityInfo = 6

func (s Syslog) host() string {
	if s.Shape == SentinelSyslog {
		return or(s.Host, SentinelLinuxHost)
	}
	return or(s.Host, LinuxHost)
}
func (s Syslog) process() string  { return or(s.Process, "sshd") }
func (s Syslog) facility() string { return or(s.Facility, "auth") }
func (s Syslog) message() string {
	return or(s.Message, SSHD{}.String())
}
func (s Syslog) pid() int {
	if s.PID == 0 {
		return 4242
	}
	return s.PID
}
func (s Syslog) when() time.Time {
	if s.Shape == Journald {
		return orTime(s.Time, JournaldTime).UTC()
	}
	return orTime(s.Time, SyslogTime).UTC()
}

// FacilityCode is the facility's number; a name not in Facilities is user (1).
func (s Syslog) FacilityCode() int {
	if n, ok := Facilities[s.facility()]; ok {
		return n
	}
	return 1
}

// Priority is the PRI of the line: facility * 8 + severity (info).
func (s Syslog) Priority() int { return s.FacilityCode()*8 + severityInfo }

// Tag is the syslog tag: process[pid], or the process alone without a PID.
func (s Syslog) Tag() string {
	if s.pid() < 0 {
		return s.process()
	}
	return s.process() + "[" + strconv.Itoa(s.pid()) + "]"
}

// Map returns the fields of a structured shape: the Sentinel row, the syslog receiver's attributes
// or the journald entry. A line shape has none but what the filelog receiver adds (log.file.name).
func (s Syslog) Map() map[string]any {
	switch s.Shape {
	case SentinelSyslog:
		m := map[string]any{
			"TimeGenerated": s.when().Format(time.RFC3339Nano),
			"Computer":      s.host(),
			"HostIP":        "10.0.0.4",
			"Facility":      s.facility(),
			"SeverityLevel": "info",
			"ProcessName":   s.process(),
			"SyslogMessage": s.message(),
			"Type":          "Syslog",
		}
		if s.pid() >= 0 {
			m["ProcessID"] = s.pid()
		}
		return m
	case SyslogReceiver, SyslogReceiver5424:
		m := map[string]any{
			"appname":       s.process(),
			"hostname":      s.host(),
			"priority":      s.Priority(),
			"facility":      s.FacilityCode(),
			"facility_text": s.facility(),
			"message":       s.message(),
		}
		if s.pid() >= 0 {
			m["proc_id"] = strconv.Itoa(s.pid())
		}
		if s.Shape == SyslogReceiver5424 {
			m["version"] = 1
			m["msg_id"] = "-"
		}
		return m
	case Journald:
		comm := s.process()
		if comm == "sshd" {
			comm = "sshd-session" // OpenSSH 9.8+: the per-connection process logs as sshd
		}
		m := map[string]any{
			"MESSAGE":              s.message(),
			"PRIORITY":             strconv.Itoa(severityInfo),
			"SYSLOG_FACILITY":      strconv.Itoa(s.FacilityCode()),
			"SYSLOG_IDENTIFIER":    s.process(),
			"_COMM":                comm,
			"_EXE":                 "/usr/lib/openssh/" + comm,
			"_HOSTNAME":            s.host(),
			"_SYSTEMD_UNIT":        "ssh.service",
			"_TRANSPORT":           "syslog",
			"__REALTIME_TIMESTAMP": strconv.FormatInt(s.when().UnixMicro(), 10),
		}
		if s.pid() >= 0 {
			m["SYSLOG_PID"] = strconv.Itoa(s.pid())
			m["_PID"] = strconv.Itoa(s.pid())
		}
		return m
	case AuthLogFile, SecureFile:
		return map[string]any{"log.file.name": s.fileName(), "log.file.path": "/var/log/" + s.fileName()}
	default:
		return map[string]any{}
	}
}

// fileName is the file the line is in: the auth file for the auth facilities, messages otherwise.
func (s Syslog) fileName() string {
	auth := s.facility() == "auth" || s.facility() == "authpriv"
	switch {
	case s.Shape == AuthLogFile && auth:
		return "auth.log"
	case s.Shape == AuthLogFile:
		return "syslog"
	case auth:
		return "secure"
	default:
		return "messages"
	}
}

// Line is the text of the line: RFC 3164 for SyslogReceiver and RFC3164, RFC 5424 for
// SyslogReceiver5424 and RFC5424, the file formats for AuthLogFile and SecureFile, and the fields
// as one JSON text for SentinelSyslog and Journald.
func (s Syslog) Line() string {
	t := s.when()
	switch s.Shape {
	case SyslogReceiver, RFC3164:
		return "<" + strconv.Itoa(s.Priority()) + ">" + t.Format(time.Stamp) + " " + s.host() + " " + s.Tag() + ": " + s.message()
	case SyslogReceiver5424, RFC5424:
		procID := "-"
		if s.pid() >= 0 {
			procID = strconv.Itoa(s.pid())
		}
		return "<" + strconv.Itoa(s.Priority()) + ">1 " + t.Format(time.RFC3339Nano) + " " + s.host() + " " + s.process() + " " + procID + " - - " + s.message()
	case AuthLogFile:
		return t.Format("2006-01-02T15:04:05.000000-07:00") + " " + s.host() + " " + s.Tag() + ": " + s.message()
	case SecureFile:
		return t.Format(time.Stamp) + " " + s.host() + " " + s.Tag() + ": " + s.message()
	default:
		return jsonText(s.Map())
	}
}

// Fill writes the line into lr as its shape has it: the structured shapes' fields (see Place), the
// raw lines as a string body. The syslog receiver shapes also get the line as body (unless Place
// says where their fields go) and its time as the record's Timestamp, as the receiver does.
func (s Syslog) Fill(lr plog.LogRecord) {
	switch s.Shape {
	case SentinelSyslog:
		fill(lr, s.Map(), s.Place, InAttributes)
	case Journald:
		fill(lr, s.Map(), s.Place, InMapBody)
	case SyslogReceiver, SyslogReceiver5424:
		fill(lr, s.Map(), s.Place, InAttributes)
		if s.Place == ShapePlace {
			lr.Body().SetStr(s.Line())
		}
		t := s.when()
		if s.Shape == SyslogReceiver {
			t = t.Truncate(time.Second) // RFC 3164 has whole seconds
		}
		lr.SetTimestamp(pcommon.NewTimestampFromTime(t))
	case AuthLogFile, SecureFile:
		mustFromRaw(lr.Attributes().FromRaw(s.Map()))
		lr.Body().SetStr(s.Line())
	default:
		lr.Body().SetStr(s.Line())
	}
}
