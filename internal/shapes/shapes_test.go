package shapes_test

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// Every shape this package builds goes through the classifier here, so a builder that drifts from
// what the classifier recognises (or a classifier that stops recognising a shape) fails.

// both rules' observations: failed host logons and successful sign-ins are asked for.
var (
	seedOnly = classify.New(classify.Rules{})
	allRules = classify.New(classify.Rules{Kinds: []classify.Kind{
		classify.FailedSyslogLogon, classify.FailedSecurityEventLogon, classify.FailedWindowsEventLogon,
		classify.SigninLogsSuccess, classify.NonInteractiveSuccess,
	}})
)

// kindOf is the kind of a name and source (a Sentinel table).
func kindOf(t *testing.T, name, source string) classify.Kind {
	t.Helper()
	k, ok := classify.KindOf(name, source)
	require.True(t, ok, "no kind %s of %q", name, source)
	return k
}

func record(fill func(plog.LogRecord)) plog.LogRecord {
	lr := plog.NewLogRecord()
	fill(lr)
	return lr
}

// eventTime is the record's event time as the processor takes it: its Timestamp, else the time
// the classifier found in its fields.
func eventTime(lr plog.LogRecord, ev classify.Observation) time.Time {
	if lr.Timestamp() != 0 {
		return lr.Timestamp().AsTime()
	}
	return time.Unix(0, ev.Time).UTC()
}

func classified(c *classify.Classifier, lr plog.LogRecord) classify.Observation {
	var ev classify.Observation
	c.Classify(lr, &ev)
	return ev
}

func TestSignInShapesClassify(t *testing.T) {
	shapeNames := map[shapes.SignInShape]string{
		shapes.SentinelSignIn: "sentinel", shapes.DiagnosticSignIn: "diagnostic", shapes.EventHubAzureSignIn: "eventhub azure",
		shapes.EventHubSemconvSignIn: "eventhub semconv", shapes.AzureEncodingSignIn: "azure encoding",
	}
	places := map[shapes.Place]string{shapes.ShapePlace: "own place", shapes.InAttributes: "attributes", shapes.InMapBody: "map body"}
	when := time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	for shape, name := range shapeNames {
		for place, where := range places {
			if shape == shapes.EventHubSemconvSignIn && place == shapes.InAttributes {
				continue // its keys (category, result.type) are no attribute shape of any receiver
			}
			for _, table := range []string{shapes.SigninLogs, shapes.AADNonInteractiveUserSignInLogs} {
				for _, numeric := range []bool{false, true} {
					s := shapes.SignIn{Shape: shape, Place: place, Table: table, Addr: "2001:db8::9", User: "bob@contoso.com",
						NumericResult: numeric, Time: when, App: "Azure Portal", UserDisplayName: "Bob", ClientApp: "Browser", Location: "NL"}
					t.Run(name+"/"+where+"/"+table+"/numeric "+strconv.FormatBool(numeric), func(t *testing.T) {
						failed := kindOf(t, "failed_signin", table)
						checkSignIn(t, s, failed, failed)
						s.Result = "0"
						checkSignIn(t, s, classify.SignIn, kindOf(t, "signin_success", table))
						s.Result = "50125"
						checkSignIn(t, s, classify.SignIn, kindOf(t, "signin_success", table))
					})
				}
			}
		}
	}
	t.Run("diagnostic/JSON body", func(t *testing.T) {
		s := shapes.SignIn{Shape: shapes.DiagnosticSignIn, Place: shapes.InJSONBody, Table: shapes.AADNonInteractiveUserSignInLogs,
			Time: when, App: "Azure Portal", UserDisplayName: "Bob", ClientApp: "Browser", Location: "NL"}
		checkSignIn(t, s, classify.FailedNonInteractiveSignIn, classify.FailedNonInteractiveSignIn)
		assert.Equal(t, s.Line(), record(s.Fill).Body().Str(), "the JSON body is the line")
	})
	t.Run("zero value", func(t *testing.T) {
		ev := classified(seedOnly, record(shapes.SignIn{}.Fill))
		assert.Equal(t, classify.Observation{
			Kind: classify.FailedSigninLogs,
			Addr: netip.MustParseAddr(shapes.Addr),
			Time: shapes.SignInTime.UnixNano(),
			Cols: classify.Columns{classify.SignInResultType: "50126", classify.SignInUserPrincipalName: shapes.UserPrincipalName},
		}, ev)
	})
}

func checkSignIn(t *testing.T, s shapes.SignIn, seedKind, bothKind classify.Kind) {
	t.Helper()
	lr := record(s.Fill)
	ev := classified(seedOnly, lr)
	require.Equal(t, seedKind, ev.Kind, "seed only, result %s (reject %q)", s.Result, ev.Reject)
	if ev.Kind != classify.SignIn { // (a sign-in no rule uses is of no one table)
		assert.Equal(t, or(s.Table, shapes.SigninLogs), ev.Kind.Source())
	}
	assert.Equal(t, netip.MustParseAddr(or(s.Addr, shapes.Addr)), ev.Addr)
	assert.Equal(t, or(s.Result, "50126"), ev.Cols[classify.SignInResultType])
	assert.Equal(t, or(s.User, shapes.UserPrincipalName), ev.Cols[classify.SignInUserPrincipalName])
	assert.Equal(t, s.Time, eventTime(lr, ev))

	ev = classified(allRules, lr)
	require.Equal(t, bothKind, ev.Kind, "both rules, result %s", s.Result)
	assert.Equal(t, s.App, ev.Cols[classify.SignInAppDisplayName])
	assert.Equal(t, s.UserDisplayName, ev.Cols[classify.SignInUserDisplayName])
	assert.Equal(t, s.ClientApp, ev.Cols[classify.SignInClientAppUsed])
	assert.Equal(t, s.Location, ev.Cols[classify.SignInLocation])
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestSyslogShapesClassify(t *testing.T) {
	shapeNames := map[shapes.SyslogShape]string{
		shapes.SentinelSyslog: "sentinel", shapes.SyslogReceiver: "receiver rfc3164", shapes.SyslogReceiver5424: "receiver rfc5424",
		shapes.Journald: "journald", shapes.RFC3164: "raw rfc3164", shapes.RFC5424: "raw rfc5424",
		shapes.AuthLogFile: "auth.log", shapes.SecureFile: "secure",
	}
	when := time.Date(2026, 3, 4, 5, 6, 7, 123_456_000, time.UTC)
	for shape, name := range shapeNames {
		// RFC 3164 has whole seconds; the receiver reads them into the Timestamp. A raw line of it
		// (or of the traditional file format) has no year, and the classifier takes no time from it.
		want := when
		switch shape {
		case shapes.SyslogReceiver:
			want = when.Truncate(time.Second)
		case shapes.RFC3164, shapes.SecureFile:
			want = time.Unix(0, 0).UTC()
		}
		// A file line's facility is its file's: auth.log and secure hold auth and authpriv alike.
		file := shape == shapes.AuthLogFile || shape == shapes.SecureFile
		for _, tc := range []struct {
			name            string
			s               shapes.Syslog
			seed, both      classify.Kind
			user            string
			repeat          int
			addr, wantProce string
		}{
			{name: "accepted", s: shapes.Syslog{Host: "db01", Process: "sshd-session", PID: 77, Facility: "authpriv",
				Message: shapes.AcceptedPassword("carol", "198.51.100.4")},
				seed: classify.LinuxLogon, both: classify.LinuxLogon, user: "carol", addr: "198.51.100.4"},
			{name: "failed password", s: shapes.Syslog{Host: "db01", Message: shapes.FailedPassword("carol", "198.51.100.4")},
				seed: classify.Unrelated, both: classify.FailedSyslogLogon, user: "carol", addr: "198.51.100.4", repeat: 1},
			{name: "repeated failures", s: shapes.Syslog{Host: "db01", Message: shapes.Repeated(3, shapes.FailedPassword("carol", "198.51.100.4"))},
				seed: classify.Unrelated, both: classify.FailedSyslogLogon, user: "carol", addr: "198.51.100.4", repeat: 3},
			{name: "sudo without a PID", s: shapes.Syslog{Host: "db01", Process: "sudo", PID: -1, Message: shapes.AcceptedPassword("carol", "198.51.100.4")},
				seed: classify.Unrelated, both: classify.Unrelated},
			{name: "daemon facility", s: shapes.Syslog{Host: "db01", Facility: "daemon", Message: shapes.AcceptedPassword("carol", "198.51.100.4")},
				seed: classify.Unrelated, both: classify.Unrelated},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				s := tc.s
				s.Shape, s.Time = shape, when
				if shape == shapes.AuthLogFile && s.Facility == "daemon" {
					t.Skip() // rsyslog writes daemon lines to another file: auth.log holds none
				}
				lr := record(s.Fill)
				ev := classified(seedOnly, lr)
				require.Equal(t, tc.seed, ev.Kind, "seed only (reject %q)", ev.Reject)
				ev = classified(allRules, lr)
				require.Equal(t, tc.both, ev.Kind, "both rules (reject %q)", ev.Reject)
				if tc.both == classify.Unrelated {
					return
				}
				assert.Equal(t, netip.MustParseAddr(tc.addr), ev.Addr)
				assert.Equal(t, classify.Syslog.String(), ev.Kind.Source())
				assert.Equal(t, s.Host, ev.Cols[classify.HostComputer])
				assert.Equal(t, or(s.Process, "sshd"), ev.Cols[classify.HostProcessName])
				if file {
					assert.Equal(t, "auth", ev.Cols[classify.HostFacility])
				} else {
					assert.Equal(t, or(s.Facility, "auth"), ev.Cols[classify.HostFacility])
				}
				assert.Equal(t, tc.user, ev.Cols[classify.HostLogonUser])
				assert.Equal(t, tc.repeat, ev.Repeat)
				assert.Equal(t, want, eventTime(lr, ev))
			})
		}
	}
	t.Run("zero value", func(t *testing.T) {
		ev := classified(seedOnly, record(shapes.Syslog{}.Fill))
		require.Equal(t, classify.LinuxLogon, ev.Kind)
		assert.Equal(t, shapes.SentinelLinuxHost, ev.Cols[classify.HostComputer])
		assert.Equal(t, shapes.User, ev.Cols[classify.HostLogonUser])
		assert.Equal(t, shapes.SyslogTime.UnixNano(), ev.Time)
	})
}

// TestSSHDGrammarsClassify: every message of the sshd grammars, in a syslog receiver record, is
// what the rules make of it.
func TestSSHDGrammarsClassify(t *testing.T) {
	const a = "198.51.100.4"
	for _, tc := range []struct {
		msg        string
		seed, both classify.Kind
	}{
		{shapes.SSHD{Addr: a}.String(), classify.LinuxLogon, classify.LinuxLogon},
		{shapes.SSHD{Method: "publickey", Addr: a, Extra: "ED25519 SHA256:Xm3p1oJ8n2Yk0Zr9c7V5b4QwErTyUiOpAsDfGhJkLzX"}.String(), classify.LinuxLogon, classify.LinuxLogon},
		{shapes.SSHD{Method: "keyboard-interactive/pam", Addr: a}.String(), classify.LinuxLogon, classify.LinuxLogon},
		{shapes.SSHD{Method: "hostbased", Addr: a, Extra: `ED25519 SHA256:abc, client user "alice", client host "192.0.2.1"`}.String(), classify.LinuxLogon, classify.LinuxLogon},
		{shapes.SSHD{Method: "gssapi-with-mic", Addr: a, Extra: "alice@EXAMPLE.COM"}.String(), classify.LinuxLogon, classify.LinuxLogon},
		{shapes.SSHD{Event: "Failed", Addr: a}.String(), classify.Unrelated, classify.FailedSyslogLogon},
		{shapes.SSHD{Event: "Failed", InvalidUser: true, User: "admin", Addr: a}.String(), classify.Unrelated, classify.FailedSyslogLogon},
		{shapes.SSHD{Event: "Failed", Method: "publickey", Addr: a, Extra: "RSA SHA256:abc"}.String(), classify.Unrelated, classify.FailedSyslogLogon},
		{shapes.SSHD{Event: "Postponed", Method: "keyboard-interactive/pam", Addr: a}.String(), classify.Unrelated, classify.Unrelated},
		{shapes.SSHD{Event: "Partial", Method: "publickey", Addr: a}.String(), classify.Unrelated, classify.Unrelated},
		{shapes.InvalidUser("admin", a, 4711), classify.Unrelated, classify.FailedSyslogLogon},
		{shapes.Repeated(4, shapes.FailedPassword("root", a)), classify.Unrelated, classify.FailedSyslogLogon},
		{shapes.ConnectionFrom(a, 4711, "10.0.0.4"), classify.Unrelated, classify.Unrelated},
		{shapes.ConnectionClosed("authenticating user root", a, 4711), classify.Unrelated, classify.Unrelated},
		{shapes.ConnectionClosed("invalid user admin", a, 4711), classify.Unrelated, classify.Unrelated},
		{shapes.ReceivedDisconnect(a, 4711, "Bye Bye [preauth]"), classify.Unrelated, classify.Unrelated},
		{shapes.ReceivedDisconnect(a, 4711, "disconnected by user"), classify.Unrelated, classify.Unrelated},
		{shapes.Disconnected("alice", a, 4711, false), classify.Unrelated, classify.Unrelated},
		{shapes.Disconnected("invalid user admin", a, 4711, true), classify.Unrelated, classify.Unrelated},
		{shapes.PAMAuthFailure(a, "root"), classify.Unrelated, classify.Unrelated},
		{shapes.PAMUnknownUser(), classify.Unrelated, classify.Unrelated},
		{shapes.SessionOpened("sshd", "alice", 1000, "alice", 0), classify.Unrelated, classify.Unrelated},
		{shapes.SessionClosed("sshd", "alice"), classify.Unrelated, classify.Unrelated},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			lr := record(shapes.Syslog{Shape: shapes.SyslogReceiver, Message: tc.msg}.Fill)
			ev := classified(seedOnly, lr)
			assert.Equal(t, tc.seed, ev.Kind, "seed only (reject %q)", ev.Reject)
			if ev = classified(allRules, lr); assert.Equal(t, tc.both, ev.Kind, "both rules (reject %q)", ev.Reject) && tc.both != classify.Unrelated {
				assert.Equal(t, netip.MustParseAddr(a), ev.Addr)
			}
		})
	}
	// sudo's own line is no logon, whatever it holds.
	lr := record(shapes.Syslog{Shape: shapes.SyslogReceiver, Process: "sudo", PID: -1,
		Message: shapes.SudoCommand("alice", "/usr/bin/grep Accepted.*from."+a+" /var/log/auth.log")}.Fill)
	assert.Equal(t, classify.Unrelated, classified(allRules, lr).Kind)
}

func TestWindowsShapesClassify(t *testing.T) {
	shapeNames := map[shapes.WindowsShape]string{
		shapes.SecurityEventRow: "securityevent", shapes.WindowsEventRow: "windowsevent",
		shapes.EventLog: "eventlog map", shapes.EventLogArray: "eventlog array",
	}
	when := time.Date(2026, 3, 4, 5, 6, 7, 500_000_000, time.UTC)
	for shape, name := range shapeNames {
		source := classify.SecurityEvent
		if shape == shapes.WindowsEventRow {
			source = classify.WindowsEvent
		}
		logon, failure := kindOf(t, "windows_logon", source.String()), kindOf(t, "host_failure", source.String())
		for _, tc := range []struct {
			name       string
			w          shapes.Windows
			seed, both classify.Kind
			source     classify.LogonSource
		}{
			{name: "4624", w: shapes.Windows{}, seed: logon, both: logon, source: source},
			{name: "4624 numbers", w: shapes.Windows{Numbers: true, LogonType: 10}, seed: logon, both: logon, source: source},
			{name: "4625", w: shapes.Windows{EventID: 4625}, seed: classify.Unrelated, both: failure, source: source},
			{name: "4625 EventData JSON", w: shapes.Windows{EventID: 4625, EventDataJSON: true}, seed: classify.Unrelated, both: failure, source: source},
			{name: "logon type 2", w: shapes.Windows{LogonType: 2}, seed: classify.Unrelated, both: classify.Unrelated},
			{name: "no address", w: shapes.Windows{Addr: "-", EventID: 4625}, seed: classify.Unrelated, both: classify.Unrelated},
			{name: "4634", w: shapes.Windows{EventID: 4634}, seed: classify.Unrelated, both: classify.Unrelated},
			{name: "4672", w: shapes.Windows{EventID: 4672}, seed: classify.Unrelated, both: classify.Unrelated},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				w := tc.w
				w.Shape, w.Time, w.Computer, w.User, w.Domain = shape, when, "WIN-FS01.corp.contoso.com", "svc-backup", "CORP"
				if w.Addr == "" {
					w.Addr = "::ffff:198.51.100.77"
				}
				lr := record(w.Fill)
				ev := classified(seedOnly, lr)
				require.Equal(t, tc.seed, ev.Kind, "seed only (reject %q)", ev.Reject)
				ev = classified(allRules, lr)
				require.Equal(t, tc.both, ev.Kind, "both rules (reject %q)", ev.Reject)
				if tc.both == classify.Unrelated {
					return
				}
				assert.Equal(t, netip.MustParseAddr("198.51.100.77"), ev.Addr)
				assert.Equal(t, tc.source.String(), ev.Kind.Source())
				assert.Equal(t, w.Computer, ev.Cols[classify.HostComputer])
				assert.Equal(t, "svc-backup", ev.Cols[classify.HostTargetUserName])
				assert.Equal(t, "CORP", ev.Cols[classify.HostTargetDomainName])
				assert.Equal(t, strconv.Itoa(or0(w.EventID, 4624)), ev.Cols[classify.HostEventID])
				assert.Equal(t, w.Activity(), ev.Cols[classify.HostActivity])
				assert.Equal(t, when, eventTime(lr, ev))
				if shape == shapes.SecurityEventRow {
					// A line of an export file, parsed into a map body as the filelog receiver's
					// json_parser does, is the same event.
					var m map[string]any
					require.NoError(t, json.Unmarshal([]byte(w.Line()), &m))
					file := plog.NewLogRecord()
					require.NoError(t, file.Body().SetEmptyMap().FromRaw(m))
					fromFile := classified(allRules, file)
					assert.Equal(t, ev.Kind, fromFile.Kind)
					assert.Equal(t, ev.Addr, fromFile.Addr)
					assert.Equal(t, ev.Cols[classify.HostLogonType], fromFile.Cols[classify.HostLogonType])
					assert.Equal(t, when, time.Unix(0, fromFile.Time).UTC())
				}
			})
		}
		// The forwarded channel of the receiver: its 4625s count under WindowsEvent, its 4624s stay
		// SecurityEvent's.
		if shape == shapes.EventLog || shape == shapes.EventLogArray {
			ev := classified(allRules, record(shapes.Windows{Shape: shape, Channel: "ForwardedEvents", EventID: 4625}.Fill))
			assert.Equal(t, classify.FailedWindowsEventLogon, ev.Kind)
			assert.Equal(t, classify.WindowsEvent.String(), ev.Kind.Source())
			ev = classified(allRules, record(shapes.Windows{Shape: shape, Channel: "ForwardedEvents"}.Fill))
			assert.Equal(t, classify.SecurityEventLogon, ev.Kind)
			assert.Equal(t, classify.SecurityEvent.String(), ev.Kind.Source())
		}
	}
}

// TestFailedLogonWithoutDomain: a 4625 of a name typed without a domain counts, its Account \name.
func TestFailedLogonWithoutDomain(t *testing.T) {
	ev := classified(allRules, record(shapes.Windows{EventID: 4625, Domain: "-"}.Fill))
	require.Equal(t, classify.FailedSecurityEventLogon, ev.Kind)
	assert.Equal(t, `\`+shapes.User, ev.Cols[classify.HostAccount])
	assert.Empty(t, ev.Cols[classify.HostTargetDomainName])
	assert.Equal(t, shapes.User, ev.Cols[classify.HostTargetUserName])
}

func or0(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

func TestAppIsUnrelated(t *testing.T) {
	for _, a := range []shapes.App{{}, {Service: "cart", Route: "/api/v1/cart", Status: 500, Millis: 300, ClientAddr: "100.64.0.1"}} {
		assert.Equal(t, classify.Unrelated, classified(allRules, record(a.Fill)).Kind)
	}
}

// TestHostileRecordsClassify: every hostile record is rejected for the reason it names, or is no
// rejection; the processor's own reason (a time beyond the skew) is no classifier's.
func TestHostileRecordsClassify(t *testing.T) {
	for _, h := range shapes.HostileRecords(shapes.Addr, time.Now()) {
		t.Run(h.Name, func(t *testing.T) {
			ev := classified(allRules, record(h.Fill))
			switch h.Reason {
			case "", shapes.ReasonFutureTime:
				assert.NotEqual(t, classify.Rejected, ev.Kind, "reject %q", ev.Reject)
			default:
				assert.Equal(t, classify.Rejected, ev.Kind)
				assert.Equal(t, h.Reason, ev.Reject)
			}
		})
	}
	// The reasons are the classifier's.
	assert.Equal(t, []string{classify.RejectMissingAddress, classify.RejectBadAddress, classify.RejectMissingResultType,
		classify.RejectBadResultType, classify.RejectBadLogonType},
		[]string{shapes.ReasonMissingAddress, shapes.ReasonBadAddress, shapes.ReasonMissingResultType,
			shapes.ReasonBadResultType, shapes.ReasonBadLogonType})
}

// TestMapsAreFresh: a test may change what Map returns without changing the next call's.
func TestMapsAreFresh(t *testing.T) {
	m := shapes.SignIn{Shape: shapes.DiagnosticSignIn}.Map()
	m["properties"].(map[string]any)["ipAddress"] = "x"
	assert.Equal(t, shapes.Addr, shapes.SignIn{Shape: shapes.DiagnosticSignIn}.Map()["properties"].(map[string]any)["ipAddress"])
}

func TestEventHubsMessageClassifies(t *testing.T) {
	msg := shapes.EventHubsMessage{
		SignIns: []shapes.SignIn{{}, {Table: shapes.AADNonInteractiveUserSignInLogs, Addr: "2001:db8::1"}, {Result: "0"}},
		Extra:   []any{map[string]any{"category": "AuditLogs"}, 7},
	}
	for _, body := range []shapes.WrapperBody{shapes.BytesBody, shapes.StringBody, shapes.MapBody} {
		msg.Body = body
		lr := record(msg.Fill)
		ev := classified(allRules, lr)
		require.Equal(t, classify.Wrapper, ev.Kind, "body %d", body)
		var kinds []classify.Kind
		var addrs []string
		allRules.Unwrap(lr, &ev, func(e *classify.Observation) {
			kinds = append(kinds, e.Kind)
			if e.Addr.IsValid() {
				addrs = append(addrs, e.Addr.String())
			}
			if e.Kind.String() == "failed_signin" {
				assert.Equal(t, shapes.SignInTime.UnixNano(), e.Time)
			}
		})
		assert.Equal(t, []classify.Kind{classify.FailedSigninLogs, classify.FailedNonInteractiveSignIn, classify.SigninLogsSuccess, classify.Unrelated, classify.Rejected}, kinds)
		assert.Equal(t, []string{shapes.Addr, "2001:db8::1", shapes.Addr}, addrs)
	}
}
