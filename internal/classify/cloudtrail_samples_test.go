package classify

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// The published CloudTrail samples of testdata/cloud (see its README for sources and licences).

// compact is the JSON on one line, as CloudTrail writes its log files.
func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, json.Compact(&b, []byte(s)))
	return b.String()
}

// consoleSeen is what a console login of a sample is read as.
type consoleSeen struct {
	Kind                          Kind
	Reject                        string
	Addr, User, Type, MFA, Result string
	Region, EventType, Time       string
}

func seenOf(e *Observation) consoleSeen {
	s := consoleSeen{Kind: e.Kind, Reject: e.Reject, User: e.Cols[ConsoleUserIdentityUserName], Type: e.Cols[ConsoleUserIdentityType],
		MFA: e.Cols[ConsoleMFAUsed], Result: e.Cols[ConsoleLoginResult], Region: e.Cols[ConsoleAWSRegion], EventType: e.Cols[ConsoleEventTypeName]}
	if e.Addr.IsValid() {
		s.Addr = e.Addr.String()
	}
	if e.Time != 0 {
		s.Time = timeText(e.Time)
	}
	return s
}

func timeText(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// TestOTelContribCloudTrailFile: the OpenTelemetry Collector's own CloudTrail test file, as the
// filelog receiver hands it over (the whole file as one body, pretty-printed as published, or on
// one line as CloudTrail writes it; a string or bytes; a map after a JSON parse): one console login
// among seven events, the others unrelated, the Insights event (no eventName) too.
func TestOTelContribCloudTrailFile(t *testing.T) {
	text := cloudSample(t, "otelcontrib_cloudtrail_log.json")
	c := New(consoleRules)
	unrelated := consoleSeen{Kind: Unrelated}
	want := []consoleSeen{unrelated, unrelated, unrelated, unrelated, unrelated,
		{Kind: ConsoleLoginSuccess, Addr: "192.0.2.1", Type: "IdentityCenterUser", MFA: "true", Result: "Success",
			Region: "us-east-1", EventType: "AwsConsoleSignIn", Time: "2025-06-15T14:30:00Z"},
		unrelated}
	var parsed map[string]any
	require.NoError(t, json.Unmarshal([]byte(text), &parsed))
	for name, fill := range map[string]func(plog.LogRecord){
		"as published, string":   func(lr plog.LogRecord) { lr.Body().SetStr(text) },
		"one line, string":       func(lr plog.LogRecord) { lr.Body().SetStr(compact(t, text)) },
		"one line, bytes":        func(lr plog.LogRecord) { lr.Body().SetEmptyBytes().FromRaw([]byte(compact(t, text))) },
		"parsed into a map body": func(lr plog.LogRecord) { require.NoError(t, lr.Body().SetEmptyMap().FromRaw(parsed)) },
	} {
		t.Run(name, func(t *testing.T) {
			rec := recordOf(fill)
			ev := classifyUnchanged(t, c, rec)
			require.Equal(t, Wrapper, ev.Kind)
			var got []consoleSeen
			c.Unwrap(rec, &ev, func(e *Observation) { got = append(got, seenOf(e)) })
			assert.Equal(t, want, got)
			assert.Equal(t, Unrelated, classifyUnchanged(t, New(Rules{}), rec).Kind, "no rule reads CloudTrail")
		})
	}

	// Each event alone, as forwarded one by one (a map body after a JSON parse).
	for i, r := range parsed["Records"].([]any) {
		ev := classifyUnchanged(t, c, newRecord(t, nil, r))
		got := seenOf(&ev)
		if want[i].Kind == Unrelated {
			got = consoleSeen{Kind: ev.Kind}
		}
		assert.Equal(t, want[i], got, "event %d alone", i)
	}
}

// TestAWSDocsSignInEvents: the IAM User Guide's sign-in examples, as JSON bodies and after a parse.
func TestAWSDocsSignInEvents(t *testing.T) {
	c := New(consoleRules)
	for _, tc := range []struct {
		file string
		want consoleSeen
	}{
		{"awsdocs_iam_signin_failure.json", consoleSeen{Kind: ConsoleLoginFailure, Addr: "192.0.2.100", User: "JaneDoe",
			Type: "IAMUser", MFA: "No", Result: "Failure", Region: "us-east-2", Time: "2014-07-08T17:35:27Z"}},
		{"awsdocs_iam_signin_failure_hidden_user.json", consoleSeen{Kind: ConsoleLoginFailure, Addr: "192.0.2.101",
			User: "HIDDEN_DUE_TO_SECURITY_REASONS", Type: "IAMUser", MFA: "No", Result: "Failure", Region: "us-east-2",
			EventType: "AwsConsoleSignin", Time: "2015-03-31T22:20:42Z"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			text := cloudSample(t, tc.file)
			ev := classifyUnchanged(t, c, newRecord(t, nil, text))
			assert.Equal(t, tc.want, seenOf(&ev), "JSON string body")
			ev = classifyUnchanged(t, c, newRecord(t, nil, []byte(text)))
			assert.Equal(t, tc.want, seenOf(&ev), "JSON bytes body")
			var parsed map[string]any
			require.NoError(t, json.Unmarshal([]byte(text), &parsed))
			ev = classifyUnchanged(t, c, newRecord(t, nil, parsed))
			assert.Equal(t, tc.want, seenOf(&ev), "map body")
		})
	}

	// The success example is not JSON as the page publishes it (its Markdown escaping left "\." in a
	// string): a body that is not JSON is unrelated. With the escapes undone it is a success.
	text := cloudSample(t, "awsdocs_iam_signin_success.json")
	assert.False(t, json.Valid([]byte(text)))
	assert.Equal(t, Unrelated, classifyUnchanged(t, c, newRecord(t, nil, text)).Kind)
	ev := classifyUnchanged(t, c, newRecord(t, nil, strings.ReplaceAll(text, `\.`, ".")))
	assert.Equal(t, consoleSeen{Kind: ConsoleLoginSuccess, Addr: "192.0.2.110", User: "JohnDoe", Type: "IAMUser",
		MFA: "No", Result: "Success", Region: "us-east-2", Time: "2014-07-16T15:49:27Z"}, seenOf(&ev))
}
