package classify

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// The kinds of the parts of the classifier that run on demand, as Rules.Kinds asks for them.
var (
	hostFailureKinds   = []Kind{FailedSyslogLogon, FailedSecurityEventLogon, FailedWindowsEventLogon}
	signinSuccessKinds = []Kind{SigninLogsSuccess, NonInteractiveSuccess}
	// ruleBKinds are what rule B uses: both of the above.
	ruleBKinds = append(append([]Kind{}, hostFailureKinds...), signinSuccessKinds...)
)

// allKinds is every declared kind: every part of the classifier runs.
func allKinds() []Kind {
	var ks []Kind
	for k := range NumKinds() {
		ks = append(ks, Kind(k))
	}
	return ks
}

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

var (
	srcIP      = shapes.Addr
	signInTime = shapes.SignInTime.Format(time.RFC3339Nano)
	acceptedPw = shapes.AcceptedPassword(shapes.User, srcIP)
)

// The records of these tests are the shapes package's, the one builder of every input shape; these
// name the variants the tests start from (every call returns fresh maps for a test to change).

// sentinelSignInRow is a SigninLogs row as Log Analytics exports it (attributes, or a map body).
func sentinelSignInRow() map[string]any { return shapes.SignIn{App: "Azure Portal"}.Map() }

// diagSignInRecord is an Azure diagnostic-settings sign-in record after a JSON parse (a map body).
func diagSignInRecord() map[string]any {
	return shapes.SignIn{Shape: shapes.DiagnosticSignIn, App: "Azure Portal", UserDisplayName: "Alice Example", Location: "US"}.Map()
}

// diagSignInJSON is a diagnostic-settings sign-in as JSON text, with only the first rule's columns.
var diagSignInJSON = shapes.SignIn{Shape: shapes.DiagnosticSignIn}.Line()

// eventHubAzureSignIn is the azure_event_hub receiver's "azure" format (pkg/translator/azure): attributes.
func eventHubAzureSignIn() map[string]any {
	return shapes.SignIn{Shape: shapes.EventHubAzureSignIn}.Map()
}

// eventHubSemconvSignIn is the azure_event_hub receiver with apply_semantic_conventions: a map body.
func eventHubSemconvSignIn() map[string]any {
	return shapes.SignIn{Shape: shapes.EventHubSemconvSignIn}.Map()
}

// azureEncodingSignIn is the azure_encoding extension's output for SignInLogs, a category it has no
// mapping for: common fields mapped, properties flattened into attributes as they are.
func azureEncodingSignIn() map[string]any {
	return shapes.SignIn{Shape: shapes.AzureEncodingSignIn}.Map()
}

// sentinelSyslogRow is a row of Sentinel's Syslog table.
func sentinelSyslogRow() map[string]any { return shapes.Syslog{}.Map() }

// syslogReceiverAttrs is what the syslog receiver makes of
// <38>Nov 27 02:34:56 web01 sshd[4242]: Accepted password for alice from 203.0.113.7 port 52144 ssh2
func syslogReceiverAttrs() map[string]any { return shapes.Syslog{Shape: shapes.SyslogReceiver}.Map() }

// journaldEntry is a journald receiver body.
func journaldEntry() map[string]any { return shapes.Syslog{Shape: shapes.Journald}.Map() }

// securityEventRow is a row of Sentinel's SecurityEvent table for a network 4624.
func securityEventRow() map[string]any { return shapes.Windows{}.Map() }

// windowsEventRow is a row of Sentinel's WindowsEvent table (a 4624 of LogonType 10); EventData is
// dynamic.
func windowsEventRow() map[string]any { return shapes.Windows{Shape: shapes.WindowsEventRow}.Map() }

// windowsEventLogBody is the windowseventlog receiver's body for a 4624 of LogonType 7; array
// selects event_data_format: array.
func windowsEventLogBody(array bool) map[string]any {
	if array {
		return shapes.Windows{Shape: shapes.EventLogArray}.Map()
	}
	return shapes.Windows{Shape: shapes.EventLog}.Map()
}

// otlpAppAttrs and otlpAppBody are an ordinary application log: what most records look like.
func otlpAppAttrs() map[string]any { return shapes.App{}.Map() }

var otlpAppBody = shapes.App{}.Line()

// mustTime parses an RFC 3339 time for expectations.
func mustTime(tb testing.TB, s string) int64 {
	tb.Helper()
	t, n := parseRFC3339(s)
	require.Equal(tb, len(s), n, "bad test time %q", s)
	return t
}

// classifyUnchanged classifies rec and fails the test if the record was modified.
func classifyUnchanged(tb testing.TB, c *Classifier, rec plog.LogRecord) Observation {
	tb.Helper()
	before := plog.NewLogRecord()
	rec.CopyTo(before)
	var ev Observation
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

// tableOf is the sign-in table of an observation's kind (SigninLogs for a kind of no table).
func tableOf(ev Observation) Table {
	if ev.Kind.Source() == AADNonInteractiveUserSignInLogs.String() {
		return AADNonInteractiveUserSignInLogs
	}
	return SigninLogs
}

// sourceOf is the logon source of an observation's kind (Syslog for a kind of another source).
func sourceOf(ev Observation) LogonSource {
	for _, s := range []LogonSource{SecurityEvent, WindowsEvent} {
		if ev.Kind.Source() == s.String() {
			return s
		}
	}
	return Syslog
}

// colNamed is the value of an observation's column of that name ("" when its kind has none).
func colNamed(ev Observation, name string) string {
	if i := slices.Index(ev.Kind.Columns(), name); i >= 0 {
		return ev.Cols[i]
	}
	return ""
}

// pcommonStr is a string value.
func pcommonStr(s string) pcommon.Value { return pcommon.NewValueStr(s) }
