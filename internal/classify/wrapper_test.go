package classify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// wrapperOf is Azure diagnostic settings' Event Hubs message holding records (maps after a JSON
// parse, or anything else a hostile sender puts there).
func wrapperOf(records ...any) map[string]any {
	return map[string]any{"records": records}
}

// wrapperJSON is the wrapper as the Kafka receiver hands it over: JSON text.
func wrapperJSON(tb testing.TB, records ...any) string {
	tb.Helper()
	b, err := json.Marshal(wrapperOf(records...))
	require.NoError(tb, err)
	return string(b)
}

// diagSignInFrom is a diagnostic-settings sign-in of category cat from ip with result code.
func diagSignInFrom(cat, ip, result, when string) map[string]any {
	r := diagSignInRecord()
	r["category"], r["callerIpAddress"], r["resultType"], r["time"] = cat, ip, result, when
	p := r["properties"].(map[string]any)
	p["ipAddress"] = ip
	delete(p, "createdDateTime")
	return r
}

// observed is what Unwrap yielded for one element.
type observed struct {
	Kind      Kind
	Reject    string
	Addr      string
	Table     Table
	User      string
	Time      int64
	InWrapper bool
}

// unwrapAll classifies rec, requires it to be a Wrapper, and returns what Unwrap yields, checking
// that the record was not modified.
func unwrapAll(tb testing.TB, c *Classifier, rec plog.LogRecord) []observed {
	tb.Helper()
	ev := classifyUnchanged(tb, c, rec)
	require.Equal(tb, Wrapper, ev.Kind, "Classify sees a wrapper")
	before := plog.NewLogRecord()
	rec.CopyTo(before)
	var out []observed
	c.Unwrap(rec, &ev, func(e *Observation) {
		o := observed{Kind: e.Kind, Reject: e.Reject, Table: tableOf(*e), User: colNamed(*e, "UserPrincipalName"), Time: e.Time, InWrapper: e.InWrapper}
		if e.Addr.IsValid() {
			o.Addr = e.Addr.String()
		}
		out = append(out, o)
	})
	require.True(tb, sameRecord(before, rec), "Unwrap modified the record")
	return out
}

// TestUnwrapEveryForm: the same wrapper as a map body, a JSON string and JSON bytes yields every
// sign-in in it, each with its own address, table, result and time; elements of other categories
// are unrelated.
func TestUnwrapEveryForm(t *testing.T) {
	t1, t2, t3 := "2024-11-27T02:34:56Z", "2024-11-27T02:35:56Z", "2024-11-27T02:36:56Z"
	records := func() []any {
		return []any{
			diagSignInFrom("SignInLogs", "203.0.113.7", "50126", t1),
			diagSignInFrom("NonInteractiveUserSignInLogs", "2001:db8::7", "50053", t2),
			diagSignInFrom("SignInLogs", "198.51.100.4", "0", t3),
			map[string]any{"category": "AuditLogs", "operationName": "Add member to role", "time": t3},
		}
	}
	for _, successes := range []bool{false, true} {
		c := New(Rules{})
		if successes {
			c = New(Rules{Kinds: signinSuccessKinds})
		}
		success := SignIn
		if successes {
			success = SigninLogsSuccess
		}
		want := []observed{
			{Kind: FailedSigninLogs, Addr: "203.0.113.7", Table: SigninLogs, User: "alice@contoso.com", Time: mustTime(t, t1), InWrapper: true},
			{Kind: FailedNonInteractiveSignIn, Addr: "2001:db8::7", Table: AADNonInteractiveUserSignInLogs, User: "alice@contoso.com", Time: mustTime(t, t2), InWrapper: true},
			{Kind: success, Addr: "198.51.100.4", Table: SigninLogs, User: "alice@contoso.com", Time: mustTime(t, t3), InWrapper: true},
			{Kind: Unrelated, InWrapper: true},
		}
		text := wrapperJSON(t, records()...)
		for name, body := range map[string]any{
			"map":                      wrapperOf(records()...),
			"string":                   text,
			"string after white space": "\n  " + text,
			"bytes":                    []byte(text),
		} {
			t.Run(name, func(t *testing.T) {
				rec := newRecord(t, map[string]any{"kafka.topic": "insights-logs-signinlogs"}, body)
				assert.Equal(t, want, unwrapAll(t, c, rec))
			})
		}
	}
}

// TestUnwrapSingleRecordsStayOne: a single diagnostic record as bytes is one sign-in (not a wrapper),
// and bodies that merely look alike are not wrappers.
func TestUnwrapSingleRecordsStayOne(t *testing.T) {
	c := New(Rules{})
	ev := classifyUnchanged(t, c, newRecord(t, nil, []byte(diagSignInJSON)))
	assert.Equal(t, FailedSigninLogs, ev.Kind)
	assert.Equal(t, srcIP, ev.Addr.String())

	for name, body := range map[string]any{
		"an application's records array":  map[string]any{"records": []any{map[string]any{"id": 1}}, "msg": "SignInLogs"},
		"records of no objects":           map[string]any{"records": []any{1, 2}},
		"a JSON wrapper without sign-ins": `{"records":[{"category":"AuditLogs"}]}`,
		"bytes that are not JSON":         []byte("SignInLogs records"),
		"an empty bytes body":             []byte{},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, Unrelated, classifyUnchanged(t, c, newRecord(t, nil, body)).Kind)
		})
	}
}

// TestUnwrapHostile: wrappers that cannot be read, and elements that are no record, are counted
// rejections; the good elements around them still count; nothing panics.
func TestUnwrapHostile(t *testing.T) {
	good := diagSignInFrom("SignInLogs", "203.0.113.7", "50126", signInTime)
	goodJSON, err := json.Marshal(good)
	require.NoError(t, err)
	failed := observed{Kind: FailedSigninLogs, Addr: "203.0.113.7", User: "alice@contoso.com", Time: mustTime(t, signInTime), InWrapper: true}
	reject := func(reason string) observed { return observed{Kind: Rejected, Reject: reason} }
	rejectElem := func(reason string) observed { return observed{Kind: Rejected, Reject: reason, InWrapper: true} }
	deep := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)

	for _, tc := range []struct {
		name string
		body any
		want []observed
	}{
		{"truncated JSON", `{"records":[` + string(goodJSON[:len(goodJSON)-5]), []observed{reject(RejectBadWrapper)}},
		{"records not an array", `{"records":{"category":"SignInLogs"}}`, []observed{reject(RejectBadWrapper)}},
		{"records null", `{"records":null,"category":"SignInLogs"}`, []observed{reject(RejectBadWrapper)}},
		{"non-objects among records", `{"records":[1,"SignInLogs",null,true,[` + string(goodJSON) + `],` + string(goodJSON) + `]}`,
			[]observed{rejectElem(RejectBadWrappedRecord), rejectElem(RejectBadWrappedRecord), rejectElem(RejectBadWrappedRecord),
				rejectElem(RejectBadWrappedRecord), rejectElem(RejectBadWrappedRecord), failed}},
		{"a wrapper inside a wrapper is not read", `{"records":[{"records":[` + string(goodJSON) + `]}]}`,
			[]observed{rejectElem(RejectBadWrappedRecord)}},
		{"wrong types inside a record", `{"records":[{"category":"SignInLogs","callerIpAddress":["x"],"resultType":{"a":1}},` + string(goodJSON) + `]}`,
			[]observed{rejectElem(RejectBadResultType), failed}},
		{"nested past the decoder's depth", `{"records":[` + string(goodJSON) + `,` + deep + `]}`, []observed{reject(RejectBadWrapper)}},
		{"invalid UTF-8 in a value", `{"records":[` + strings.Replace(string(goodJSON), "alice@", "al\xffice@", 1) + `]}`,
			[]observed{{Kind: FailedSigninLogs, Addr: "203.0.113.7", User: "al\uFFFDice@contoso.com", Time: failed.Time, InWrapper: true}}},
		{"invalid UTF-8 between values", "{\"records\":[\xff" + string(goodJSON) + `]}`, []observed{reject(RejectBadWrapper)}},
		{"map: non-maps among records", wrapperOf(good, 5, "x", []any{good}, nil, good),
			[]observed{failed, rejectElem(RejectBadWrappedRecord), rejectElem(RejectBadWrappedRecord), rejectElem(RejectBadWrappedRecord),
				rejectElem(RejectBadWrappedRecord), failed}},
		{"map: a category that is not text", wrapperOf(good, map[string]any{"category": 12}),
			[]observed{failed, rejectElem(RejectBadWrappedRecord)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Rules{})
			var got []observed
			require.NotPanics(t, func() { got = unwrapAll(t, c, newRecord(t, nil, tc.body)) })
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestUnwrapTooLarge: text past MaxWrapperBytes is not decoded.
func TestUnwrapTooLarge(t *testing.T) {
	good := diagSignInFrom("SignInLogs", "203.0.113.7", "50126", signInTime)
	goodJSON, err := json.Marshal(good)
	require.NoError(t, err)
	var b strings.Builder
	b.WriteString(`{"records":[`)
	for b.Len() <= MaxWrapperBytes {
		b.Write(goodJSON)
		b.WriteByte(',')
	}
	b.Write(goodJSON)
	b.WriteString("]}")
	got := unwrapAll(t, New(Rules{}), newRecord(t, nil, b.String()))
	assert.Equal(t, []observed{{Kind: Rejected, Reject: RejectWrapperTooLarge}}, got)
}

// TestBytesTextInPlace: a bytes body is read where it is, not copied, and reads as its bytes.
func TestBytesTextInPlace(t *testing.T) {
	rec := plog.NewLogRecord()
	want := []byte(`{"records":[]}`)
	rec.Body().SetEmptyBytes().FromRaw(want)
	bs := rec.Body().Bytes()
	got := bytesText(bs)
	require.Equal(t, string(want), got)
	bs.SetAt(0, '[') // the record's own bytes change, and the text read in place with them
	assert.Equal(t, byte('['), got[0])
	assert.Empty(t, bytesText(plog.NewLogRecord().Body().SetEmptyBytes()))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = bytesText(bs) }))
}

// unwrapSeeds seed FuzzUnwrap: a wrapper of every source, the published samples of testdata/cloud;
// the test files of a source add its own.
var unwrapSeeds = []string{
	shapes.EventHubsMessage{SignIns: []shapes.SignIn{{}, {Result: "0"}, {Table: shapes.AADNonInteractiveUserSignInLogs}}}.Line(),
	`{"records":[1,"SignInLogs",null,{"category":"SignInLogs","callerIpAddress":["x"]}]}`,
	"testdata/cloud/azuredocs_entra_signin_azure_monitor.json",
}

// FuzzUnwrap feeds fuzzed JSON bodies, seeded with wrappers of every kind and the published
// samples, as a string, as bytes and (when it parses) as a map: Classify and Unwrap must not panic,
// must leave the record as it was, and every observation must hold the classifier's invariants.
func FuzzUnwrap(f *testing.F) {
	for _, seed := range unwrapSeeds {
		if strings.HasPrefix(seed, "testdata/") {
			data, err := os.ReadFile(filepath.FromSlash(seed))
			require.NoError(f, err)
			seed = string(data)
		}
		f.Add(seed)
	}
	c := New(Rules{Kinds: allKinds()})
	f.Fuzz(func(t *testing.T, text string) {
		bodies := []any{text, []byte(text)}
		var parsed map[string]any
		if json.Unmarshal([]byte(text), &parsed) == nil {
			if lr := plog.NewLogRecord(); lr.Body().SetEmptyMap().FromRaw(parsed) == nil {
				bodies = append(bodies, parsed)
			}
		}
		for _, body := range bodies {
			rec := newRecord(t, nil, body)
			ev := classifyUnchanged(t, c, rec)
			if ev.Kind != Wrapper {
				checkInvariants(t, c, ev)
				continue
			}
			before := plog.NewLogRecord()
			rec.CopyTo(before)
			c.Unwrap(rec, &ev, func(e *Observation) {
				require.NotEqual(t, Wrapper, e.Kind, "a wrapper inside a wrapper")
				checkInvariants(t, c, *e)
			})
			require.True(t, sameRecord(before, rec), "Unwrap modified the record")
		}
	})
}
