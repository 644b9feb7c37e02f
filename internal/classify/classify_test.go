package classify

import (
	"math"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// classifyCase is one record and what Classify must make of it. addr is checked when kind counts or
// when it is set; check, when set, looks at the rest of the Observation.
type classifyCase struct {
	name   string
	attrs  map[string]any
	body   any
	kind   Kind
	reject string
	addr   string
	check  func(t *testing.T, ev Observation)
}

func runCases(t *testing.T, c *Classifier, cases []classifyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			attrs := tc.attrs
			if attrs == nil {
				attrs = map[string]any{}
			}
			ev := classifyUnchanged(t, c, newRecord(t, attrs, tc.body))
			assert.Equal(t, tc.kind, ev.Kind, "kind (reject %q)", ev.Reject)
			assert.Equal(t, tc.reject, ev.Reject, "reject")
			if tc.addr != "" {
				assert.Equal(t, netip.MustParseAddr(tc.addr), ev.Addr, "addr")
			}
			if tc.check != nil {
				tc.check(t, ev)
			}
		})
	}
}

func signInIs(table Table, result, user string) func(t *testing.T, ev Observation) {
	return func(t *testing.T, ev Observation) {
		assert.Equal(t, table, tableOf(ev), "table")
		assert.Equal(t, result, ev.Cols[SignInResultType], "result type")
		assert.Equal(t, user, ev.Cols[SignInUserPrincipalName], "user")
		assert.Equal(t, mustTime(t, signInTime), ev.Time, "time")
	}
}

func TestSignIns(t *testing.T) {
	failed := signInIs(SigninLogs, "50126", "alice@contoso.com")
	cases := []classifyCase{
		// Sentinel / Log Analytics schema.
		{name: "sentinel/attributes", attrs: sentinelSignInRow(), kind: FailedSigninLogs, addr: srcIP, check: failed},
		{name: "sentinel/map body", body: sentinelSignInRow(), kind: FailedSigninLogs, addr: srcIP, check: failed},
		{
			name:  "sentinel/fields split between attributes and body",
			attrs: map[string]any{"Type": "SigninLogs", "IPAddress": srcIP},
			body:  with(sentinelSignInRow(), "Type", absent, "IPAddress", "198.51.100.1"),
			kind:  FailedSigninLogs, addr: srcIP, check: failed,
		},
		{
			name: "sentinel/non-interactive table", attrs: with(sentinelSignInRow(), "Type", "AADNonInteractiveUserSignInLogs"),
			kind: FailedNonInteractiveSignIn, addr: srcIP, check: signInIs(AADNonInteractiveUserSignInLogs, "50126", "alice@contoso.com"),
		},
		{name: "sentinel/ResultType int", attrs: with(sentinelSignInRow(), "ResultType", 50126), kind: FailedSigninLogs, check: failed},
		{name: "sentinel/ResultType double", attrs: with(sentinelSignInRow(), "ResultType", 50126.0), kind: FailedSigninLogs, check: failed},
		{name: "sentinel/ResultType text with .0", attrs: with(sentinelSignInRow(), "ResultType", " 50126.0 "), kind: FailedSigninLogs, check: failed},
		{name: "sentinel/IPv6", attrs: with(sentinelSignInRow(), "IPAddress", "2001:DB8:0:0::7"), kind: FailedSigninLogs, addr: "2001:db8::7"},
		{name: "sentinel/mapped IPv4", attrs: with(sentinelSignInRow(), "IPAddress", "::ffff:"+srcIP), kind: FailedSigninLogs, addr: srcIP},
		{
			name: "sentinel/export time column", attrs: with(sentinelSignInRow(), "TimeGenerated", absent, "CreatedDateTime", "11/27/2024, 2:34:56.789 AM"),
			kind: FailedSigninLogs, check: failed,
		},
		{
			name: "sentinel/unparseable time is not a rejection", attrs: with(sentinelSignInRow(), "TimeGenerated", "yesterday"),
			kind: FailedSigninLogs, addr: srcIP,
			check: func(t *testing.T, ev Observation) { assert.Zero(t, ev.Time) },
		},

		// The KQL's own exclusions.
		{name: "kql/ResultType 0 excluded", attrs: with(sentinelSignInRow(), "ResultType", "0"), kind: SignIn, addr: srcIP},
		{name: "kql/ResultType 0 int excluded", attrs: with(sentinelSignInRow(), "ResultType", 0), kind: SignIn},
		{name: "kql/ResultType 0.0 double excluded", attrs: with(sentinelSignInRow(), "ResultType", 0.0), kind: SignIn},
		{name: "kql/ResultType 50125 excluded", attrs: with(sentinelSignInRow(), "ResultType", "50125"), kind: SignIn},
		{name: "kql/ResultType 50140 excluded", attrs: with(sentinelSignInRow(), "ResultType", 50140), kind: SignIn},
		{name: "kql/127.0.0.1 excluded", attrs: with(sentinelSignInRow(), "IPAddress", "127.0.0.1"), kind: SignIn, addr: "127.0.0.1"},
		{name: "kql/::1 excluded", attrs: with(sentinelSignInRow(), "IPAddress", "::1"), kind: SignIn, addr: "::1"},
		{name: "kql/mapped 127.0.0.1 excluded", attrs: with(sentinelSignInRow(), "IPAddress", "::ffff:127.0.0.1"), kind: SignIn},
		{name: "kql/empty IPAddress", attrs: with(sentinelSignInRow(), "IPAddress", ""), kind: Rejected, reject: RejectBadAddress},

		// Values that cannot be used.
		{name: "missing IPAddress", attrs: with(sentinelSignInRow(), "IPAddress", absent), kind: Rejected, reject: RejectMissingAddress},
		{name: "garbage IPAddress", attrs: with(sentinelSignInRow(), "IPAddress", "not an address"), kind: Rejected, reject: RejectBadAddress},
		{name: "IPAddress of wrong type", attrs: with(sentinelSignInRow(), "IPAddress", 3405803783), kind: Rejected, reject: RejectBadAddress},
		{name: "leading-zero IPv4", attrs: with(sentinelSignInRow(), "IPAddress", "203.0.113.007"), kind: Rejected, reject: RejectBadAddress},
		{name: "missing ResultType", attrs: with(sentinelSignInRow(), "ResultType", absent), kind: Rejected, reject: RejectMissingResultType},
		{name: "empty ResultType", attrs: with(sentinelSignInRow(), "ResultType", " "), kind: Rejected, reject: RejectMissingResultType},
		{name: "ResultType of wrong type", attrs: with(sentinelSignInRow(), "ResultType", map[string]any{"x": 1}), kind: Rejected, reject: RejectBadResultType},
		{name: "success with missing address", attrs: with(sentinelSignInRow(), "ResultType", "0", "IPAddress", absent), kind: Rejected, reject: RejectMissingAddress},
		{name: "success with bad address", attrs: with(sentinelSignInRow(), "ResultType", "0", "IPAddress", "-"), kind: Rejected, reject: RejectBadAddress},

		// Azure diagnostic settings.
		{name: "diagnostic/map body", body: diagSignInRecord(), kind: FailedSigninLogs, addr: srcIP, check: failed},
		{name: "diagnostic/map in attributes", attrs: diagSignInRecord(), kind: FailedSigninLogs, addr: srcIP, check: failed},
		{
			name: "diagnostic/non-interactive", body: with(diagSignInRecord(), "category", "NonInteractiveUserSignInLogs"),
			kind: FailedNonInteractiveSignIn, check: signInIs(AADNonInteractiveUserSignInLogs, "50126", "alice@contoso.com"),
		},
		{name: "diagnostic/errorCode when resultType is absent", body: with(diagSignInRecord(), "resultType", absent), kind: FailedSigninLogs, check: failed},
		{
			name: "diagnostic/errorCode 0 when resultType is absent",
			body: with(diagSignInRecord(), "resultType", absent, "properties", map[string]any{"ipAddress": srcIP, "status": map[string]any{"errorCode": 0}}),
			kind: SignIn,
		},
		{
			name: "diagnostic/callerIpAddress only",
			body: with(diagSignInRecord(), "properties", map[string]any{"userPrincipalName": "alice@contoso.com"}, "callerIpAddress", "198.51.100.9"),
			kind: FailedSigninLogs, addr: "198.51.100.9",
		},
		{name: "diagnostic/other category", body: with(diagSignInRecord(), "category", "AuditLogs"), kind: Unrelated},
		{name: "diagnostic/JSON string body", body: diagSignInJSON, kind: FailedSigninLogs, addr: srcIP, check: failed},
		{
			name: "diagnostic/JSON string body, numeric resultType and no ipAddress",
			body: strings.Replace(strings.Replace(diagSignInJSON, `"resultType":"50126"`, `"resultType":50126.0`, 1), `"ipAddress":"203.0.113.7",`, "", 1),
			kind: FailedSigninLogs, addr: srcIP, check: failed,
		},
		{
			name: "diagnostic/JSON string body with leading space, excluded result",
			body: "  " + strings.Replace(diagSignInJSON, `"resultType":"50126"`, `"resultType":"50140"`, 1),
			kind: SignIn, addr: srcIP,
		},
		{
			name: "diagnostic/JSON string body, properties of the wrong type",
			body: `{"category":"NonInteractiveUserSignInLogs","resultType":"50126","callerIpAddress":"` + srcIP + `","properties":"x"}`,
			kind: FailedNonInteractiveSignIn, addr: srcIP,
			check: func(t *testing.T, ev Observation) { assert.Equal(t, AADNonInteractiveUserSignInLogs, tableOf(ev)) },
		},
		{
			name: "diagnostic/JSON string body, escaped address",
			body: `{"category":"SignInLogs","resultType":"50126","callerIpAddress":"203.0.113.\u0037","properties":{"ipAddress":""}}`,
			kind: FailedSigninLogs, addr: srcIP,
		},
		{
			name: "diagnostic/JSON string body, bad escape in address",
			body: `{"category":"SignInLogs","resultType":"50126","callerIpAddress":"203.0.113.\x"}`,
			kind: Unrelated,
		},
		{name: "diagnostic/JSON string body, other category", body: strings.Replace(diagSignInJSON, `"SignInLogs"`, `"AuditLogs"`, 1), kind: Unrelated},
		{name: "diagnostic/truncated JSON", body: diagSignInJSON[:len(diagSignInJSON)/2], kind: Unrelated},
		{
			name: "diagnostic/JSON string body, resultType object",
			body: strings.Replace(diagSignInJSON, `"resultType":"50126"`, `"resultType":{"a":1}`, 1),
			kind: Rejected, reject: RejectBadResultType,
		},

		// azure_event_hub receiver, format: azure.
		{name: "eventhub azure/net.sock.peer.addr and azure.properties", attrs: eventHubAzureSignIn(), kind: FailedSigninLogs, addr: srcIP,
			check: func(t *testing.T, ev Observation) {
				assert.Equal(t, SigninLogs, tableOf(ev))
				assert.Equal(t, "50126", ev.Cols[SignInResultType])
				assert.Equal(t, "alice@contoso.com", ev.Cols[SignInUserPrincipalName])
			}},
		{
			name:  "eventhub azure/network.peer.address only",
			attrs: with(eventHubAzureSignIn(), "net.sock.peer.addr", absent, "network.peer.address", "198.51.100.9", "azure.properties", map[string]any{"userPrincipalName": "bob@contoso.com"}),
			kind:  FailedSigninLogs, addr: "198.51.100.9",
		},
		{
			name:  "eventhub azure/net.sock.peer.addr only",
			attrs: with(eventHubAzureSignIn(), "net.sock.peer.addr", "198.51.100.10", "azure.properties", map[string]any{"userPrincipalName": "bob@contoso.com"}),
			kind:  FailedSigninLogs, addr: "198.51.100.10",
		},
		{
			name:  "eventhub azure/errorCode only",
			attrs: with(eventHubAzureSignIn(), "azure.result.type", absent),
			kind:  FailedSigninLogs, addr: srcIP, check: func(t *testing.T, ev Observation) { assert.Equal(t, "50126", ev.Cols[SignInResultType]) },
		},

		// azure_event_hub receiver with apply_semantic_conventions.
		{name: "eventhub semconv/map body", body: eventHubSemconvSignIn(), kind: FailedSigninLogs, addr: srcIP,
			check: func(t *testing.T, ev Observation) {
				assert.Equal(t, "50126", ev.Cols[SignInResultType])
				assert.Equal(t, "alice@contoso.com", ev.Cols[SignInUserPrincipalName])
			}},
		{name: "eventhub semconv/success", body: with(eventHubSemconvSignIn(), "result.type", "0"), kind: SignIn},

		// azure_encoding extension.
		{name: "azure encoding/attributes", attrs: azureEncodingSignIn(), kind: FailedSigninLogs, addr: srcIP,
			check: func(t *testing.T, ev Observation) {
				assert.Equal(t, "50126", ev.Cols[SignInResultType])
				assert.Equal(t, "alice@contoso.com", ev.Cols[SignInUserPrincipalName])
			}},
		{
			name:  "azure encoding/status.errorCode only, double",
			attrs: with(azureEncodingSignIn(), "azure.result.type", absent, "status", map[string]any{"errorCode": 50053.0}),
			kind:  FailedSigninLogs, check: func(t *testing.T, ev Observation) { assert.Equal(t, "50053", ev.Cols[SignInResultType]) },
		},
		{name: "azure encoding/other category", attrs: with(azureEncodingSignIn(), "azure.category", "AuditLogs"), kind: Unrelated},
	}
	runCases(t, New(Rules{}), cases)
}

func TestSignInExactEvent(t *testing.T) {
	var ev Observation
	New(Rules{}).Classify(newRecord(t, sentinelSignInRow(), nil), &ev)
	assert.Equal(t, Observation{
		Kind: FailedSigninLogs,
		Addr: netip.MustParseAddr(srcIP),
		Time: mustTime(t, signInTime),
		Cols: Columns{SignInResultType: "50126", SignInUserPrincipalName: "alice@contoso.com"},
	}, ev)
}

func TestRulesAreApplied(t *testing.T) {
	c := New(Rules{
		ExcludedResultTypes: []string{"50126.0"},
		ExcludedIPs:         []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::ffff:192.0.2.0/120")},
		LogonTypes:          []int{2},
	})
	cases := []classifyCase{
		{name: "excluded result type given as 50126.0", attrs: sentinelSignInRow(), kind: SignIn},
		{name: "default result types no longer excluded", attrs: with(sentinelSignInRow(), "ResultType", "0"), kind: FailedSigninLogs},
		{name: "loopback no longer excluded", attrs: with(sentinelSignInRow(), "ResultType", "1", "IPAddress", "127.0.0.1"), kind: FailedSigninLogs},
		{name: "CIDR excluded sign-in", attrs: with(sentinelSignInRow(), "ResultType", "1", "IPAddress", "10.20.30.40"), kind: SignIn},
		{name: "mapped CIDR excluded sign-in", attrs: with(sentinelSignInRow(), "ResultType", "1", "IPAddress", "192.0.2.77"), kind: SignIn},
		{name: "CIDR excluded logon", attrs: with(sentinelSyslogRow(), "SyslogMessage", "Accepted password for a from 10.1.1.1 port 22 ssh2"), kind: Unrelated},
		{name: "logon type 2 counts", attrs: with(securityEventRow(), "LogonType", 2), kind: SecurityEventLogon,
			check: func(t *testing.T, ev Observation) { assert.Equal(t, "2", ev.Cols[HostLogonType]) }},
		{name: "logon type 3 does not", attrs: securityEventRow(), kind: Unrelated},
	}
	runCases(t, c, cases)

	empty := New(Rules{ExcludedResultTypes: []string{}, ExcludedIPs: []netip.Prefix{}, LogonTypes: []int{}})
	runCases(t, empty, []classifyCase{
		{name: "empty exclusions/result 0 fails", attrs: with(sentinelSignInRow(), "ResultType", "0", "IPAddress", "::1"), kind: FailedSigninLogs},
		{name: "empty logon types/nothing counts", attrs: securityEventRow(), kind: Unrelated},
	})
}

func linuxLogonIs(computer, process, facility string) func(t *testing.T, ev Observation) {
	return func(t *testing.T, ev Observation) {
		assert.Equal(t, Syslog, sourceOf(ev), "source")
		assert.Equal(t, computer, ev.Cols[HostComputer], "computer")
		assert.Equal(t, process, ev.Cols[HostProcessName], "process")
		assert.Equal(t, facility, ev.Cols[HostFacility], "facility")
		assert.Equal(t, "alice", ev.Cols[HostLogonUser], "user")
		assert.Contains(t, ev.Cols[HostSyslogMessage], "Accepted")
	}
}

func TestLinuxLogons(t *testing.T) {
	sentinel := linuxLogonIs("web01.contoso.com", "sshd", "auth")
	receiver := linuxLogonIs("web01", "sshd", "auth")
	msg := func(m string) map[string]any { return with(sentinelSyslogRow(), "SyslogMessage", m) }
	cases := []classifyCase{
		// Sentinel Syslog.
		{name: "sentinel/attributes", attrs: sentinelSyslogRow(), kind: LinuxLogon, addr: srcIP, check: sentinel},
		{name: "sentinel/map body", body: sentinelSyslogRow(), kind: LinuxLogon, addr: srcIP, check: sentinel},
		{name: "sentinel/authpriv", attrs: with(sentinelSyslogRow(), "Facility", "authpriv"), kind: LinuxLogon,
			check: linuxLogonIs("web01.contoso.com", "sshd", "authpriv")},
		{name: "sentinel/facility as number", attrs: with(sentinelSyslogRow(), "Facility", 10), kind: LinuxLogon,
			check: linuxLogonIs("web01.contoso.com", "sshd", "authpriv")},

		// The KQL's own exclusions.
		{name: "kql/sudo excluded", attrs: with(sentinelSyslogRow(), "ProcessName", "sudo"), kind: Unrelated},
		{name: "kql/non-auth facility excluded", attrs: with(sentinelSyslogRow(), "Facility", "daemon"), kind: Unrelated},
		{name: "kql/missing facility excluded", attrs: with(sentinelSyslogRow(), "Facility", absent), kind: Unrelated},
		{name: "kql/no Accepted term", attrs: msg("Failed password for alice from " + srcIP + " port 52144 ssh2"), kind: Unrelated},
		{name: "kql/127.0.0.1 excluded", attrs: msg("Accepted password for alice from 127.0.0.1 port 52144 ssh2"), kind: Unrelated},
		{name: "kql/::1 excluded", attrs: msg("Accepted password for alice from ::1 port 52144 ssh2"), kind: Unrelated},

		// KQL `has` term semantics.
		{name: "has/NotAccepted is not the term", attrs: msg("NotAccepted password for alice from " + srcIP + " port 1 ssh2"), kind: Unrelated},
		{name: "has/Accepteds is not the term", attrs: msg("Accepteds password for alice from " + srcIP + " port 1 ssh2"), kind: Unrelated},
		{name: "has/Accepted2 is not the term", attrs: msg("Accepted2 from " + srcIP), kind: Unrelated},
		{name: "has/case-insensitive", attrs: msg("ACCEPTED connection from " + srcIP), kind: LinuxLogon, addr: srcIP},
		{name: "has/punctuation is a boundary", attrs: msg("pam: [accepted] rhost=" + srcIP), kind: LinuxLogon, addr: srcIP},
		{name: "has/a letter beyond ASCII is not a boundary", attrs: msg("Acceptedé from " + srcIP), kind: Unrelated},

		// Our improvements.
		{name: "ours/IPv6 sshd logon", attrs: msg("Accepted publickey for alice from 2001:db8::42 port 50000 ssh2: ED25519 SHA256:abc"),
			kind: LinuxLogon, addr: "2001:db8::42"},
		{name: "ours/mapped IPv4 in sshd logon", attrs: msg("Accepted publickey for alice from ::ffff:" + srcIP + " port 50000 ssh2"),
			kind: LinuxLogon, addr: srcIP},
		{name: "ours/user name that is an IP address", attrs: msg("Accepted password for 10.9.9.9 from " + srcIP + " port 22 ssh2"),
			kind: LinuxLogon, addr: srcIP, check: func(t *testing.T, ev Observation) { assert.Equal(t, "10.9.9.9", ev.Cols[HostLogonUser]) }},
		{name: "ours/user name holding a from clause", attrs: msg("Accepted password for x from 10.9.9.9 port 22 y from " + srcIP + " port 22 ssh2"),
			kind: LinuxLogon, addr: srcIP, check: func(t *testing.T, ev Observation) {
				assert.Equal(t, "x from 10.9.9.9 port 22 y", ev.Cols[HostLogonUser])
			}},
		{name: "ours/sshd-session", attrs: with(sentinelSyslogRow(), "ProcessName", "sshd-session"), kind: LinuxLogon, addr: srcIP},
		{name: "ours/keyboard-interactive/pam", attrs: msg("Accepted keyboard-interactive/pam for alice from " + srcIP + " port 22 ssh2"),
			kind: LinuxLogon, addr: srcIP},
		{name: "ours/certificate whose key ID holds an address", attrs: msg("Accepted publickey for alice from " + srcIP +
			" port 52144 ssh2: ED25519-CERT SHA256:abc ID ops from 198.51.100.1 port 22 (serial 1) CA ED25519 SHA256:def"),
			kind: LinuxLogon, addr: srcIP, check: sentinel},
		{name: "ours/certificate key ID holding a whole sshd tail", attrs: msg("Accepted publickey for alice from " + srcIP +
			" port 52144 ssh2: RSA-CERT SHA256:abc ID x from 198.51.100.1 port 22 ssh2 (serial 9) CA RSA SHA256:def"),
			kind: LinuxLogon, addr: srcIP, check: sentinel},
		{name: "ours/certificate logon from sshd-session", attrs: with(syslogReceiverAttrs(), "appname", "sshd-session", "message",
			"Accepted publickey for alice from "+srcIP+" port 52144 ssh2: ED25519-CERT SHA256:abc ID from 198.51.100.1 port 22 (serial 1) CA ED25519 SHA256:def"),
			kind: LinuxLogon, addr: srcIP, check: linuxLogonIs("web01", "sshd-session", "auth")},
		{name: "ours/hostbased logon naming the client host", attrs: msg("Accepted hostbased for alice from " + srcIP +
			` port 22 ssh2: ED25519 SHA256:abc, client user "alice", client host "198.51.100.1"`), kind: LinuxLogon, addr: srcIP, check: sentinel},
		{name: "ours/gssapi-with-mic", attrs: msg("Accepted gssapi-with-mic for alice from " + srcIP + " port 22 ssh2: alice@EXAMPLE.COM"),
			kind: LinuxLogon, addr: srcIP, check: sentinel},
		{name: "ours/Failed line with the term Accepted in the user name: its grammar's address",
			attrs: msg("Failed password for invalid user Accepted 198.51.100.1 from " + srcIP + " port 22 ssh2"),
			kind:  LinuxLogon, addr: srcIP, check: func(t *testing.T, ev Observation) { assert.Equal(t, "Accepted 198.51.100.1", ev.Cols[HostLogonUser]) }},
		{name: "ours/host name in the grammar is a bad address", attrs: msg("Accepted password for alice from gw.example.com port 22 ssh2"),
			kind: Rejected, reject: RejectBadAddress},
		{name: "seed/fallback to the first IPv4", attrs: msg("Accepted connection from " + srcIP + " to 10.0.0.4"), kind: LinuxLogon, addr: srcIP},
		{name: "seed/fallback match that is no address", attrs: msg("Accepted job 999.1.2.3"), kind: Rejected, reject: RejectBadAddress},
		{name: "seed/no address at all", attrs: msg("Accepted publickey for alice"), kind: Unrelated},

		// syslog receiver.
		{name: "receiver/rfc3164", attrs: syslogReceiverAttrs(), kind: LinuxLogon, addr: srcIP, check: receiver},
		{
			name: "receiver/rfc5424",
			attrs: with(syslogReceiverAttrs(), "version", 1, "msg_id", "-", "priority", 86, "facility", 10, "facility_text", "authpriv",
				"structured_data", map[string]any{"meta@1": map[string]any{"x": "y"}}),
			kind: LinuxLogon, addr: srcIP, check: linuxLogonIs("web01", "sshd", "authpriv"),
		},
		{name: "receiver/facility_text only", attrs: with(syslogReceiverAttrs(), "facility", absent), kind: LinuxLogon, check: receiver},
		{name: "receiver/older facility text", attrs: with(syslogReceiverAttrs(), "facility", absent, "facility_text", "security/authorization messages"),
			kind: LinuxLogon, check: linuxLogonIs("web01", "sshd", "authpriv")},
		{name: "receiver/facility as text number", attrs: with(syslogReceiverAttrs(), "facility", "4", "facility_text", absent), kind: LinuxLogon, check: receiver},
		{name: "receiver/facility as double", attrs: with(syslogReceiverAttrs(), "facility", 4.0, "facility_text", absent), kind: LinuxLogon, check: receiver},
		{name: "receiver/daemon facility", attrs: with(syslogReceiverAttrs(), "facility", 3, "facility_text", "daemon"), kind: Unrelated},
		{name: "receiver/number decides over text", attrs: with(syslogReceiverAttrs(), "facility", 3), kind: Unrelated},
		{name: "receiver/sudo", attrs: with(syslogReceiverAttrs(), "appname", "sudo"), kind: Unrelated},
		{name: "receiver/in a map body", body: syslogReceiverAttrs(), kind: LinuxLogon, check: receiver},
		{name: "receiver/timestamp attribute", attrs: with(syslogReceiverAttrs(), "timestamp", "2024-11-27T02:34:56Z"), kind: LinuxLogon,
			check: func(t *testing.T, ev Observation) { assert.Equal(t, mustTime(t, "2024-11-27T02:34:56Z"), ev.Time) }},

		// journald receiver.
		{name: "journald/body", body: journaldEntry(), kind: LinuxLogon, addr: srcIP,
			check: func(t *testing.T, ev Observation) {
				linuxLogonIs("web01", "sshd", "auth")(t, ev)
				assert.Equal(t, int64(1732674896123456000), ev.Time)
			}},
		{name: "journald/_COMM when no identifier", body: with(journaldEntry(), "SYSLOG_IDENTIFIER", absent), kind: LinuxLogon,
			check: linuxLogonIs("web01", "sshd-session", "auth")},
		{name: "journald/authpriv int", body: with(journaldEntry(), "SYSLOG_FACILITY", 10), kind: LinuxLogon},
		{name: "journald/daemon facility", body: with(journaldEntry(), "SYSLOG_FACILITY", "3"), kind: Unrelated},
		{name: "journald/no facility", body: with(journaldEntry(), "SYSLOG_FACILITY", absent), kind: Unrelated},
		{name: "journald/MESSAGE as bytes", body: with(journaldEntry(), "MESSAGE", []byte(acceptedPw)), kind: Unrelated},
	}
	runCases(t, New(Rules{}), cases)
}

func TestRawSyslogLines(t *testing.T) {
	line := "web01 sshd[4242]: " + acceptedPw
	file := func(name string) map[string]any {
		return map[string]any{"log.file.name": name, "log.file.path": "/var/log/" + name}
	}
	cases := []classifyCase{
		{name: "rfc3164 auth", body: "<38>Nov 27 02:34:56 " + line, kind: LinuxLogon, addr: srcIP, check: linuxLogonIs("web01", "sshd", "auth")},
		{name: "rfc3164 authpriv", body: "<86>Nov  7 02:34:56 " + line, kind: LinuxLogon, check: linuxLogonIs("web01", "sshd", "authpriv")},
		{name: "rfc3164 daemon", body: "<30>Nov 27 02:34:56 " + line, kind: Unrelated},
		{name: "rfc3164 without host", body: "<38>Nov 27 02:34:56 sshd[4242]: " + acceptedPw, kind: LinuxLogon,
			check: func(t *testing.T, ev Observation) {
				assert.Empty(t, ev.Cols[HostComputer])
				assert.Equal(t, "sshd", ev.Cols[HostProcessName])
			}},
		{name: "rfc3164 sudo", body: "<38>Nov 27 02:34:56 web01 sudo: " + acceptedPw, kind: Unrelated},
		{name: "rfc3164 bad PRI", body: "<999>Nov 27 02:34:56 " + line, kind: Unrelated},
		{name: "rfc3164 bad timestamp", body: "<38>Nov 27 2:34:56 " + line, kind: Unrelated},
		{
			name: "rfc5424", body: "<86>1 2024-11-27T02:34:56.123456+01:00 web01 sshd-session 4242 - - " + acceptedPw,
			kind: LinuxLogon, addr: srcIP,
			check: func(t *testing.T, ev Observation) {
				linuxLogonIs("web01", "sshd-session", "authpriv")(t, ev)
				assert.Equal(t, mustTime(t, "2024-11-27T01:34:56.123456Z"), ev.Time)
			},
		},
		{name: "rfc5424 with structured data", body: `<38>1 - web01 sshd 4242 ID47 [meta sequenceId="1" note="a \"]\" b"][x@1 y="z"] ` + acceptedPw,
			kind: LinuxLogon, addr: srcIP},
		{name: "rfc5424 with BOM", body: "<38>1 - web01 sshd - - - \ufeff" + acceptedPw, kind: LinuxLogon, addr: srcIP},
		{name: "rfc5424 unterminated structured data", body: `<38>1 - web01 sshd - - [meta x="1" ` + acceptedPw, kind: Unrelated},
		{name: "no PRI from auth.log", attrs: file("auth.log"), body: "Nov 27 02:34:56 " + line, kind: LinuxLogon, addr: srcIP,
			check: linuxLogonIs("web01", "sshd", "auth")},
		{name: "no PRI from rotated auth.log.1", attrs: file("auth.log.1"), body: "Nov 27 02:34:56 " + line, kind: LinuxLogon},
		{name: "no PRI from secure", attrs: file("secure"), body: "Nov 27 02:34:56 " + line, kind: LinuxLogon},
		{name: "no PRI from secure-20241124", attrs: file("secure-20241124"), body: "Nov 27 02:34:56 " + line, kind: LinuxLogon},
		{name: "no PRI from syslog", attrs: file("syslog"), body: "Nov 27 02:34:56 " + line, kind: Unrelated},
		{name: "no PRI and no file", body: "Nov 27 02:34:56 " + line, kind: Unrelated},
		{
			name: "no PRI, RFC 3339 timestamp from auth.log", attrs: file("auth.log"),
			body: "2024-11-27T02:34:56.123456+00:00 " + line, kind: LinuxLogon, addr: srcIP,
			check: func(t *testing.T, ev Observation) {
				assert.Equal(t, mustTime(t, "2024-11-27T02:34:56.123456Z"), ev.Time)
			},
		},
		{
			name: "no PRI, timestamp with a zone without colon from auth.log", attrs: file("auth.log"),
			body: "2024-11-27T08:04:56.123456+0530 " + line, kind: LinuxLogon, addr: srcIP,
			check: func(t *testing.T, ev Observation) {
				assert.Equal(t, mustTime(t, "2024-11-27T02:34:56.123456Z"), ev.Time)
			},
		},
		{
			name: "rfc5424, zone without colon", body: "<86>1 2024-11-26T18:34:56-0800 web01 sshd 4242 - - " + acceptedPw,
			kind: LinuxLogon, addr: srcIP,
			check: func(t *testing.T, ev Observation) { assert.Equal(t, mustTime(t, "2024-11-27T02:34:56Z"), ev.Time) },
		},
		{name: "PRI overrides the file name", attrs: file("auth.log"), body: "<30>Nov 27 02:34:56 " + line, kind: Unrelated},
	}
	runCases(t, New(Rules{}), cases)
}

func windowsLogonIs(src LogonSource, logonType string) func(t *testing.T, ev Observation) {
	return func(t *testing.T, ev Observation) {
		assert.Equal(t, src, sourceOf(ev), "source")
		assert.Equal(t, "WS01.contoso.com", ev.Cols[HostComputer], "computer")
		assert.Equal(t, "4624", ev.Cols[HostEventID])
		assert.Equal(t, logonType, ev.Cols[HostLogonType])
		assert.Equal(t, "alice", ev.Cols[HostTargetUserName])
		assert.Equal(t, "alice", ev.Cols[HostLogonUser])
		assert.Equal(t, "CONTOSO", ev.Cols[HostTargetDomainName])
		assert.Equal(t, "S-1-5-21-1-2-3-1104", ev.Cols[HostTargetUserSid])
		assert.Equal(t, mustTime(t, "2024-11-27T02:34:56.5Z"), ev.Time)
	}
}

const activity4624 = "4624 - An account was successfully logged on."

func activityIs(want string) func(t *testing.T, ev Observation) {
	return func(t *testing.T, ev Observation) {
		assert.Equal(t, want, ev.Cols[HostActivity], "activity")
		assert.Equal(t, "4624", ev.Cols[HostEventID])
	}
}

func TestWindowsLogons(t *testing.T) {
	se := windowsLogonIs(SecurityEvent, "3")
	row := func(kv ...any) map[string]any { return with(securityEventRow(), kv...) }
	cases := []classifyCase{
		// Sentinel SecurityEvent.
		{name: "securityevent/attributes", attrs: securityEventRow(), kind: SecurityEventLogon, addr: srcIP, check: se},
		{name: "securityevent/map body", body: securityEventRow(), kind: SecurityEventLogon, addr: srcIP, check: se},
		{name: "securityevent/EventID int", attrs: row("EventID", 4624), kind: SecurityEventLogon, check: se},
		{name: "securityevent/EventID double", attrs: row("EventID", 4624.0), kind: SecurityEventLogon, check: se},
		{name: "securityevent/LogonType int", attrs: row("LogonType", 3), kind: SecurityEventLogon, check: se},
		{name: "securityevent/LogonType double 10", attrs: row("LogonType", 10.0), kind: SecurityEventLogon, check: windowsLogonIs(SecurityEvent, "10")},
		{name: "securityevent/LogonType text 7", attrs: row("LogonType", " 7 "), kind: SecurityEventLogon, check: windowsLogonIs(SecurityEvent, "7")},

		// The KQL's own exclusions.
		{name: "kql/LogonType 2 excluded", attrs: row("LogonType", "2"), kind: Unrelated},
		{name: "kql/LogonType 5 excluded", attrs: row("LogonType", 5), kind: Unrelated},
		{name: "kql/IpAddress - excluded", attrs: row("IpAddress", "-"), kind: Unrelated},
		{name: "kql/EventID 4625 excluded", attrs: row("EventID", "4625"), kind: Unrelated},
		{name: "kql/127.0.0.1 excluded", attrs: row("IpAddress", "127.0.0.1"), kind: Unrelated},
		{name: "kql/::1 excluded", attrs: row("IpAddress", "::1"), kind: Unrelated},

		// Our improvements.
		{name: "ours/::ffff: mapped address", attrs: row("IpAddress", "::ffff:"+srcIP), kind: SecurityEventLogon, addr: srcIP},
		{name: "ours/IPv6 address", attrs: row("IpAddress", "fe80::1%12"), kind: SecurityEventLogon, addr: "fe80::1"},

		// Values that cannot be used.
		{name: "empty IpAddress", attrs: row("IpAddress", ""), kind: Unrelated},
		{name: "missing IpAddress", attrs: row("IpAddress", absent), kind: Unrelated},
		{name: "missing LogonType", attrs: row("LogonType", absent), kind: Unrelated},
		{name: "garbage IpAddress", attrs: row("IpAddress", "WS02"), kind: Rejected, reject: RejectBadAddress},
		{name: "IpAddress of wrong type", attrs: row("IpAddress", []any{srcIP}), kind: Rejected, reject: RejectBadAddress},
		{name: "garbage LogonType", attrs: row("LogonType", "Network"), kind: Rejected, reject: RejectBadLogonType},
		{name: "garbage EventID", attrs: row("EventID", "logon"), kind: Unrelated},

		// Sentinel WindowsEvent.
		{name: "windowsevent/EventData map", attrs: windowsEventRow(), kind: WindowsEventLogon, addr: srcIP,
			check: func(t *testing.T, ev Observation) {
				windowsLogonIs(WindowsEvent, "10")(t, ev)
				assert.Equal(t, "User32 ", ev.Cols[HostLogonProcessName])
			}},
		{
			name: "windowsevent/EventData JSON text",
			attrs: with(windowsEventRow(), "EventData", `{"SubjectUserSid":"S-1-0-0","TargetUserSid":"S-1-5-21-1-2-3-1104",`+
				`"TargetUserName":"alice","TargetDomainName":"CONTOSO","LogonType":10,"LogonProcessName":"User32 ","IpAddress":"`+srcIP+`"}`),
			kind: WindowsEventLogon, addr: srcIP, check: windowsLogonIs(WindowsEvent, "10"),
		},
		{name: "windowsevent/LogonType 2", attrs: with(windowsEventRow(), "EventData", map[string]any{"LogonType": "2", "IpAddress": srcIP}), kind: Unrelated},
		{name: "windowsevent/EventData text that is not JSON", attrs: with(windowsEventRow(), "EventData", "<EventData/>"), kind: Unrelated},

		// Activity: SecurityEvent rows keep their own; the KQL gives WindowsEvent the 4624 text, and so
		// do we to the windowseventlog receiver's events, which have no such column either.
		{name: "activity/securityevent keeps its own", attrs: row("Activity", "4624 - custom"), kind: SecurityEventLogon,
			check: activityIs("4624 - custom")},
		{name: "activity/securityevent without one", attrs: row("Activity", absent), kind: SecurityEventLogon, check: activityIs("")},
		{name: "activity/windowsevent", attrs: windowsEventRow(), kind: WindowsEventLogon, check: activityIs(activity4624)},
		{name: "activity/windowsevent JSON text", attrs: with(windowsEventRow(), "EventData",
			`{"LogonType":"3","IpAddress":"`+srcIP+`","TargetUserName":"alice"}`), kind: WindowsEventLogon, check: activityIs(activity4624)},
		{name: "activity/windowsevent with a column of that name", attrs: with(windowsEventRow(), "Activity", "other"), kind: WindowsEventLogon,
			check: activityIs(activity4624)},
		{name: "activity/windowseventlog map", body: windowsEventLogBody(false), kind: SecurityEventLogon, check: activityIs(activity4624)},
		{name: "activity/windowseventlog array", body: windowsEventLogBody(true), kind: SecurityEventLogon, check: activityIs(activity4624)},

		// windowseventlog receiver.
		{name: "windowseventlog/event_data map", body: windowsEventLogBody(false), kind: SecurityEventLogon, addr: srcIP,
			check: windowsLogonIs(SecurityEvent, "7")},
		{name: "windowseventlog/event_data array", body: windowsEventLogBody(true), kind: SecurityEventLogon, addr: srcIP,
			check: windowsLogonIs(SecurityEvent, "7")},
		{name: "windowseventlog/event_id as a number", body: with(windowsEventLogBody(false), "event_id", 4624), kind: SecurityEventLogon},
		{name: "windowseventlog/4625", body: with(windowsEventLogBody(true), "event_id", map[string]any{"id": 4625, "qualifiers": 0}), kind: Unrelated},
		{name: "windowseventlog/event_id without id", body: with(windowsEventLogBody(true), "event_id", map[string]any{"qualifiers": 0}), kind: Unrelated},
		{
			name: "windowseventlog/network logon without address",
			body: with(windowsEventLogBody(false), "event_data", map[string]any{"LogonType": "3", "IpAddress": "-"}),
			kind: Unrelated,
		},
		{
			name: "windowseventlog/malformed data array",
			body: with(windowsEventLogBody(false), "event_data", map[string]any{"data": []any{"LogonType", 3, nil, map[string]any{"LogonType": "3"}}}),
			kind: Unrelated,
		},
	}
	runCases(t, New(Rules{}), cases)
}

// TestEventTimeOutsideNanosecondRange: an event whose stated time int64 nanoseconds cannot hold
// carries the saturated time, so that the window judges it from the future or late instead of the
// processor taking it as having no time and counting it as now.
func TestEventTimeOutsideNanosecondRange(t *testing.T) {
	after := func(t *testing.T, ev Observation) { assert.Equal(t, int64(math.MaxInt64), ev.Time) }
	before := func(t *testing.T, ev Observation) { assert.Equal(t, int64(math.MinInt64), ev.Time) }
	cases := []classifyCase{
		{name: "sign-in in 9999", attrs: with(sentinelSignInRow(), "TimeGenerated", "9999-12-31T23:59:59.9999999Z"),
			kind: FailedSigninLogs, check: after},
		{name: "sign-in in year 1", attrs: with(sentinelSignInRow(), "TimeGenerated", "0001-01-01T00:00:00Z"),
			kind: FailedSigninLogs, check: before},
		{name: "sign-in created in 9999", attrs: with(sentinelSignInRow(), "TimeGenerated", absent, "CreatedDateTime", "12/31/9999, 11:59:59.999 PM"),
			kind: FailedSigninLogs, check: after},
		{name: "diagnostic JSON sign-in in 9999", body: strings.Replace(diagSignInJSON, `"time":"`+shapes.SignInTime.Format("2006-01-02T15:04:05.0000000Z"), `"time":"9999-12-31T23:59:59.9999999Z`, 1),
			kind: FailedSigninLogs, check: after},
		{name: "securityevent in 9999", attrs: with(securityEventRow(), "TimeGenerated", "9999-12-31T23:59:59.9999999Z"),
			kind: SecurityEventLogon, check: after},
		{name: "windowseventlog in 1601", body: with(windowsEventLogBody(false), "system_time", "1601-01-01T00:00:00.0000000Z"),
			kind: SecurityEventLogon, check: before},
		{name: "sentinel syslog in 9999", attrs: with(sentinelSyslogRow(), "TimeGenerated", "9999-12-31T23:59:59Z"),
			kind: LinuxLogon, check: after},
		{name: "journald realtime in 2286", body: with(journaldEntry(), "__REALTIME_TIMESTAMP", "9999999999999999"),
			kind: LinuxLogon, check: after},
		{name: "rfc5424 header in 9999", body: "<86>1 9999-12-31T23:59:59Z web01 sshd 4242 - - " + acceptedPw,
			kind: LinuxLogon, check: after},
		{name: "rfc5424 header in 1000", body: "<86>1 1000-01-01T00:00:00+0100 web01 sshd 4242 - - " + acceptedPw,
			kind: LinuxLogon, check: before},
	}
	runCases(t, New(Rules{}), cases)
}

func TestSecurityEventExactEvent(t *testing.T) {
	var ev Observation
	New(Rules{}).Classify(newRecord(t, securityEventRow(), nil), &ev)
	assert.Equal(t, Observation{
		Kind: SecurityEventLogon,
		Addr: netip.MustParseAddr(srcIP),
		Time: mustTime(t, "2024-11-27T02:34:56.5Z"),
		Cols: Columns{HostComputer: "WS01.contoso.com", HostLogonUser: "alice", HostAccount: `CONTOSO\alice`, HostAccountType: "User", HostActivity: "4624 - An account was successfully logged on.", HostEventID: "4624", HostLogonProcessName: "NtLmSsp ", HostLogonType: "3", HostLogonTypeName: "3 - Network", HostTargetUserSid: "S-1-5-21-1-2-3-1104", HostTargetUserName: "alice", HostTargetDomainName: "CONTOSO", HostResourceID: "/subscriptions/0000/resourcegroups/rg/providers/microsoft.compute/virtualmachines/ws01"},
	}, ev)
}

func TestSentinelSyslogExactEvent(t *testing.T) {
	var ev Observation
	New(Rules{}).Classify(newRecord(t, sentinelSyslogRow(), nil), &ev)
	assert.Equal(t, Observation{
		Kind: LinuxLogon,
		Addr: netip.MustParseAddr(srcIP),
		Time: mustTime(t, "2024-11-27T02:34:56Z"),
		Cols: Columns{HostComputer: "web01.contoso.com", HostLogonUser: "alice", HostIP: "10.0.0.4", HostSyslogMessage: acceptedPw, HostFacility: "auth", HostProcessName: "sshd"},
	}, ev)
}

func TestUnrelated(t *testing.T) {
	cases := []classifyCase{
		{name: "otlp app log", attrs: otlpAppAttrs(), body: otlpAppBody},
		{name: "empty record"},
		{name: "JSON app log", attrs: otlpAppAttrs(), body: `{"level":"info","msg":"listening","category":"http"}`},
		{name: "other Sentinel table", attrs: with(sentinelSignInRow(), "Type", "AzureActivity")},
		{name: "month-like text", body: "Nov 27 02:34:56 web01 sshd[1]: " + acceptedPw},
		{name: "digit text", body: "2024-11-27 everything fine"},
		{name: "map body of an app", body: map[string]any{"msg": "hello", "level": "info"}},
		{name: "Type of wrong type", attrs: map[string]any{"Type": 5, "IPAddress": srcIP}},
		{name: "category of wrong type", body: map[string]any{"category": map[string]any{"x": "SignInLogs"}}},
		{name: "bytes body", body: []byte("<38>Nov 27 02:34:56 web01 sshd[1]: " + acceptedPw)},
		{name: "slice body", body: []any{"SignInLogs", srcIP}},
		{name: "int body", body: 42},
	}
	runCases(t, New(Rules{}), cases)
}

// Each Classify call starts from a clean Observation, whatever the previous record left in it.
func TestEventIsReset(t *testing.T) {
	c := New(Rules{})
	var ev Observation
	c.Classify(newRecord(t, securityEventRow(), nil), &ev)
	require.Equal(t, SecurityEventLogon, ev.Kind)
	c.Classify(newRecord(t, otlpAppAttrs(), otlpAppBody), &ev)
	assert.Equal(t, Unrelated, ev.Kind, "an unrelated record only sets Kind")
	c.Classify(newRecord(t, with(sentinelSignInRow(), "IPAddress", "x"), nil), &ev)
	require.Equal(t, Rejected, ev.Kind)
	c.Classify(newRecord(t, sentinelSyslogRow(), nil), &ev)
	var fresh Observation
	c.Classify(newRecord(t, sentinelSyslogRow(), nil), &fresh)
	assert.Equal(t, fresh, ev, "nothing of the rejected sign-in is left")
	assert.Empty(t, ev.Reject)
}

func TestKindString(t *testing.T) {
	names := map[string]bool{}
	for k := Unrelated; k <= Rejected; k++ {
		names[k.String()] = true
	}
	assert.Len(t, names, int(Rejected)+1, "every kind has its own name")
	assert.Equal(t, "failed_signin", FailedSigninLogs.String())
}
