package classify

import (
	"net/netip"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// LinuxLogon is an accepted sshd (or other auth-facility "Accepted") logon.
var LinuxLogon = Declare(KindSpec{Name: "linux_logon", Source: "Syslog", Columns: hostColumns, Host: "Computer",
	Format1: true, Format1Code: byte(Syslog)})

// The shapes of a Linux auth line: a row of Sentinel's Syslog table, the syslog receiver's record
// (RFC 3164 or 5424: attributes appname and message), the journald receiver's (MESSAGE), and a raw
// line in a string body (filelog with no parser): with a PRI header, or without one from a file
// named like auth.log or secure (log.file.name).
var (
	keyFileName = declareKey("log.file.name", always) // filelog's
	keyFacility = declareKey("facility", always)      // the syslog receiver's, to drop other facilities before reading more
	keyAppname  = declareFlag("appname", always)
	keyMessage  = declareFlag("message", always)
	keyJournal  = declareFlag("MESSAGE", always)
)

func init() {
	declareTable(tableDecl{name: "Syslog", part: always, classify: func(c *Classifier, in input, ev *Observation) {
		c.sentinelSyslog(&in, ev)
	}})
	declareShape(shapeDecl{order: 70, part: always, all: []key{keyAppname, keyMessage},
		classify: func(c *Classifier, in input, ev *Observation) bool {
			if n, ok := ev.d.value(keyFacility).integer(); !ok || facilityName(n) != "" {
				c.syslogReceiver(&in, ev)
			}
			return true
		}})
	declareShape(shapeDecl{order: 80, part: always, all: []key{keyJournal},
		classify: func(c *Classifier, in input, ev *Observation) bool {
			c.journald(&in, ev)
			return true
		}})
	// A PRI header, or the digit or month that starts a syslog timestamp.
	declareLine(lineDecl{part: always, first: "<0123456789JFMASOND", classify: (*Classifier).syslogLine})
}

// syslogLine looks at a string body that may be a raw syslog line.
func (c *Classifier) syslogLine(s string, ev *Observation) {
	if s[0] == '<' {
		c.rawSyslog(s, ev)
		return
	}
	// No PRI header, so no facility: only a file known to hold auth messages makes it auth.
	if name, ok := ev.d.value(keyFileName).str(); ok && authLogFile(name) {
		c.rawSyslog(s, ev)
	}
}

// Syslog facility numbers the KQL's `Facility contains "auth"` selects.
const (
	facilityAuth     = 4
	facilityAuthPriv = 10
)

// linuxLogon is what every Linux shape yields before the rule's tests.
type linuxLogon struct {
	facility string // facility name; "" when the record is not auth or authpriv
	process  string
	message  string
	computer string
	hostIP   string
	time     int64
}

// facilityName names a numeric facility when it is one of the two the rule selects.
func facilityName(n int64) string {
	switch n {
	case facilityAuth:
		return "auth"
	case facilityAuthPriv:
		return "authpriv"
	}
	return ""
}

// facilityFromText keeps a facility given by name when it contains "auth" (the KQL's test); the
// descriptive names older syslog parsers emitted are turned into their keywords.
func facilityFromText(s string) string {
	switch {
	case !containsFold(s, "auth"):
		return ""
	case s == "authorization messages":
		return "auth"
	case s == "security/authorization messages":
		return "authpriv"
	}
	return s
}

// facilityFrom reads a facility field that may be a name, a number, or a number as text.
func facilityFrom(f field) string {
	if !f.ok() {
		return ""
	}
	if n, ok := integer(f.v); ok {
		return facilityName(n)
	}
	if s, ok := f.str(); ok {
		return facilityFromText(strings.TrimSpace(s))
	}
	return ""
}

// finishLinux applies the rule to a Linux record: auth facility, not sudo, has the term Accepted,
// and a source address that counts. A message without the term may be a failed logon (see
// linuxFailure) when the part hostFailures is set.
func (c *Classifier) finishLinux(l linuxLogon, ev *Observation) {
	if l.facility == "" || l.process == "sudo" {
		return
	}
	if !hasTerm(l.message, "accepted") {
		if c.runs(hostFailures) {
			c.linuxFailure(l, ev)
		}
		return
	}
	// The grammar's address whatever the outcome word: a message with the term Accepted that is an
	// OpenSSH "Failed …" line is the KQL's logon too, and its grammar still names its true source.
	line, res := parseSSHD(l.message)
	addr, user := line.addr, line.user
	switch res {
	case grammarBadAddr:
		ev.Kind, ev.Reject = Rejected, RejectBadAddress
		return
	case grammarAbsent:
		text, found := firstIPv4(l.message)
		if !found {
			return // no address: not a logon the rule can use
		}
		a, ok := ParseAddr(text)
		if !ok {
			ev.Kind, ev.Reject = Rejected, RejectBadAddress
			return
		}
		addr = a
	}
	if c.excludedAddr(addr) {
		return
	}
	l.set(ev, LinuxLogon, addr, user)
}

// set makes ev the Linux logon (or failed logon) l, from addr by user. ev was reset by Classify, so
// only the columns it has are written: building a whole Observation to copy in would cost more.
func (l *linuxLogon) set(ev *Observation, kind Kind, addr netip.Addr, user string) {
	ev.Kind, ev.Addr, ev.Time = kind, addr, l.time
	ev.Cols[HostComputer], ev.Cols[HostLogonUser], ev.Cols[HostIP] = l.computer, user, l.hostIP
	ev.Cols[HostSyslogMessage], ev.Cols[HostFacility], ev.Cols[HostProcessName] = l.message, l.facility, l.process
}

// sentinelSyslogFields are the columns of Sentinel's Syslog table the rule reads.
type sentinelSyslogFields struct {
	facility, process, message, computer, hostIP, time field
}

func (s *sentinelSyslogFields) take(k string, v pcommon.Value) {
	switch k {
	case "Facility":
		s.facility.set(v)
	case "ProcessName":
		s.process.set(v)
	case "SyslogMessage":
		s.message.set(v)
	case "Computer":
		s.computer.set(v)
	case "HostIP":
		s.hostIP.set(v)
	case "TimeGenerated":
		s.time.set(v)
	}
}

// sentinelSyslog classifies a record of Sentinel's Syslog table.
func (c *Classifier) sentinelSyslog(in *input, ev *Observation) {
	var s sentinelSyslogFields
	in.each(s.take)
	l := linuxLogon{facility: facilityFrom(s.facility)}
	if l.facility == "" {
		return
	}
	l.process = strings.TrimSpace(s.process.text())
	l.message = s.message.text()
	l.computer = s.computer.text()
	l.hostIP = s.hostIP.text()
	l.time = in.time(s.time)
	c.finishLinux(l, ev)
}

// syslogReceiverFields are the attributes the syslog receiver (pkg/stanza's syslog parser) sets.
type syslogReceiverFields struct {
	appname, message, facility, facilityText, hostname, timestamp field
}

func (s *syslogReceiverFields) take(k string, v pcommon.Value) {
	switch k {
	case "appname":
		s.appname.set(v)
	case "message":
		s.message.set(v)
	case "facility":
		s.facility.set(v)
	case "facility_text":
		s.facilityText.set(v)
	case "hostname":
		s.hostname.set(v)
	case "timestamp": // normally moved to the record Timestamp; kept when a pipeline parses into attributes
		s.timestamp.set(v)
	}
}

// syslogReceiver classifies the output of the syslog receiver (RFC 3164 or RFC 5424).
func (c *Classifier) syslogReceiver(in *input, ev *Observation) {
	var s syslogReceiverFields
	in.each(s.take)
	// The number decides when present; facility_text alone is enough otherwise.
	var l linuxLogon
	if n, ok := s.facility.integer(); ok {
		l.facility = facilityName(n)
	} else {
		l.facility = facilityFrom(s.facilityText)
	}
	if l.facility == "" {
		return
	}
	l.process = s.appname.text()
	l.message = s.message.text()
	l.computer = s.hostname.text()
	l.time = in.time(s.timestamp)
	c.finishLinux(l, ev)
}

// journaldFields are the journal fields the journald receiver puts in its map body.
type journaldFields struct {
	message, identifier, comm, facility, hostname, realtime field
}

func (s *journaldFields) take(k string, v pcommon.Value) {
	switch k {
	case "MESSAGE":
		s.message.set(v)
	case "SYSLOG_IDENTIFIER":
		s.identifier.set(v)
	case "_COMM":
		s.comm.set(v)
	case "SYSLOG_FACILITY":
		s.facility.set(v)
	case "_HOSTNAME":
		s.hostname.set(v)
	case "__REALTIME_TIMESTAMP":
		s.realtime.set(v)
	}
}

// journald classifies a journal entry from the journald receiver.
func (c *Classifier) journald(in *input, ev *Observation) {
	var s journaldFields
	in.each(s.take)
	var l linuxLogon
	if n, ok := s.facility.integer(); ok {
		l.facility = facilityName(n)
	}
	if l.facility == "" {
		return
	}
	l.process = s.identifier.text()
	if l.process == "" {
		l.process = s.comm.text()
	}
	l.message = s.message.text()
	l.computer = s.hostname.text()
	l.time = in.time(s.realtime) // microseconds since the epoch, as text
	c.finishLinux(l, ev)
}

// rawSyslog classifies a syslog line in a string body (filelog with no parser). A line without a PRI
// header reaches here only from a file known to hold auth messages (see authLogFile).
func (c *Classifier) rawSyslog(s string, ev *Observation) {
	if f, _, ok := parsePRI(s); ok && facilityName(int64(f)) == "" {
		return // not auth: skip the header parse
	}
	line, ok := parseSyslogLine(s)
	if !ok {
		return
	}
	l := linuxLogon{
		process:  line.appname,
		message:  line.message,
		computer: line.hostname,
		time:     line.time,
	}
	if line.facility < 0 {
		l.facility = "auth" // from auth.log / secure: the file is the facility
	} else {
		l.facility = facilityName(int64(line.facility))
	}
	if l.facility == "" {
		return
	}
	c.finishLinux(l, ev)
}

// authLogFile reports whether a log file name is one syslog daemons write auth and authpriv to:
// auth.log (Debian, Ubuntu) or secure (RHEL, Fedora), rotated names included ("auth.log.1",
// "secure-20241124").
func authLogFile(name string) bool {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return strings.HasPrefix(name, "auth.log") || strings.HasPrefix(name, "secure")
}
