package classify

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// consoleLoginKinds are what rules C and D use of CloudTrail.
var consoleLoginKinds = []Kind{ConsoleLoginFailure, ConsoleLoginSuccess}

var consoleRules = Rules{Kinds: consoleLoginKinds}

func init() {
	// A console login is of its result.
	for _, k := range consoleLoginKinds {
		kindInvariants[k] = func(t testing.TB, ev Observation) {
			want := map[Kind]string{ConsoleLoginFailure: "failure", ConsoleLoginSuccess: "success"}[ev.Kind]
			require.Equal(t, want, strings.ToLower(ev.Cols[ConsoleLoginResult]))
		}
	}
	unwrapSeeds = append(unwrapSeeds,
		shapes.CloudTrailFile{Events: []shapes.ConsoleLogin{{}, {Result: "Failure"}, {EventName: "CheckMfa"}}}.Line(),
		`{"Records":[{"eventName":"ConsoleLogin","responseElements":"{\"ConsoleLogin\":\"Success\"}","sourceIPAddress":"::ffff:1.2.3.4"}]}`,
		"testdata/cloud/otelcontrib_cloudtrail_log.json", "testdata/cloud/awsdocs_iam_signin_failure.json")
}

// consoleLoginForms are the ways one console login arrives: every shape, and the raw event as JSON
// in a string and a bytes body.
func consoleLoginForms(c shapes.ConsoleLogin) map[string]func(plog.LogRecord) {
	raw := c
	raw.Shape = shapes.CloudTrailEvent
	inBody := c
	inBody.Place = shapes.InMapBody
	return map[string]func(plog.LogRecord){
		"sentinel row":          c.Fill,
		"sentinel row in body":  inBody.Fill,
		"raw event (map body)":  raw.Fill,
		"raw event JSON string": func(lr plog.LogRecord) { lr.Body().SetStr(raw.Line()) },
		"raw event JSON bytes":  func(lr plog.LogRecord) { lr.Body().SetEmptyBytes().FromRaw([]byte(raw.Line())) },
		"sentinel row as JSON":  func(lr plog.LogRecord) { lr.Body().SetStr(c.Line()) },
	}
}

func recordOf(fill func(plog.LogRecord)) plog.LogRecord {
	lr := plog.NewLogRecord()
	fill(lr)
	return lr
}

// TestConsoleLogins: every CloudTrail shape gives the console login's kind and columns.
func TestConsoleLogins(t *testing.T) {
	on := New(consoleRules)
	for _, tc := range []struct {
		name   string
		login  shapes.ConsoleLogin
		kind   Kind
		reject string
	}{
		{"success", shapes.ConsoleLogin{}, ConsoleLoginSuccess, ""},
		{"failure", shapes.ConsoleLogin{Result: "Failure"}, ConsoleLoginFailure, ""},
		{"result compared ignoring case", shapes.ConsoleLogin{Result: "SUCCESS"}, ConsoleLoginSuccess, ""},
		{"an IPv6 source", shapes.ConsoleLogin{Result: "Failure", Addr: "2001:db8::7"}, ConsoleLoginFailure, ""},
		{"a mapped source is unmapped", shapes.ConsoleLogin{Addr: "::ffff:203.0.113.7"}, ConsoleLoginSuccess, ""},
		{"root has no user name", shapes.ConsoleLogin{IdentityType: "Root", MFA: "Yes"}, ConsoleLoginSuccess, ""},
		{"no result", shapes.ConsoleLogin{NoResult: true}, Rejected, RejectBadLoginResult},
		{"another result", shapes.ConsoleLogin{Result: "Pending"}, Rejected, RejectBadLoginResult},
		{"a source that is a service name", shapes.ConsoleLogin{Addr: "signin.amazonaws.com"}, Rejected, RejectBadAddress},
		{"an excluded source", shapes.ConsoleLogin{Result: "Failure", Addr: "127.0.0.1"}, Unrelated, ""},
		{"another event of signin.amazonaws.com", shapes.ConsoleLogin{EventName: "CheckMfa"}, Unrelated, ""},
		{"an API call", shapes.ConsoleLogin{EventName: "DescribeInstances", EventSource: "ec2.amazonaws.com"}, Unrelated, ""},
	} {
		for form, fill := range consoleLoginForms(tc.login) {
			t.Run(tc.name+"/"+form, func(t *testing.T) {
				rec := recordOf(fill)
				ev := classifyUnchanged(t, on, rec)
				require.Equal(t, tc.kind, ev.Kind, "kind %s", ev.Kind)
				assert.Equal(t, tc.reject, ev.Reject)
				assert.Equal(t, Unrelated, classifyUnchanged(t, New(Rules{}), rec).Kind, "without a rule that uses them")
				if tc.kind != ConsoleLoginSuccess && tc.kind != ConsoleLoginFailure {
					return
				}
				want := Observation{
					Kind: tc.kind,
					Addr: mustAddr(t, tc.login),
					Time: orTime(tc.login.Time, shapes.CloudTrailTime).UnixNano(),
					Cols: Columns{ConsoleLoginResult: or(tc.login.Result, "Success"), ConsoleEventTypeName: "AwsConsoleSignIn", ConsoleUserIdentityType: or(tc.login.IdentityType, "IAMUser"), ConsoleUserIdentityUserName: shapes.User, ConsoleAWSRegion: "us-east-1", ConsoleUserAgent: ev.Cols[ConsoleUserAgent], ConsoleMFAUsed: or(tc.login.MFA, "No")},
				}
				if tc.login.IdentityType == "Root" {
					want.Cols[ConsoleUserIdentityUserName] = ""
				}
				assert.NotEmpty(t, ev.Cols[ConsoleUserAgent])
				assert.Equal(t, want, ev)
			})
		}
	}
}

func mustAddr(tb testing.TB, c shapes.ConsoleLogin) netip.Addr {
	tb.Helper()
	a, ok := ParseAddr(or(c.Addr, shapes.Addr))
	require.True(tb, ok)
	return a
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

// TestCloudTrailFile: a CloudTrail log file is a wrapper; each console login in it counts at its
// own time, other events are unrelated, elements that are no event are rejected.
func TestCloudTrailFile(t *testing.T) {
	c := New(consoleRules)
	t1 := shapes.CloudTrailTime.Add(time.Minute)
	file := shapes.CloudTrailFile{
		Events: []shapes.ConsoleLogin{
			{Result: "Failure", Addr: "198.51.100.9", Time: t1},
			{EventName: "DescribeInstances", EventSource: "ec2.amazonaws.com"},
			{},
		},
		Extra: []any{42, map[string]any{"note": "not an event"}},
	}
	want := []observed{
		{Kind: ConsoleLoginFailure, Addr: "198.51.100.9", Time: t1.UnixNano(), InWrapper: true},
		{Kind: Unrelated, InWrapper: true},
		{Kind: ConsoleLoginSuccess, Addr: shapes.Addr, Time: shapes.CloudTrailTime.UnixNano(), InWrapper: true},
		{Kind: Rejected, Reject: RejectBadWrappedRecord, InWrapper: true},
		{Kind: Rejected, Reject: RejectBadWrappedRecord, InWrapper: true},
	}
	for name, body := range map[string]shapes.WrapperBody{"bytes": shapes.BytesBody, "string": shapes.StringBody, "map": shapes.MapBody} {
		t.Run(name, func(t *testing.T) {
			file.Body = body
			rec := recordOf(file.Fill)
			assert.Equal(t, want, unwrapAll(t, c, rec))
			assert.Equal(t, Unrelated, classifyUnchanged(t, New(Rules{}), rec).Kind, "without a rule that uses them")
		})
	}

	// A file without a console login is never decoded: unrelated.
	quiet := shapes.CloudTrailFile{Events: []shapes.ConsoleLogin{{EventName: "DescribeInstances", EventSource: "ec2.amazonaws.com"}}}
	assert.Equal(t, Unrelated, classifyUnchanged(t, c, recordOf(quiet.Fill)).Kind)

	// Hostile files.
	for name, text := range map[string]string{
		"truncated":           file.Line()[:len(file.Line())-3],
		"Records not a list":  `{"Records":{"eventName":"ConsoleLogin"}}`,
		"invalid UTF-8 first": "{\"Records\":[\xff{\"eventName\":\"ConsoleLogin\"}]}",
	} {
		t.Run(name, func(t *testing.T) {
			got := unwrapAll(t, c, newRecord(t, nil, text))
			assert.Equal(t, []observed{{Kind: Rejected, Reject: RejectBadWrapper}}, got)
		})
	}
}
