package classify

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// The second rule's observations (the part hostFailures, the part signinSuccesses). Every case runs twice:
// with the switches on, where it must be what the case says, and with them off (the default), where
// it must be what the classifier always made of it.

// ruleBRules are the default rules with both switches on.
func ruleBRules() Rules {
	return Rules{Kinds: ruleBKinds}
}

// switchCase is one record, what Classify makes of it with the switches on (kind, reject, addr,
// check), and its kind with them off (off, offReject).
type switchCase struct {
	name      string
	attrs     map[string]any
	body      any
	kind      Kind
	reject    string
	addr      string
	check     func(t *testing.T, ev Observation)
	off       Kind
	offReject string
}

func runSwitchCases(t *testing.T, cases []switchCase) {
	t.Helper()
	on, off := New(ruleBRules()), New(Rules{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			attrs := tc.attrs
			if attrs == nil {
				attrs = map[string]any{}
			}
			ev := classifyUnchanged(t, on, newRecord(t, attrs, tc.body))
			assert.Equal(t, tc.kind, ev.Kind, "kind with the switches on (reject %q)", ev.Reject)
			assert.Equal(t, tc.reject, ev.Reject, "reject with the switches on")
			if tc.addr != "" {
				assert.Equal(t, netip.MustParseAddr(tc.addr), ev.Addr, "addr")
			}
			if tc.check != nil {
				tc.check(t, ev)
			}
			checkInvariants(t, on, ev)

			old := classifyUnchanged(t, off, newRecord(t, attrs, tc.body))
			assert.Equal(t, tc.off, old.Kind, "kind with the switches off (reject %q)", old.Reject)
			assert.Equal(t, tc.offReject, old.Reject, "reject with the switches off")
			checkInvariants(t, off, old)
		})
	}
}

// ---- Windows 4625 ----

// windows4625Shape builds a 4625 of one Windows shape with the given LogonType and IpAddress.
type windows4625Shape struct {
	name     string
	source   LogonSource
	activity string
	build    func(logonType, ip string) (attrs map[string]any, body any)
}

func windows4625Shapes() []windows4625Shape {
	// The builders' 4625s, the LogonType then set as given (a test's garbage one too).
	eventData := func(logonType, ip string) map[string]any {
		return with(shapes.Windows{Shape: shapes.WindowsEventRow, EventID: 4625, Addr: ip}.Map()["EventData"].(map[string]any), "LogonType", logonType)
	}
	eventLog := func(array bool, channel, logonType, ip string) map[string]any {
		shape := shapes.EventLog
		if array {
			shape = shapes.EventLogArray
		}
		body := shapes.Windows{Shape: shape, EventID: 4625, Channel: channel, Addr: ip}.Map()
		ed := body["event_data"].(map[string]any)
		if !array {
			with(ed, "LogonType", logonType)
			return body
		}
		for _, elem := range ed["data"].([]any) {
			m := elem.(map[string]any)
			if _, ok := m["LogonType"]; ok {
				m["LogonType"] = logonType
			}
		}
		return body
	}
	securityEvent := func(logonType, ip string) map[string]any {
		return with(shapes.Windows{EventID: 4625, Addr: ip}.Map(), "LogonType", logonType)
	}
	return []windows4625Shape{
		{"securityevent/attributes", SecurityEvent, activityFailedLogon,
			func(lt, ip string) (map[string]any, any) { return securityEvent(lt, ip), nil }},
		{"securityevent/map body", SecurityEvent, activityFailedLogon,
			func(lt, ip string) (map[string]any, any) { return nil, securityEvent(lt, ip) }},
		{"securityevent/EventID as int", SecurityEvent, activityFailedLogon,
			func(lt, ip string) (map[string]any, any) { return with(securityEvent(lt, ip), "EventID", 4625), nil }},
		{"windowsevent/EventData map", WindowsEvent, activityFailedLogon,
			func(lt, ip string) (map[string]any, any) {
				return with(shapes.Windows{Shape: shapes.WindowsEventRow, EventID: 4625}.Map(), "EventData", eventData(lt, ip)), nil
			}},
		{"windowsevent/EventData JSON text", WindowsEvent, activityFailedLogon,
			func(lt, ip string) (map[string]any, any) {
				text, err := json.Marshal(eventData(lt, ip))
				if err != nil {
					panic(err)
				}
				return with(shapes.Windows{Shape: shapes.WindowsEventRow, EventID: 4625}.Map(), "EventID", "4625", "EventData", string(text)), nil
			}},
		{"windowseventlog/Security map", SecurityEvent, activityFailedLogon,
			func(lt, ip string) (map[string]any, any) { return nil, eventLog(false, "Security", lt, ip) }},
		{"windowseventlog/Security array", SecurityEvent, activityFailedLogon,
			func(lt, ip string) (map[string]any, any) { return nil, eventLog(true, "Security", lt, ip) }},
		{"windowseventlog/ForwardedEvents map", WindowsEvent, activityFailedLogon,
			func(lt, ip string) (map[string]any, any) { return nil, eventLog(false, "ForwardedEvents", lt, ip) }},
		{"windowseventlog/ForwardedEvents array", WindowsEvent, activityFailedLogon,
			func(lt, ip string) (map[string]any, any) { return nil, eventLog(true, "ForwardedEvents", lt, ip) }},
	}
}

func hostFailureIs(src LogonSource, logonType, activity string) func(t *testing.T, ev Observation) {
	return func(t *testing.T, ev Observation) {
		assert.Equal(t, src, sourceOf(ev), "source: the table it counts in")
		assert.Equal(t, 1, ev.Repeat)
		assert.Equal(t, "4625", ev.Cols[HostEventID])
		assert.Equal(t, activity, ev.Cols[HostActivity])
		assert.Equal(t, logonType, ev.Cols[HostLogonType])
		assert.Equal(t, "WS01.contoso.com", ev.Cols[HostComputer])
		assert.Equal(t, "alice", ev.Cols[HostTargetUserName])
		assert.Equal(t, "alice", ev.Cols[HostLogonUser])
		assert.Equal(t, "CONTOSO", ev.Cols[HostTargetDomainName])
		assert.Equal(t, mustTime(t, "2024-11-27T02:34:56.5Z"), ev.Time)
	}
}

func TestHostFailuresWindows(t *testing.T) {
	var cases []switchCase
	for _, s := range windows4625Shapes() {
		build := func(lt, ip string) (map[string]any, any) { return s.build(lt, ip) }
		a, b := build("3", srcIP)
		cases = append(cases, switchCase{name: s.name + "/counted", attrs: a, body: b,
			kind: windowsFailures[s.source], addr: srcIP, check: hostFailureIs(s.source, "3", s.activity), off: Unrelated})
		for _, lt := range []string{"10", "7"} {
			a, b = build(lt, srcIP)
			cases = append(cases, switchCase{name: s.name + "/LogonType " + lt, attrs: a, body: b,
				kind: windowsFailures[s.source], check: hostFailureIs(s.source, lt, s.activity), off: Unrelated})
		}
		a, b = build("2", srcIP)
		cases = append(cases, switchCase{name: s.name + "/LogonType 2 not counted", attrs: a, body: b, kind: Unrelated, off: Unrelated})
		a, b = build("3", "-")
		cases = append(cases, switchCase{name: s.name + "/IpAddress - not counted", attrs: a, body: b, kind: Unrelated, off: Unrelated})
		a, b = build("3", "WS02")
		cases = append(cases, switchCase{name: s.name + "/garbage address rejected", attrs: a, body: b,
			kind: Rejected, reject: RejectBadAddress, off: Unrelated})
		a, b = build("3", "127.0.0.1")
		cases = append(cases, switchCase{name: s.name + "/127.0.0.1 not counted", attrs: a, body: b, kind: Unrelated, off: Unrelated})
		a, b = build("3", "2001:db8::7")
		cases = append(cases, switchCase{name: s.name + "/IPv6", attrs: a, body: b, kind: windowsFailures[s.source], addr: "2001:db8::7", off: Unrelated})
		a, b = build("Network", srcIP)
		cases = append(cases, switchCase{name: s.name + "/garbage LogonType rejected", attrs: a, body: b,
			kind: Rejected, reject: RejectBadLogonType, off: Unrelated})
	}
	cases = append(cases,
		// The switch adds 4625 and nothing else: a 4624 is the first rule's logon, as always.
		switchCase{name: "4624 is still a logon", attrs: securityEventRow(), kind: SecurityEventLogon, addr: srcIP,
			check: func(t *testing.T, ev Observation) { assert.Zero(t, ev.Repeat) }, off: SecurityEventLogon},
		switchCase{name: "4624 from ForwardedEvents is still SecurityEvent's",
			body: with(windowsEventLogBody(false), "channel", "ForwardedEvents"), kind: SecurityEventLogon,
			check: func(t *testing.T, ev Observation) { assert.Equal(t, SecurityEvent, sourceOf(ev)) }, off: SecurityEventLogon},
		switchCase{name: "4625 without Activity", attrs: with(securityEventRow(), "EventID", "4625", "Activity", absent),
			kind: FailedSecurityEventLogon, check: func(t *testing.T, ev Observation) { assert.Empty(t, ev.Cols[HostActivity]) }, off: Unrelated},
		switchCase{name: "4634 is no logon", attrs: with(securityEventRow(), "EventID", "4634"), kind: Unrelated, off: Unrelated},
		switchCase{name: "4625 from a channel of another type",
			body: with(windowsEventLogBody(false), "event_id", 4625, "channel", 7), kind: FailedSecurityEventLogon,
			check: func(t *testing.T, ev Observation) { assert.Equal(t, SecurityEvent, sourceOf(ev)) }, off: Unrelated},
	)
	runSwitchCases(t, cases)
}

func TestHostFailureWindowsExactEvent(t *testing.T) {
	var ev Observation
	New(ruleBRules()).Classify(newRecord(t, with(securityEventRow(), "EventID", "4625",
		"Activity", activityFailedLogon, "LogonType", "10"), nil), &ev)
	assert.Equal(t, Observation{
		Kind:   FailedSecurityEventLogon,
		Addr:   netip.MustParseAddr(srcIP),
		Time:   mustTime(t, "2024-11-27T02:34:56.5Z"),
		Repeat: 1,
		Cols:   Columns{HostComputer: "WS01.contoso.com", HostLogonUser: "alice", HostAccount: `CONTOSO\alice`, HostAccountType: "User", HostActivity: "4625 - An account failed to log on.", HostEventID: "4625", HostLogonProcessName: "NtLmSsp ", HostLogonType: "10", HostLogonTypeName: "3 - Network", HostTargetUserSid: "S-1-5-21-1-2-3-1104", HostTargetUserName: "alice", HostTargetDomainName: "CONTOSO", HostResourceID: "/subscriptions/0000/resourcegroups/rg/providers/microsoft.compute/virtualmachines/ws01"},
	}, ev)
}

// TestHostFailuresRulesApply: the configured logon types and excluded addresses decide for 4625 as
// for 4624.
func TestHostFailuresRulesApply(t *testing.T) {
	c := New(Rules{Kinds: hostFailureKinds, LogonTypes: []int{2}, ExcludedIPs: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}})
	row := func(kv ...any) map[string]any {
		return with(securityEventRow(), append([]any{"EventID", "4625"}, kv...)...)
	}
	runCases(t, c, []classifyCase{
		{name: "logon type 2 counts", attrs: row("LogonType", "2", "IpAddress", "198.51.100.1"), kind: FailedSecurityEventLogon,
			check: func(t *testing.T, ev Observation) { assert.Equal(t, "2", ev.Cols[HostLogonType]) }},
		{name: "logon type 3 does not", attrs: row("IpAddress", "198.51.100.1"), kind: Unrelated},
		{name: "excluded range", attrs: row("LogonType", "2"), kind: Unrelated},
		{name: "excluded range, sshd", attrs: with(sentinelSyslogRow(), "SyslogMessage", "Failed password for root from 203.0.113.9 port 22 ssh2"), kind: Unrelated},
		{name: "loopback no longer excluded", attrs: with(sentinelSyslogRow(), "SyslogMessage", "Failed password for root from 127.0.0.1 port 22 ssh2"),
			kind: FailedSyslogLogon, addr: "127.0.0.1"},
	})
	// Only HostFailures: successful sign-ins stay SignIn.
	runCases(t, New(Rules{Kinds: hostFailureKinds}), []classifyCase{
		{name: "success without SigninSuccesses", attrs: with(sentinelSignInRow(), "ResultType", "0"), kind: SignIn},
	})
}

// ---- Linux ----

// linuxShape builds a record of one Linux shape around a message; proc and facility replace the
// process name and the facility where given.
type linuxShape struct {
	name     string
	computer string
	build    func(msg string) (attrs map[string]any, body any)
	sudo     func(msg string) (attrs map[string]any, body any)
	daemon   func(msg string) (attrs map[string]any, body any)
}

func linuxShapes() []linuxShape {
	// from builds the record of spec: a structured shape's fields, or a line and what the filelog
	// receiver adds to it.
	from := func(spec shapes.Syslog) (map[string]any, any) {
		switch spec.Shape {
		case shapes.SentinelSyslog, shapes.SyslogReceiver:
			return spec.Map(), nil
		case shapes.Journald:
			return nil, spec.Map()
		case shapes.SecureFile:
			return map[string]any{"log.file.name": spec.Map()["log.file.name"]}, spec.Line()
		default:
			return nil, spec.Line()
		}
	}
	shape := func(name, computer string, sh shapes.SyslogShape, facility string) linuxShape {
		return linuxShape{
			name: name, computer: computer,
			build: func(m string) (map[string]any, any) {
				return from(shapes.Syslog{Shape: sh, Facility: facility, Message: m})
			},
			sudo: func(m string) (map[string]any, any) {
				return from(shapes.Syslog{Shape: sh, Facility: facility, Process: "sudo", Message: m})
			},
			daemon: func(m string) (map[string]any, any) {
				return from(shapes.Syslog{Shape: sh, Facility: "daemon", Message: m})
			},
		}
	}
	return []linuxShape{
		shape("sentinel syslog", "web01.contoso.com", shapes.SentinelSyslog, "auth"),
		shape("syslog receiver", "web01", shapes.SyslogReceiver, "auth"),
		shape("journald", "web01", shapes.Journald, "auth"),
		shape("raw rfc3164", "web01", shapes.RFC3164, "auth"),
		shape("raw rfc5424", "web01", shapes.RFC5424, "authpriv"),
		shape("raw secure without PRI", "web01", shapes.SecureFile, "auth"),
	}
}

// linuxCase is one message and what the switches make of it in every Linux shape.
type linuxCase struct {
	name   string
	msg    string
	kind   Kind // with the switches on
	reject string
	addr   string
	user   string // LogonUser, checked for a FailedSyslogLogon
	repeat int    // Repeat, checked for a FailedSyslogLogon (0 means 1)
	off    Kind   // with them off
}

var failedPw = shapes.FailedPassword(shapes.User, srcIP)

const failedLogin = "FAILED LOGIN 1 FROM 192.0.2.1 FOR root, Authentication failure"

var linuxCases = []linuxCase{
	// OpenSSH failures: the grammar's address and user.
	{name: "sshd/password", msg: failedPw, kind: FailedSyslogLogon, addr: srcIP, user: "alice"},
	{name: "sshd/publickey", msg: "Failed publickey for alice from " + srcIP + " port 52144 ssh2: ED25519 SHA256:Xm3p1oJ8n2Yk0Zr9c7V5b4QwErTyUiOpAsDfGhJkLzX",
		kind: FailedSyslogLogon, addr: srcIP, user: "alice"},
	{name: "sshd/keyboard-interactive/pam", msg: "Failed keyboard-interactive/pam for alice from " + srcIP + " port 52144 ssh2",
		kind: FailedSyslogLogon, addr: srcIP, user: "alice"},
	{name: "sshd/none", msg: "Failed none for invalid user admin from " + srcIP + " port 52144 ssh2", kind: FailedSyslogLogon, addr: srcIP, user: "admin"},
	{name: "sshd/password for invalid user", msg: "Failed password for invalid user admin from " + srcIP + " port 41234 ssh2",
		kind: FailedSyslogLogon, addr: srcIP, user: "admin"},
	{name: "sshd/Invalid user line", msg: "Invalid user admin from " + srcIP + " port 41234", kind: FailedSyslogLogon, addr: srcIP, user: "admin"},
	{name: "sshd/Invalid user line before OpenSSH 7.5", msg: "Invalid user admin from " + srcIP, kind: FailedSyslogLogon, addr: srcIP, user: "admin"},
	{name: "sshd/IPv6", msg: "Failed password for root from 2001:db8::42 port 22 ssh2", kind: FailedSyslogLogon, addr: "2001:db8::42", user: "root"},
	{name: "sshd/IPv6 invalid user", msg: "Invalid user oracle from 2001:DB8:0::43 port 22", kind: FailedSyslogLogon, addr: "2001:db8::43", user: "oracle"},
	{name: "sshd/mapped IPv4", msg: "Failed password for root from ::ffff:" + srcIP + " port 22 ssh2", kind: FailedSyslogLogon, addr: srcIP, user: "root"},
	{name: "sshd/user name that is an IPv4 address", msg: "Failed password for 10.9.9.9 from " + srcIP + " port 22 ssh2",
		kind: FailedSyslogLogon, addr: srcIP, user: "10.9.9.9"},
	{name: "sshd/invalid user name that is an IPv4 address", msg: "Invalid user 198.51.100.1 from " + srcIP + " port 22",
		kind: FailedSyslogLogon, addr: srcIP, user: "198.51.100.1"},
	{name: "sshd/user name holding a from clause", msg: "Failed password for invalid user x from 10.9.9.9 port 22 y from " + srcIP + " port 22 ssh2",
		kind: FailedSyslogLogon, addr: srcIP, user: "x from 10.9.9.9 port 22 y"},
	{name: "sshd/certificate whose key ID holds an address", msg: "Failed publickey for alice from " + srcIP +
		" port 52144 ssh2: ED25519-CERT SHA256:abc ID ops from 198.51.100.1 port 22 (serial 1) CA ED25519 SHA256:def",
		kind: FailedSyslogLogon, addr: srcIP, user: "alice"},
	{name: "sshd/certificate key ID holding a whole sshd tail", msg: "Failed publickey for alice from " + srcIP +
		" port 52144 ssh2: RSA-CERT SHA256:abc ID x from 198.51.100.1 port 22 ssh2 (serial 9) CA RSA SHA256:def",
		kind: FailedSyslogLogon, addr: srcIP, user: "alice"},
	{name: "sshd/host name instead of an address", msg: "Failed password for root from gw.example.com port 22 ssh2",
		kind: Rejected, reject: RejectBadAddress},
	{name: "sshd/leading-zero address", msg: "Invalid user admin from 203.0.113.007 port 22", kind: Rejected, reject: RejectBadAddress},

	// The filter's exclusion terms, one at a time (each message has the term "from" and an address).
	{name: "kql/Disconnecting", msg: "Disconnecting: Too many authentication failures for root from " + srcIP + " port 22 ssh2", kind: Unrelated},
	{name: "kql/Disconnected", msg: "Disconnected from invalid user admin " + srcIP + " port 41234", kind: Unrelated},
	{name: "kql/disconnect", msg: "Received disconnect from " + srcIP + " port 41234:11: Bye Bye", kind: Unrelated},
	{name: "kql/DISCONNECT in capitals", msg: "Received DISCONNECT from " + srcIP + " port 41234:11: Bye Bye", kind: Unrelated},
	{name: "kql/[preauth]", msg: "error: maximum authentication attempts exceeded for root from " + srcIP + " port 22 ssh2 [preauth]", kind: Unrelated},
	{name: "kql/[PREAUTH] in capitals", msg: "Failed password for root from " + srcIP + " port 22 ssh2 [PREAUTH]", kind: Unrelated},
	{name: "kql/Accepted is the first rule's", msg: acceptedPw, kind: LinuxLogon, addr: srcIP, off: LinuxLogon},
	{name: "kql/Accepted in a failure's user name is the first rule's",
		msg:  "Failed password for invalid user Accepted from " + srcIP + " port 22 ssh2",
		kind: LinuxLogon, addr: srcIP, off: LinuxLogon},
	// KQL `has` reads whole terms.
	{name: "has/Disconnects is not an exclusion term", msg: "Disconnects from " + srcIP, kind: FailedSyslogLogon, addr: srcIP},
	{name: "has/preauth without brackets is not an exclusion", msg: "preauth failure from " + srcIP, kind: FailedSyslogLogon, addr: srcIP},
	{name: "has/FROM in capitals", msg: failedLogin, kind: FailedSyslogLogon, addr: "192.0.2.1"},
	{name: "has/no term from", msg: "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=" + srcIP + "  user=root",
		kind: Unrelated},
	{name: "has/fromage is not from", msg: "fromage " + srcIP, kind: Unrelated},
	{name: "has/from inside a word is not from", msg: "Failedfrom " + srcIP, kind: Unrelated},

	// Excluded addresses.
	{name: "excluded/127.0.0.1 in the grammar", msg: "Failed password for root from 127.0.0.1 port 22 ssh2", kind: Unrelated},
	{name: "excluded/::1 in the grammar", msg: "Invalid user admin from ::1 port 22", kind: Unrelated},
	{name: "excluded/127.0.0.1 first IPv4", msg: "FAILED LOGIN 1 FROM 127.0.0.1 FOR root, Authentication failure", kind: Unrelated},

	// sshd lines about connections and sessions: no failure.
	{name: "not counted/Connection from", msg: "Connection from " + srcIP + " port 41234 on 10.0.0.4 port 22 rdomain \"\"", kind: Unrelated},
	{name: "not counted/Connection from without rdomain", msg: "Connection from 2001:db8::42 port 41234 on 2001:db8::1 port 22", kind: Unrelated},
	{name: "not counted/Starting session", msg: "Starting session: shell on pts/0 for alice from " + srcIP + " port 41234 id 0", kind: Unrelated},
	{name: "not counted/Close session", msg: "Close session: user alice from " + srcIP + " port 41234 id 0", kind: Unrelated},
	{name: "not counted/Postponed", msg: "Postponed keyboard-interactive for alice from " + srcIP + " port 22 ssh2", kind: Unrelated},
	{name: "not counted/Partial", msg: "Partial publickey for alice from " + srcIP + " port 22 ssh2: ED25519 SHA256:abc", kind: Unrelated},
	// ... but not everything that starts like one.
	{name: "counted/Connection from without the local end", msg: "banner exchange: Connection from " + srcIP + " port 41234: invalid format",
		kind: FailedSyslogLogon, addr: srcIP},

	// A syslog daemon's repeated-message line stands for N failures.
	{name: "repeated/sshd", msg: "message repeated 5 times: [ Failed password for root from " + srcIP + " port 22 ssh2]",
		kind: FailedSyslogLogon, addr: srcIP, user: "root", repeat: 5},
	{name: "repeated/invalid user IPv6", msg: "message repeated 2 times: [ Failed password for invalid user admin from 2001:db8::42 port 22 ssh2]",
		kind: FailedSyslogLogon, addr: "2001:db8::42", user: "admin", repeat: 2},
	{name: "repeated/other program", msg: "message repeated 3 times: [ " + failedLogin + "]", kind: FailedSyslogLogon, addr: "192.0.2.1", repeat: 3},
	{name: "repeated/excluded term inside", msg: "message repeated 3 times: [ Received disconnect from " + srcIP + " port 22:11: Bye]", kind: Unrelated},
	{name: "repeated/connection lines inside", msg: "message repeated 2 times: [ Connection from " + srcIP + " port 1 on 10.0.0.4 port 22]", kind: Unrelated},
	{name: "repeated/not a count: one line", msg: "message repeated many times: [ " + failedPw + "]", kind: FailedSyslogLogon, addr: srcIP, repeat: 1},
	{name: "repeated/zero: one line", msg: "message repeated 0 times: [ " + failedPw + "]", kind: FailedSyslogLogon, addr: srcIP, repeat: 1},

	// Other auth programs: the KQL's first IPv4 address.
	{name: "other/login", msg: failedLogin, kind: FailedSyslogLogon, addr: "192.0.2.1"},
	{name: "other/PAM", msg: "error: PAM: Authentication failure for root from " + srcIP, kind: FailedSyslogLogon, addr: srcIP},
	{name: "other/AllowUsers", msg: "User root from " + srcIP + " not allowed because not listed in AllowUsers", kind: FailedSyslogLogon, addr: srcIP},
	{name: "other/no identification string", msg: "Did not receive identification string from " + srcIP + " port 41234", kind: FailedSyslogLogon, addr: srcIP},
	{name: "other/first IPv4 that is no address", msg: "authentication failure from 999.1.2.3", kind: Rejected, reject: RejectBadAddress},
	{name: "other/no address at all", msg: "authentication failure for root from localhost", kind: Unrelated},
}

func TestHostFailuresLinux(t *testing.T) {
	var cases []switchCase
	for _, s := range linuxShapes() {
		for _, lc := range linuxCases {
			attrs, body := s.build(lc.msg)
			sc := switchCase{name: s.name + "/" + lc.name, attrs: attrs, body: body, kind: lc.kind, reject: lc.reject,
				addr: lc.addr, off: lc.off}
			if lc.kind == FailedSyslogLogon {
				lc, computer := lc, s.computer
				sc.check = func(t *testing.T, ev Observation) {
					assert.Equal(t, Syslog, sourceOf(ev))
					assert.Equal(t, max(lc.repeat, 1), ev.Repeat, "repeat")
					assert.Equal(t, lc.user, ev.Cols[HostLogonUser], "user")
					assert.Equal(t, computer, ev.Cols[HostComputer], "computer")
					assert.Equal(t, "sshd", ev.Cols[HostProcessName])
					assert.Equal(t, lc.msg, ev.Cols[HostSyslogMessage], "the whole message")
					assert.Contains(t, ev.Cols[HostFacility], "auth")
					assert.Empty(t, ev.Cols[HostEventID])
				}
			}
			cases = append(cases, sc)
		}
		// The process and facility tests come first.
		attrs, body := s.sudo(failedPw)
		cases = append(cases, switchCase{name: s.name + "/kql/sudo excluded", attrs: attrs, body: body, kind: Unrelated, off: Unrelated})
		attrs, body = s.daemon(failedPw)
		cases = append(cases, switchCase{name: s.name + "/kql/non-auth facility excluded", attrs: attrs, body: body, kind: Unrelated, off: Unrelated})
		attrs, body = s.sudo("message repeated 2 times: [ " + failedLogin + "]")
		cases = append(cases, switchCase{name: s.name + "/kql/sudo repeated excluded", attrs: attrs, body: body, kind: Unrelated, off: Unrelated})
	}
	runSwitchCases(t, cases)
}

func TestHostFailureSyslogExactEvent(t *testing.T) {
	msg := "message repeated 4 times: [ Failed password for invalid user admin from 2001:db8::42 port 22 ssh2]"
	var ev Observation
	New(ruleBRules()).Classify(newRecord(t, with(sentinelSyslogRow(), "SyslogMessage", msg, "Facility", "authpriv"), nil), &ev)
	assert.Equal(t, Observation{
		Kind:   FailedSyslogLogon,
		Addr:   netip.MustParseAddr("2001:db8::42"),
		Time:   mustTime(t, "2024-11-27T02:34:56Z"),
		Repeat: 4,
		Cols:   Columns{HostComputer: "web01.contoso.com", HostLogonUser: "admin", HostIP: "10.0.0.4", HostSyslogMessage: msg, HostFacility: "authpriv", HostProcessName: "sshd"},
	}, ev)
}

// TestHostFailureOneAttemptTwoLines: an unknown user's failed attempt logs two lines, and both count
// (as in the KQL); a connection that only probes the user name logs one.
func TestHostFailureOneAttemptTwoLines(t *testing.T) {
	c := New(ruleBRules())
	session := []string{
		"Connection from " + srcIP + " port 41234 on 10.0.0.4 port 22 rdomain \"\"",
		"Invalid user admin from " + srcIP + " port 41234",
		shapes.PAMUnknownUser(),
		"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=" + srcIP,
		"Failed password for invalid user admin from " + srcIP + " port 41234 ssh2",
		"Failed password for invalid user admin from " + srcIP + " port 41234 ssh2",
		"Connection closed by invalid user admin " + srcIP + " port 41234 [preauth]",
		"PAM 1 more authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=" + srcIP,
	}
	failures := 0
	for _, m := range session {
		ev := classifyUnchanged(t, c, newRecord(t, with(sentinelSyslogRow(), "SyslogMessage", m), nil))
		if ev.Kind == FailedSyslogLogon {
			failures += ev.Repeat
		}
	}
	assert.Equal(t, 3, failures, "Invalid user + two Failed password lines")
}

func TestSampleSyslogHostFailures(t *testing.T) {
	rows := loadSample(t, "Syslog_OpenSSH_ASIM_20rows.csv")
	c := New(ruleBRules())
	// Without the facility (the export has no such column) nothing counts, as for the first rule.
	assert.Equal(t, map[Kind]int{Unrelated: 20}, kindCounts(t, c, rows))

	want := []string{
		"16.17.17.1", "192.168.1.12", "16.71.71.1", "61.71.1.1", "91.51.1.1", "51.71.1.1", "192.168.1.12",
		"51.71.1.1", "51.51.51.1", "71.61.51.1", "51.51.51.1", "71.71.17.71",
	}
	var got []string
	counts := map[Kind]int{}
	for _, row := range rows {
		ev := classifyUnchanged(t, c, newRecord(t, with(row, "Facility", "authpriv", "ProcessName", "sshd"), nil))
		counts[ev.Kind]++
		if ev.Kind == FailedSyslogLogon {
			got = append(got, ev.Addr.String())
		}
	}
	// The seven Accepted rows stay the first rule's logons; the one without "from" counts for neither.
	assert.Equal(t, map[Kind]int{LinuxLogon: 7, FailedSyslogLogon: 12, Unrelated: 1}, counts)
	assert.Equal(t, want, got)
}

func TestSampleSecurityEventHostFailures(t *testing.T) {
	rows := loadSample(t, "SecurityEvent_Authentication_1000rows.csv")
	c := New(ruleBRules())
	counts := kindCounts(t, c, rows)
	// The 995 real 4625 rows are network logons (LogonType 3) with an address: failed host logons.
	assert.Equal(t, map[Kind]int{FailedSecurityEventLogon: 995, Unrelated: 5}, counts)
	var ev Observation
	for _, row := range rows {
		if row["EventID"] != "4625" {
			continue
		}
		ev = classifyUnchanged(t, c, newRecord(t, row, nil))
		break
	}
	assert.Equal(t, SecurityEvent, sourceOf(ev))
	assert.Equal(t, "4625", ev.Cols[HostEventID])
	assert.Equal(t, "4625 - An account failed to log on.", ev.Cols[HostActivity])
	assert.Equal(t, netip.MustParseAddr("66.90.100.200"), ev.Addr)
	assert.Equal(t, 1, ev.Repeat)
	assert.NotZero(t, ev.Time)
}

// ---- Successful sign-ins ----

func signinSuccessIs(table Table, result, app, userName, clientApp, location string) func(t *testing.T, ev Observation) {
	return func(t *testing.T, ev Observation) {
		assert.Equal(t, table, tableOf(ev), "table")
		assert.Equal(t, result, ev.Cols[SignInResultType], "result type")
		assert.Equal(t, "alice@contoso.com", ev.Cols[SignInUserPrincipalName], "user")
		assert.Equal(t, mustTime(t, signInTime), ev.Time, "time")
		assert.Equal(t, app, ev.Cols[SignInAppDisplayName], "AppDisplayName")
		assert.Equal(t, userName, ev.Cols[SignInUserDisplayName], "UserDisplayName")
		assert.Equal(t, clientApp, ev.Cols[SignInClientAppUsed], "ClientAppUsed")
		assert.Equal(t, location, ev.Cols[SignInLocation], "Location")
	}
}

// Sign-in records carrying the projected columns, as each shape names them.
func sentinelSignInFull(kv ...any) map[string]any {
	return with(shapes.SignIn{Result: "0", App: "Azure Portal", UserDisplayName: "Alice Example", ClientApp: "Browser", Location: "US"}.Map(), kv...)
}

func diagSignInFull(kv ...any) map[string]any {
	return with(shapes.SignIn{Shape: shapes.DiagnosticSignIn, Result: "0", App: "Azure Portal", UserDisplayName: "Alice Example",
		ClientApp: "Browser", Location: "US"}.Map(), kv...)
}

var diagSignInSuccessJSON = shapes.SignIn{Shape: shapes.DiagnosticSignIn, Table: shapes.AADNonInteractiveUserSignInLogs, Result: "0",
	App: "Azure Portal", UserDisplayName: "Alice Example", ClientApp: "Browser", Location: "US"}.Line()

func eventHubAzureSignInFull() map[string]any {
	return shapes.SignIn{Shape: shapes.EventHubAzureSignIn, Result: "0", App: "Azure Portal", UserDisplayName: "Alice Example",
		ClientApp: "Browser", Location: "GB"}.Map()
}

func eventHubSemconvSignInFull() map[string]any {
	return shapes.SignIn{Shape: shapes.EventHubSemconvSignIn, Result: "0", NumericResult: true, App: "Azure Portal",
		UserDisplayName: "Alice Example", ClientApp: "Mobile Apps and Desktop clients"}.Map()
}

func azureEncodingSignInFull() map[string]any {
	return shapes.SignIn{Shape: shapes.AzureEncodingSignIn, Result: "50140", App: "Azure Portal", UserDisplayName: "Alice Example",
		ClientApp: "Browser", Location: "DE"}.Map()
}

func TestSigninSuccesses(t *testing.T) {
	full := signinSuccessIs(SigninLogs, "0", "Azure Portal", "Alice Example", "Browser", "US")
	noTime := func(f func(t *testing.T, ev Observation)) func(t *testing.T, ev Observation) {
		return func(t *testing.T, ev Observation) {
			ev.Time = mustTime(t, signInTime) // the shape carries no time
			f(t, ev)
		}
	}
	cases := []switchCase{
		// Sentinel.
		{name: "sentinel/attributes", attrs: sentinelSignInFull(), kind: SigninLogsSuccess, addr: srcIP, check: full, off: SignIn},
		{name: "sentinel/map body", body: sentinelSignInFull(), kind: SigninLogsSuccess, addr: srcIP, check: full, off: SignIn},
		{name: "sentinel/non-interactive", attrs: sentinelSignInFull("Type", "AADNonInteractiveUserSignInLogs"), kind: NonInteractiveSuccess,
			check: signinSuccessIs(AADNonInteractiveUserSignInLogs, "0", "Azure Portal", "Alice Example", "Browser", "US"), off: SignIn},
		{name: "sentinel/50125", attrs: sentinelSignInFull("ResultType", 50125), kind: SigninLogsSuccess,
			check: signinSuccessIs(SigninLogs, "50125", "Azure Portal", "Alice Example", "Browser", "US"), off: SignIn},
		{name: "sentinel/50140.0", attrs: sentinelSignInFull("ResultType", 50140.0), kind: SigninLogsSuccess,
			check: signinSuccessIs(SigninLogs, "50140", "Azure Portal", "Alice Example", "Browser", "US"), off: SignIn},
		{name: "sentinel/only the first rule's columns", attrs: with(sentinelSignInRow(), "ResultType", "0"), kind: SigninLogsSuccess,
			check: signinSuccessIs(SigninLogs, "0", "Azure Portal", "", "", ""), off: SignIn},
		{name: "sentinel/IPv6", attrs: sentinelSignInFull("IPAddress", "2001:DB8::7"), kind: SigninLogsSuccess, addr: "2001:db8::7", off: SignIn},
		{name: "sentinel/projected column of the wrong type", attrs: sentinelSignInFull("AppDisplayName", 7, "Location", []any{"US"}),
			kind: SigninLogsSuccess, check: signinSuccessIs(SigninLogs, "0", "", "Alice Example", "Browser", ""), off: SignIn},

		// Not successes.
		{name: "kql/failure stays a failure", attrs: sentinelSignInFull("ResultType", "50126"), kind: FailedSigninLogs,
			check: signinSuccessIs(SigninLogs, "50126", "Azure Portal", "Alice Example", "Browser", "US"), off: FailedSigninLogs},
		{name: "excluded/127.0.0.1", attrs: sentinelSignInFull("IPAddress", "127.0.0.1"), kind: SignIn, off: SignIn},
		{name: "excluded/::1", attrs: sentinelSignInFull("IPAddress", "::1"), kind: SignIn, off: SignIn},
		{name: "bad address", attrs: sentinelSignInFull("IPAddress", "-"), kind: Rejected, reject: RejectBadAddress,
			off: Rejected, offReject: RejectBadAddress},
		{name: "missing address", attrs: sentinelSignInFull("IPAddress", absent), kind: Rejected, reject: RejectMissingAddress,
			off: Rejected, offReject: RejectMissingAddress},
		{name: "missing ResultType", attrs: sentinelSignInFull("ResultType", absent), kind: Rejected, reject: RejectMissingResultType,
			off: Rejected, offReject: RejectMissingResultType},

		// Azure diagnostic settings.
		{name: "diagnostic/map body", body: diagSignInFull(), kind: SigninLogsSuccess, addr: srcIP, check: full, off: SignIn},
		{name: "diagnostic/map in attributes", attrs: diagSignInFull(), kind: SigninLogsSuccess, addr: srcIP, check: full, off: SignIn},
		{name: "diagnostic/location from properties", body: diagSignInFull("location", absent), kind: SigninLogsSuccess, check: full, off: SignIn},
		{name: "diagnostic/JSON body", body: diagSignInSuccessJSON, kind: NonInteractiveSuccess, addr: srcIP,
			check: signinSuccessIs(AADNonInteractiveUserSignInLogs, "0", "Azure Portal", "Alice Example", "Browser", "US"), off: SignIn},
		{name: "diagnostic/JSON body, location from properties",
			body: strings.Replace(diagSignInSuccessJSON, `"location":"US",`, "", 1), kind: NonInteractiveSuccess,
			check: signinSuccessIs(AADNonInteractiveUserSignInLogs, "0", "Azure Portal", "Alice Example", "Browser", "US"), off: SignIn},
		{name: "diagnostic/JSON body, projected columns of the wrong type",
			body: strings.Replace(diagSignInSuccessJSON, `"appDisplayName":"Azure Portal"`, `"appDisplayName":{"x":1}`, 1), kind: NonInteractiveSuccess,
			check: signinSuccessIs(AADNonInteractiveUserSignInLogs, "0", "", "Alice Example", "Browser", "US"), off: SignIn},
		{name: "diagnostic/first rule's JSON body, a failure", body: diagSignInJSON, kind: FailedSigninLogs, addr: srcIP,
			check: signinSuccessIs(SigninLogs, "50126", "", "", "", ""), off: FailedSigninLogs},
		{name: "diagnostic/JSON body, other category", body: strings.Replace(diagSignInSuccessJSON, "NonInteractiveUserSignInLogs", "AuditLogs", 1),
			kind: Unrelated, off: Unrelated},

		// azure_event_hub receiver, azure_encoding extension.
		{name: "eventhub azure/attributes", attrs: eventHubAzureSignInFull(), kind: SigninLogsSuccess, addr: srcIP,
			check: noTime(signinSuccessIs(SigninLogs, "0", "Azure Portal", "Alice Example", "Browser", "GB")), off: SignIn},
		{name: "eventhub azure/location from cloud.region", attrs: with(eventHubAzureSignIn(), "azure.result.type", "0"), kind: SigninLogsSuccess,
			check: noTime(signinSuccessIs(SigninLogs, "0", "", "", "", "US")), off: SignIn},
		{name: "eventhub semconv/map body", body: eventHubSemconvSignInFull(), kind: SigninLogsSuccess, addr: srcIP,
			check: noTime(signinSuccessIs(SigninLogs, "0", "Azure Portal", "Alice Example", "Mobile Apps and Desktop clients", "US")), off: SignIn},
		{name: "azure encoding/attributes", attrs: azureEncodingSignInFull(), kind: SigninLogsSuccess, addr: srcIP,
			check: noTime(signinSuccessIs(SigninLogs, "50140", "Azure Portal", "Alice Example", "Browser", "DE")), off: SignIn},
	}
	runSwitchCases(t, cases)
}

func TestSigninSuccessExactEvent(t *testing.T) {
	var ev Observation
	New(ruleBRules()).Classify(newRecord(t, sentinelSignInFull(), nil), &ev)
	assert.Equal(t, Observation{
		Kind: SigninLogsSuccess,
		Addr: netip.MustParseAddr(srcIP),
		Time: mustTime(t, signInTime),
		Cols: Columns{SignInResultType: "0", SignInUserPrincipalName: "alice@contoso.com", SignInAppDisplayName: "Azure Portal", SignInUserDisplayName: "Alice Example", SignInClientAppUsed: "Browser", SignInLocation: "US"},
	}, ev)
	// Off, the same record is the SignIn it always was, without the projected columns.
	New(Rules{}).Classify(newRecord(t, sentinelSignInFull(), nil), &ev)
	assert.Equal(t, Observation{
		Kind: SignIn,
		Addr: netip.MustParseAddr(srcIP),
		Time: mustTime(t, signInTime),
		Cols: Columns{SignInResultType: "0", SignInUserPrincipalName: "alice@contoso.com"},
	}, ev)
}

func TestSampleSignInLogsSuccesses(t *testing.T) {
	rows := loadSample(t, "SigninLogs_training_lab_56rows.csv")
	c := New(ruleBRules())
	assert.Equal(t, map[Kind]int{SigninLogsSuccess: 53, FailedSigninLogs: 3}, kindCounts(t, c, rows))
	for _, row := range rows {
		ev := classifyUnchanged(t, c, newRecord(t, row, nil))
		if ev.Kind != SigninLogsSuccess {
			continue
		}
		assert.Equal(t, "0", ev.Cols[SignInResultType])
		assert.Equal(t, "Adele Vance", ev.Cols[SignInUserDisplayName])
		assert.Equal(t, "IL", ev.Cols[SignInLocation])
		assert.NotEmpty(t, ev.Cols[SignInAppDisplayName])
		assert.NotEmpty(t, ev.Cols[SignInClientAppUsed])
	}
	// Only SigninSuccesses: 4625s stay Unrelated.
	only := New(Rules{Kinds: signinSuccessKinds})
	assert.Equal(t, map[Kind]int{Unrelated: 1000}, kindCounts(t, only, loadSample(t, "SecurityEvent_Authentication_1000rows.csv")))
}

// ---- Parts ----

func TestFailedLogonTerms(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want bool
	}{
		{"Failed password for root from 1.2.3.4 port 22 ssh2", true},
		{"FROM", true},
		{"from", true},
		{"x:from;y", true},
		{"fromx", false},
		{"xfrom", false},
		{"éfrom", false},
		{"from é disconnect", false},
		{"from Disconnecting", false},
		{"from disconnected", false},
		{"from ACCEPTED", false},
		{"from [preauth]", false},
		{"from x[preauth]y", false},
		{"from [Preauth]", false},
		{"from preauth", true},
		{"from [preauth", true},
		{"from preauth]", true},
		{"from [ preauth ]", true},
		{"from Disconnects disconnecter acceptedx", true},
		{"", false},
		{"\xff\xfefrom\xff", true},
	} {
		assert.Equal(t, tc.want, failedLogonTerms(tc.msg), "%q", tc.msg)
		assert.Equal(t, tc.want, referenceFailedLogonTerms(tc.msg), "reference %q", tc.msg)
	}
}

// referenceFailedLogonTerms is the filter written the plain way, one search per term.
func referenceFailedLogonTerms(s string) bool {
	return hasTerm(s, "from") && !hasTerm(s, "disconnecting") && !hasTerm(s, "disconnected") &&
		!hasTerm(s, "accepted") && !hasTerm(s, "disconnect") && !containsFold(s, "[preauth]")
}

func TestUnwrapRepeated(t *testing.T) {
	for _, tc := range []struct {
		msg, inner string
		n          int
	}{
		{"message repeated 2 times: [ Failed password for root from 1.2.3.4 port 22 ssh2]", "Failed password for root from 1.2.3.4 port 22 ssh2", 2},
		{"message repeated 12 times: [Failed x]\n", "Failed x", 12},
		{"sshd[1]: message repeated 3 times: [ x]", "x", 3},
		{" message repeated 3 times: [ x ] ", "x ", 3},
		{"message repeated 999999999 times: [ x]", "x", 999999999},
		{"message repeated 1000000000 times: [ x]", "message repeated 1000000000 times: [ x]", 1},
		{"message repeated 0 times: [ x]", "message repeated 0 times: [ x]", 1},
		{"message repeated 2 times: [ x", "message repeated 2 times: [ x", 1},
		{"message repeated 2 time: [ x]", "message repeated 2 time: [ x]", 1},
		{"message repeated -2 times: [ x]", "message repeated -2 times: [ x]", 1},
		{"the message repeated 2 times: [ x]", "the message repeated 2 times: [ x]", 1},
		{"Failed password", "Failed password", 1},
		{"", "", 1},
	} {
		inner, n := unwrapRepeated(tc.msg)
		assert.Equal(t, tc.inner, inner, "%q", tc.msg)
		assert.Equal(t, tc.n, n, "%q", tc.msg)
	}
}

func TestSSHDSessionLine(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want bool
	}{
		{"Connection from 1.2.3.4 port 22 on 10.0.0.4 port 22", true},
		{"Connection from 1.2.3.4 port 22 on 10.0.0.4 port 22 rdomain \"vrf1\"", true},
		{"sshd[7]: Connection from 1.2.3.4 port 22 on 10.0.0.4 port 22", true},
		{"Starting session: command for alice from 1.2.3.4 port 22 id 3", true},
		{"Close session: user alice from 1.2.3.4 port 22 id 0\n", true},
		{"Connection from 1.2.3.4 port 22", false},
		{"Connection from 1.2.3.4 port x on 10.0.0.4", false},
		{"Connection from  port 22 on 10.0.0.4", false},
		{"banner exchange: Connection from 1.2.3.4 port 22: invalid format", false},
		{"Starting session: shell for alice from 1.2.3.4", false},
		{"Close session: user alice from 1.2.3.4 port 22 id x", false},
		{"Failed password for root from 1.2.3.4 port 22 ssh2", false},
		{"", false},
	} {
		assert.Equal(t, tc.want, sshdSessionLine(tc.msg), "%q", tc.msg)
	}
}

func TestKindNames(t *testing.T) {
	assert.Equal(t, "host_failure", FailedSyslogLogon.String())
	assert.Equal(t, "signin_success", SigninLogsSuccess.String())
	assert.Equal(t, "wrapper", Wrapper.String())
	assert.Equal(t, "Syslog", FailedSyslogLogon.Source())
	assert.Equal(t, "AADNonInteractiveUserSignInLogs", NonInteractiveSuccess.Source())
	type id struct{ name, source string }
	ids := map[id]Kind{}
	for k := range NumKinds() {
		kind := Kind(k)
		require.NotEmpty(t, kind.String())
		ids[id{kind.String(), kind.Source()}] = kind
		got, ok := KindOf(kind.String(), kind.Source())
		require.True(t, ok)
		assert.Equal(t, kind, got, "KindOf finds %#v", kind)
	}
	assert.Len(t, ids, NumKinds(), "every kind has a name and source of its own")
	assert.Equal(t, "kind(200)", Kind(200).String())
	assert.Panics(t, func() { Declare(KindSpec{Name: "host_failure", Source: "Syslog"}) }, "declared twice")
}
