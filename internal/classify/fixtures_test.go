package classify

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// The one fixture builder: a LogRecord built the way receivers build them, from raw Go values
// (string, int, float64, bool, []byte, map[string]any, []any). A nil body leaves the body empty.
func newRecord(tb testing.TB, attrs map[string]any, body any) plog.LogRecord {
	tb.Helper()
	rec := plog.NewLogRecord()
	require.NoError(tb, rec.Attributes().FromRaw(attrs))
	if body != nil {
		require.NoError(tb, rec.Body().FromRaw(body))
	}
	return rec
}

// absent, as a value given to with, removes the key.
var absent = &struct{ name string }{"absent"}

// with sets (or, for absent, removes) key/value pairs in m and returns it.
func with(m map[string]any, kv ...any) map[string]any {
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == absent {
			delete(m, k)
			continue
		}
		m[k] = kv[i+1]
	}
	return m
}

const (
	srcIP      = "203.0.113.7"
	signInTime = "2024-11-27T02:34:56.789Z"
	acceptedPw = "Accepted password for alice from " + srcIP + " port 52144 ssh2"
)

// Real shapes, one function each; every call returns fresh maps for a test to change.

// sentinelSignInRow is a SigninLogs row as Log Analytics exports it (attributes, or a map body).
func sentinelSignInRow() map[string]any {
	return map[string]any{
		"TenantId":          "7c759f10-811c-4db8-ad6d-f07d8ae3f8ea",
		"SourceSystem":      "Azure AD",
		"OperationName":     "Sign-in activity",
		"Category":          "SignInLogs",
		"TimeGenerated":     signInTime,
		"ResultType":        "50126",
		"ResultDescription": "Invalid username or password or Invalid on-premise username or password.",
		"AppDisplayName":    "Azure Portal",
		"IPAddress":         srcIP,
		"UserPrincipalName": "alice@contoso.com",
		"Type":              "SigninLogs",
	}
}

// diagSignInRecord is an Azure diagnostic-settings sign-in record after a JSON parse (a map body).
func diagSignInRecord() map[string]any {
	return map[string]any{
		"time":              signInTime,
		"resourceId":        "/tenants/7c759f10-811c-4db8-ad6d-f07d8ae3f8ea/providers/Microsoft.aadiam",
		"operationName":     "Sign-in activity",
		"operationVersion":  "1.0",
		"category":          "SignInLogs",
		"tenantId":          "7c759f10-811c-4db8-ad6d-f07d8ae3f8ea",
		"resultType":        "50126",
		"resultSignature":   "None",
		"resultDescription": "Invalid username or password or Invalid on-premise username or password.",
		"durationMs":        0,
		"callerIpAddress":   srcIP,
		"correlationId":     "a75a10bd-c126-486b-9742-c03110d36262",
		"identity":          "Alice Example",
		"Level":             4,
		"location":          "US",
		"properties": map[string]any{
			"id":                "0231f922-93fa-4005-bb11-b344eca03c01",
			"createdDateTime":   "2024-11-27T02:34:56.7890000+00:00",
			"userDisplayName":   "Alice Example",
			"userPrincipalName": "alice@contoso.com",
			"appDisplayName":    "Azure Portal",
			"ipAddress":         srcIP,
			"status": map[string]any{
				"errorCode":     50126,
				"failureReason": "Invalid username or password or Invalid on-premise username or password.",
			},
		},
	}
}

const diagSignInJSON = `{"time":"2024-11-27T02:34:56.789Z","resourceId":"/tenants/7c759f10/providers/Microsoft.aadiam",` +
	`"operationName":"Sign-in activity","category":"SignInLogs","resultType":"50126","callerIpAddress":"203.0.113.7",` +
	`"Level":4,"properties":{"createdDateTime":"2024-11-27T02:34:56.789+00:00","userPrincipalName":"alice@contoso.com",` +
	`"ipAddress":"203.0.113.7","status":{"errorCode":50126,"failureReason":"Invalid username or password."}}}`

// eventHubAzureSignIn is the azure_event_hub receiver's "azure" format (pkg/translator/azure): attributes.
func eventHubAzureSignIn() map[string]any {
	return map[string]any{
		"azure.category":          "SignInLogs",
		"azure.operation.name":    "Sign-in activity",
		"azure.operation.version": "1.0",
		"azure.result.type":       "50126",
		"azure.result.signature":  "None",
		"azure.tenant.id":         "7c759f10-811c-4db8-ad6d-f07d8ae3f8ea",
		"cloud.provider":          "azure",
		"cloud.region":            "US",
		"net.sock.peer.addr":      srcIP,
		"azure.properties": map[string]any{
			"userPrincipalName": "alice@contoso.com",
			"ipAddress":         srcIP,
			"status":            map[string]any{"errorCode": 50126},
		},
	}
}

// eventHubSemconvSignIn is the azure_event_hub receiver with apply_semantic_conventions: a map body.
func eventHubSemconvSignIn() map[string]any {
	return map[string]any{
		"category":             "SignInLogs",
		"operation.name":       "Sign-in activity",
		"result.type":          "50126",
		"tenant.id":            "7c759f10-811c-4db8-ad6d-f07d8ae3f8ea",
		"cloud.region":         "US",
		"network.peer.address": srcIP,
		"properties": map[string]any{
			"userPrincipalName": "alice@contoso.com",
			"ipAddress":         srcIP,
			"status":            map[string]any{"errorCode": 50126},
		},
	}
}

// azureEncodingSignIn is the azure_encoding extension's output for SignInLogs, a category it has no
// mapping for: common fields mapped, properties flattened into attributes as they are.
func azureEncodingSignIn() map[string]any {
	return map[string]any{
		"azure.category":          "SignInLogs",
		"azure.operation.name":    "Sign-in activity",
		"azure.operation.version": "1.0",
		"azure.result.type":       "50126",
		"azure.correlation_id":    "a75a10bd-c126-486b-9742-c03110d36262",
		"network.peer.address":    srcIP,
		"ipAddress":               srcIP,
		"userPrincipalName":       "alice@contoso.com",
		"status":                  map[string]any{"errorCode": 50126, "failureReason": "Invalid username or password."},
	}
}

// sentinelSyslogRow is a row of Sentinel's Syslog table.
func sentinelSyslogRow() map[string]any {
	return map[string]any{
		"TimeGenerated": "2024-11-27T02:34:56Z",
		"Computer":      "web01.contoso.com",
		"HostIP":        "10.0.0.4",
		"Facility":      "auth",
		"SeverityLevel": "info",
		"ProcessID":     4242,
		"ProcessName":   "sshd",
		"SyslogMessage": acceptedPw,
		"Type":          "Syslog",
	}
}

// syslogReceiverAttrs is what the syslog receiver makes of
// <38>Nov 27 02:34:56 web01 sshd[4242]: Accepted password for alice from 203.0.113.7 port 52144 ssh2
func syslogReceiverAttrs() map[string]any {
	return map[string]any{
		"appname":       "sshd",
		"hostname":      "web01",
		"proc_id":       "4242",
		"priority":      38,
		"facility":      4,
		"facility_text": "auth",
		"message":       acceptedPw,
	}
}

// journaldEntry is a journald receiver body.
func journaldEntry() map[string]any {
	return map[string]any{
		"MESSAGE":              acceptedPw,
		"PRIORITY":             "6",
		"SYSLOG_FACILITY":      "4",
		"SYSLOG_IDENTIFIER":    "sshd",
		"SYSLOG_PID":           "4242",
		"_COMM":                "sshd-session",
		"_EXE":                 "/usr/lib/openssh/sshd-session",
		"_HOSTNAME":            "web01",
		"_PID":                 "4242",
		"_SYSTEMD_UNIT":        "ssh.service",
		"_TRANSPORT":           "syslog",
		"__REALTIME_TIMESTAMP": "1732674896123456",
	}
}

// securityEventRow is a row of Sentinel's SecurityEvent table for a network 4624.
func securityEventRow() map[string]any {
	return map[string]any{
		"TimeGenerated":             "2024-11-27T02:34:56.5Z",
		"Account":                   `CONTOSO\alice`,
		"AccountType":               "User",
		"Computer":                  "WS01.contoso.com",
		"EventSourceName":           "Microsoft-Windows-Security-Auditing",
		"Channel":                   "Security",
		"EventID":                   "4624",
		"Activity":                  "4624 - An account was successfully logged on.",
		"IpAddress":                 srcIP,
		"IpPort":                    "50123",
		"LogonProcessName":          "NtLmSsp ",
		"LogonType":                 "3",
		"LogonTypeName":             "3 - Network",
		"TargetUserSid":             "S-1-5-21-1-2-3-1104",
		"TargetUserName":            "alice",
		"TargetDomainName":          "CONTOSO",
		"_ResourceId":               "/subscriptions/0000/resourcegroups/rg/providers/microsoft.compute/virtualmachines/ws01",
		"EventData":                 "",
		"Type":                      "SecurityEvent",
		"AuthenticationPackageName": "NTLM",
	}
}

// windowsEventRow is a row of Sentinel's WindowsEvent table; EventData is dynamic.
func windowsEventRow() map[string]any {
	return map[string]any{
		"TimeGenerated": "2024-11-27T02:34:56.5Z",
		"Channel":       "Security",
		"Computer":      "WS01.contoso.com",
		"EventID":       4624,
		"Provider":      "Microsoft-Windows-Security-Auditing",
		"Type":          "WindowsEvent",
		"EventData": map[string]any{
			"SubjectUserSid":   "S-1-0-0",
			"TargetUserSid":    "S-1-5-21-1-2-3-1104",
			"TargetUserName":   "alice",
			"TargetDomainName": "CONTOSO",
			"LogonType":        "10",
			"LogonProcessName": "User32 ",
			"IpAddress":        srcIP,
			"IpPort":           "0",
		},
	}
}

// windowsEventLogBody is the windowseventlog receiver's body for a 4624; array selects
// event_data_format: array.
func windowsEventLogBody(array bool) map[string]any {
	data := [][2]string{
		{"SubjectUserSid", "S-1-0-0"},
		{"TargetUserSid", "S-1-5-21-1-2-3-1104"},
		{"TargetUserName", "alice"},
		{"TargetDomainName", "CONTOSO"},
		{"LogonType", "7"},
		{"LogonProcessName", "User32 "},
		{"IpAddress", srcIP},
		{"IpPort", "0"},
	}
	var eventData map[string]any
	if array {
		elems := make([]any, len(data))
		for i, d := range data {
			elems[i] = map[string]any{d[0]: d[1]}
		}
		eventData = map[string]any{"data": elems}
	} else {
		eventData = map[string]any{}
		for _, d := range data {
			eventData[d[0]] = d[1]
		}
	}
	return map[string]any{
		"channel":     "Security",
		"computer":    "WS01.contoso.com",
		"event_id":    map[string]any{"id": 4624, "qualifiers": 0},
		"keywords":    []any{"Audit Success"},
		"level":       "Information",
		"message":     "An account was successfully logged on.",
		"opcode":      "Info",
		"provider":    map[string]any{"name": "Microsoft-Windows-Security-Auditing", "guid": "{54849625-5478-4994-a5ba-3e3b0328c30d}", "event_source": ""},
		"record_id":   12345,
		"system_time": "2024-11-27T02:34:56.5000000Z",
		"task":        "Logon",
		"event_data":  eventData,
	}
}

// otlpAppAttrs and otlpAppBody are an ordinary application log: what most records look like.
func otlpAppAttrs() map[string]any {
	return map[string]any{
		"http.request.method":       "GET",
		"url.path":                  "/api/v1/items",
		"http.response.status_code": "200",
		"service.name":              "inventory",
		"trace.flags":               "01",
	}
}

const otlpAppBody = "GET /api/v1/items 200 12ms"

// mustTime parses an RFC 3339 time for expectations.
func mustTime(tb testing.TB, s string) int64 {
	tb.Helper()
	t, n := parseRFC3339(s)
	require.Equal(tb, len(s), n, "bad test time %q", s)
	return t
}

// classifyUnchanged classifies rec and fails the test if the record was modified.
func classifyUnchanged(tb testing.TB, c *Classifier, rec plog.LogRecord) Event {
	tb.Helper()
	before := plog.NewLogRecord()
	rec.CopyTo(before)
	var ev Event
	c.Classify(rec, &ev)
	require.True(tb, sameRecord(before, rec), "Classify modified the record")
	return ev
}

func sameRecord(a, b plog.LogRecord) bool {
	same := a.Timestamp() == b.Timestamp() && a.ObservedTimestamp() == b.ObservedTimestamp() &&
		a.SeverityNumber() == b.SeverityNumber() && a.SeverityText() == b.SeverityText() &&
		a.Flags() == b.Flags() && a.EventName() == b.EventName()
	if !same {
		return false
	}
	if a.Attributes().Equal(b.Attributes()) && a.Body().Equal(b.Body()) {
		return true
	}
	// Equal is false for a NaN double even when nothing changed; compare printed forms instead.
	return fmt.Sprintf("%#v %#v", a.Attributes().AsRaw(), a.Body().AsRaw()) ==
		fmt.Sprintf("%#v %#v", b.Attributes().AsRaw(), b.Body().AsRaw())
}

// putDeep nests depth maps under key in m: a deeply nested body.
func putDeep(m pcommon.Map, key string, depth int) {
	for i := 0; i < depth; i++ {
		m = m.PutEmptyMap(key)
	}
	m.PutStr("ipAddress", srcIP)
}
