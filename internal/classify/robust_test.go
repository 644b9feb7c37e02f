package classify

import (
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// shapeTemplate is one real input shape, fresh on every call.
type shapeTemplate struct {
	name  string
	build func() (attrs map[string]any, body any)
}

func attrsOnly(f func() map[string]any) func() (map[string]any, any) {
	return func() (map[string]any, any) { return f(), nil }
}

func bodyOnly(f func() map[string]any) func() (map[string]any, any) {
	return func() (map[string]any, any) { return map[string]any{}, f() }
}

func stringBody(attrs map[string]any, body string) func() (map[string]any, any) {
	return func() (map[string]any, any) { return deepCopy(attrs).(map[string]any), body }
}

var shapeTemplates = []shapeTemplate{
	{"sentinel sign-in", attrsOnly(sentinelSignInRow)},
	{"diagnostic map body", bodyOnly(diagSignInRecord)},
	{"diagnostic JSON body", stringBody(map[string]any{}, diagSignInJSON)},
	{"eventhub azure", attrsOnly(eventHubAzureSignIn)},
	{"eventhub semconv", bodyOnly(eventHubSemconvSignIn)},
	{"azure encoding", attrsOnly(azureEncodingSignIn)},
	{"sentinel syslog", attrsOnly(sentinelSyslogRow)},
	{"syslog receiver", attrsOnly(syslogReceiverAttrs)},
	{"journald", bodyOnly(journaldEntry)},
	{"raw rfc3164", stringBody(map[string]any{}, shapes.Syslog{Shape: shapes.RFC3164}.Line())},
	{"raw rfc5424", stringBody(map[string]any{}, "<86>1 2024-11-27T02:34:56Z web01 sshd 4242 - [a b=\"c\"] "+acceptedPw)},
	{"raw auth.log", stringBody(shapes.Syslog{Shape: shapes.AuthLogFile}.Map(), shapes.Syslog{Shape: shapes.AuthLogFile}.Line())},
	{"securityevent", attrsOnly(securityEventRow)},
	{"windowsevent", attrsOnly(windowsEventRow)},
	{"windowseventlog map", bodyOnly(func() map[string]any { return windowsEventLogBody(false) })},
	{"windowseventlog array", bodyOnly(func() map[string]any { return windowsEventLogBody(true) })},
	{"otlp app", stringBody(otlpAppAttrs(), otlpAppBody)},

	// What the second rule's switches make something of.
	{"securityevent 4625", attrsOnly(func() map[string]any { return with(securityEventRow(), "EventID", "4625") })},
	{"windowsevent 4625", attrsOnly(func() map[string]any { return with(windowsEventRow(), "EventID", 4625) })},
	{"windowseventlog forwarded 4625", bodyOnly(func() map[string]any {
		return with(windowsEventLogBody(true), "channel", "ForwardedEvents", "event_id", map[string]any{"id": 4625})
	})},
	{"sentinel syslog failure", attrsOnly(func() map[string]any { return with(sentinelSyslogRow(), "SyslogMessage", failedPw) })},
	{"syslog receiver failure", attrsOnly(func() map[string]any { return with(syslogReceiverAttrs(), "message", failedLogin) })},
	{"journald failure", bodyOnly(func() map[string]any {
		return with(journaldEntry(), "MESSAGE", "Invalid user admin from 2001:db8::42 port 22")
	})},
	{"raw auth.log repeated failure", stringBody(shapes.Syslog{Shape: shapes.AuthLogFile}.Map(),
		shapes.Syslog{Shape: shapes.AuthLogFile, Message: shapes.Repeated(3, failedPw)}.Line())},
	{"sentinel sign-in success", attrsOnly(func() map[string]any { return sentinelSignInFull() })},
	{"diagnostic sign-in success", bodyOnly(func() map[string]any { return diagSignInFull() })},
	{"diagnostic JSON success", stringBody(map[string]any{}, diagSignInSuccessJSON)},
	// Appended, so that the fuzz seeds' template numbers stay.
	{"raw secure", stringBody(shapes.Syslog{Shape: shapes.SecureFile}.Map(), shapes.Syslog{Shape: shapes.SecureFile}.Line())},
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

// paths lists every key of m and of the maps nested in it, as key paths.
func paths(m map[string]any, prefix []string) [][]string {
	var out [][]string
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := append(append([]string{}, prefix...), k)
		out = append(out, p)
		if sub, ok := m[k].(map[string]any); ok {
			out = append(out, paths(sub, p)...)
		}
	}
	return out
}

func setPath(m map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		m = m[k].(map[string]any)
	}
	m[path[len(path)-1]] = v
}

// kindInvariants are what holds for an observation of a kind of its own; the test files of the
// kind's source add them.
var kindInvariants = map[Kind]func(t testing.TB, ev Observation){}

// checkInvariants holds for every Observation Classify returns.
func checkInvariants(t testing.TB, c *Classifier, ev Observation) {
	t.Helper()
	require.Less(t, int(ev.Kind), NumKinds())
	require.Equal(t, ev.Kind == Rejected, ev.Reject != "", "a reason exactly when rejected: %+v", ev)
	switch ev.Kind {
	case Unrelated, Wrapper, Rejected, SignIn:
	default:
		require.True(t, ev.Addr.IsValid(), "counted without an address: %+v", ev)
		require.False(t, ev.Addr.Is4In6(), "mapped address: %v", ev.Addr)
		require.False(t, ev.Addr.IsUnspecified())
		require.Empty(t, ev.Addr.Zone())
		require.False(t, c.excludedAddr(ev.Addr), "excluded address counted: %v", ev.Addr)
	}
	for p, ks := range parts {
		if slices.Contains(ks, ev.Kind) {
			require.True(t, c.runs(part(p)), "a %v of a part that does not run", ev.Kind)
		}
	}
	switch ev.Kind {
	case FailedSyslogLogon, FailedSecurityEventLogon, FailedWindowsEventLogon:
		require.GreaterOrEqual(t, ev.Repeat, 1, "repeat")
		if ev.Kind == FailedSyslogLogon {
			require.True(t, failedLogonTerms(ev.Cols[HostSyslogMessage]), "filter: %q", ev.Cols[HostSyslogMessage])
			require.NotEqual(t, "sudo", ev.Cols[HostProcessName])
		} else {
			require.Equal(t, "4625", ev.Cols[HostEventID])
		}
	case SecurityEventLogon, WindowsEventLogon:
		require.Equal(t, "4624", ev.Cols[HostEventID])
	case SigninLogsSuccess, NonInteractiveSuccess:
		require.True(t, c.excludedResult(ev.Cols[SignInResultType]), "success with result %q", ev.Cols[SignInResultType])
	case FailedSigninLogs, FailedNonInteractiveSignIn:
		require.False(t, c.excludedResult(ev.Cols[SignInResultType]), "failure with result %q", ev.Cols[SignInResultType])
	case SignIn:
		require.False(t, c.runs(signinSuccesses) && c.excludedResult(ev.Cols[SignInResultType]) && !c.excludedAddr(ev.Addr),
			"a success that should be a successful sign-in: %+v", ev)
	}
	if check := kindInvariants[ev.Kind]; check != nil {
		check(t, ev)
	}
	if ev.Kind != Rejected && ev.Kind != Unrelated { // (what was read before the record was given up on may be left)
		for i := len(ev.Kind.Columns()); i < MaxColumns; i++ {
			require.Empty(t, ev.Cols[i], "column %d past the %v's", i, ev.Kind)
		}
	}
	switch ev.Kind {
	case FailedSyslogLogon, FailedSecurityEventLogon, FailedWindowsEventLogon:
	default:
		require.Zero(t, ev.Repeat, "repeat of a %v", ev.Kind)
	}
}

// classifiers are the default classifier and the one with both of the second rule's switches on.
func classifiers() []*Classifier {
	return []*Classifier{New(Rules{}), New(Rules{Kinds: ruleBKinds})}
}

var wrongValues = []any{
	map[string]any{"x": "y", "errorCode": map[string]any{}},
	[]byte{0xff, 0x00, '<'},
	[]any{"203.0.113.7", 4624, nil},
	true,
	nil,
	int64(math.MinInt64),
	math.NaN(),
	math.Inf(-1),
	1e300,
	"\xff\xfe\xfd",
	"",
	"-",
	"Accepted \xff for \xff from \xff port 1 ssh2",
}

// Every field of every shape, replaced by a value of the wrong type: no panic, record untouched.
func TestWrongTypesEverywhere(t *testing.T) {
	for _, c := range classifiers() {
		wrongTypesEverywhere(t, c)
	}
}

func wrongTypesEverywhere(t *testing.T, c *Classifier) {
	for _, tpl := range shapeTemplates {
		attrs, body := tpl.build()
		var targets []struct {
			inBody bool
			path   []string
		}
		for _, p := range paths(attrs, nil) {
			targets = append(targets, struct {
				inBody bool
				path   []string
			}{false, p})
		}
		if m, ok := body.(map[string]any); ok {
			for _, p := range paths(m, nil) {
				targets = append(targets, struct {
					inBody bool
					path   []string
				}{true, p})
			}
		}
		for _, target := range targets {
			for _, wrong := range wrongValues {
				a, b := tpl.build()
				if target.inBody {
					setPath(b.(map[string]any), target.path, wrong)
				} else {
					setPath(a, target.path, wrong)
				}
				ev := classifyUnchanged(t, c, newRecord(t, a, b))
				checkInvariants(t, c, ev)
			}
		}
	}
}

func TestWrongBodyTypes(t *testing.T) {
	for _, c := range classifiers() {
		for _, tpl := range shapeTemplates {
			for _, wrong := range wrongValues {
				attrs, _ := tpl.build()
				checkInvariants(t, c, classifyUnchanged(t, c, newRecord(t, attrs, wrong)))
			}
		}
	}
}

// One MiB messages must not make Classify slow or fail: every scan over a message is linear.
func TestHugeMessages(t *testing.T) {
	const mib = 1 << 20
	fills := map[string]string{
		"accepted":    strings.Repeat("Accepted ", mib/9),
		"from clause": "Accepted password for " + strings.Repeat(" from 1.2.3.4 port 22", mib/21),
		"from only":   "Accepted password for " + strings.Repeat(" from ", mib/6),
		"digits":      "Accepted " + strings.Repeat("1", mib),
		"dots":        "Accepted " + strings.Repeat("1.2.", mib/4),
		"letters":     strings.Repeat("a", mib),
		"invalid":     "Accepted " + strings.Repeat("\xff", mib),
		// The failed-logon paths: no term Accepted.
		"failed from clause": "Failed password for " + strings.Repeat(" from 1.2.3.4 port 22", mib/21),
		"failed from only":   "Failed password for " + strings.Repeat(" from ", mib/6),
		"failed digits":      "from " + strings.Repeat("1", mib),
		"failed dots":        "from " + strings.Repeat("1.2.", mib/4),
		"failed terms":       strings.Repeat("from disconnecter ", mib/18),
		"failed brackets":    "from " + strings.Repeat("[preauth", mib/8),
		"repeated":           "message repeated 9 times: [ " + strings.Repeat("Failed from ", mib/12),
		"session":            "Starting session: " + strings.Repeat(" from port id ", mib/14),
		"invalid runes":      "from " + strings.Repeat("\xe4\xb8", mib/2),
	}
	for name, msg := range fills {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			for _, c := range classifiers() {
				for _, rec := range []plog.LogRecord{
					newRecord(t, with(sentinelSyslogRow(), "SyslogMessage", msg), nil),
					newRecord(t, with(syslogReceiverAttrs(), "message", msg), nil),
					newRecord(t, map[string]any{}, "<38>Nov 27 02:34:56 web01 sshd[1]: "+msg),
					newRecord(t, map[string]any{}, `{"category":"SignInLogs","x":"`+msg+`"}`),
					newRecord(t, map[string]any{}, `{"category":"SignInLogs","resultType":0,"callerIpAddress":"1.2.3.4","x":"`+msg+`"}`),
					newRecord(t, with(sentinelSignInRow(), "IPAddress", msg), nil),
					newRecord(t, with(sentinelSignInRow(), "ResultType", "0", "AppDisplayName", msg), nil),
					newRecord(t, with(securityEventRow(), "IpAddress", msg), nil),
					newRecord(t, with(securityEventRow(), "EventID", 4625, "IpAddress", msg), nil),
				} {
					checkInvariants(t, c, classifyUnchanged(t, c, rec))
				}
			}
			assert.Less(t, time.Since(start), 10*time.Second)
		})
	}
}

func TestDeeplyNested(t *testing.T) {
	for _, c := range classifiers() {
		deeplyNested(t, c)
	}
}

func deeplyNested(t *testing.T, c *Classifier) {
	for _, key := range []string{"properties", "azure.properties", "status", "event_data", "EventData", "data", "event_id"} {
		t.Run(key, func(t *testing.T) {
			for _, tpl := range shapeTemplates {
				attrs, body := tpl.build()
				rec := newRecord(t, attrs, body)
				if rec.Body().Type() == pcommon.ValueTypeMap {
					putDeep(rec.Body().Map(), key, 3_000)
				}
				putDeep(rec.Attributes(), key, 3_000)
				checkInvariants(t, c, classifyUnchanged(t, c, rec))
			}
		})
	}
	// JSON nested beyond the decoder's limit is just not a sign-in.
	deep := `{"category":"SignInLogs","properties":` + strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000) + `}`
	assert.Equal(t, Unrelated, classifyUnchanged(t, c, newRecord(t, map[string]any{}, deep)).Kind)
}

func TestConcurrentUse(t *testing.T) {
	for _, c := range classifiers() {
		concurrentUse(t, c)
	}
}

func concurrentUse(t *testing.T, c *Classifier) {
	recs := make([]plog.LogRecord, 0, len(shapeTemplates))
	for _, tpl := range shapeTemplates {
		a, b := tpl.build()
		recs = append(recs, newRecord(t, a, b))
	}
	want := make([]Observation, len(recs))
	for i, r := range recs {
		c.Classify(r, &want[i])
	}
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			ok := true
			for n := 0; n < 200; n++ {
				for i, r := range recs {
					var ev Observation
					c.Classify(r, &ev)
					ok = ok && ev == want[i]
				}
			}
			done <- ok
		}()
	}
	for g := 0; g < 4; g++ {
		assert.True(t, <-done)
	}
}
