package classify

import (
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// BenchmarkClassifyCloudTrail measures CloudTrail with rules C and D running (the part consoleLogins):
// an event that is no console login must cost about what an unrelated record costs, in every
// shape; console logins and a log file cost what reading them takes. unrelated_otlp is the
// baseline, the same as BenchmarkClassify's.
func BenchmarkClassifyCloudTrail(b *testing.B) {
	apiCall := shapes.ConsoleLogin{EventName: "DescribeInstances", EventSource: "ec2.amazonaws.com"}
	rawAPICall := apiCall
	rawAPICall.Shape = shapes.CloudTrailEvent
	var quietFile []shapes.ConsoleLogin
	for range 50 {
		quietFile = append(quietFile, apiCall)
	}
	busyFile := append(append([]shapes.ConsoleLogin{}, quietFile[:49]...), shapes.ConsoleLogin{Result: "Failure"})
	cases := []struct {
		name string
		fill func(plog.LogRecord)
		want Kind
	}{
		{"unrelated_otlp", func(lr plog.LogRecord) {
			rec := newRecord(b, otlpAppAttrs(), otlpAppBody)
			rec.CopyTo(lr)
		}, Unrelated},
		{"api_call_sentinel_row", apiCall.Fill, Unrelated},
		{"api_call_map_body", rawAPICall.Fill, Unrelated},
		{"api_call_json_string", func(lr plog.LogRecord) { lr.Body().SetStr(rawAPICall.Line()) }, Unrelated},
		{"api_call_json_bytes", func(lr plog.LogRecord) { lr.Body().SetEmptyBytes().FromRaw([]byte(rawAPICall.Line())) }, Unrelated},
		{"file_of_50_api_calls_json", shapes.CloudTrailFile{Events: quietFile, Body: shapes.StringBody}.Fill, Unrelated},
		{"console_login_sentinel_row", shapes.ConsoleLogin{}.Fill, ConsoleLoginSuccess},
		{"console_login_map_body", shapes.ConsoleLogin{Shape: shapes.CloudTrailEvent}.Fill, ConsoleLoginSuccess},
		{"console_login_json_string", func(lr plog.LogRecord) { lr.Body().SetStr(shapes.ConsoleLogin{Shape: shapes.CloudTrailEvent}.Line()) }, ConsoleLoginSuccess},
		{"file_of_50_with_a_console_login_json", shapes.CloudTrailFile{Events: busyFile, Body: shapes.StringBody}.Fill, Wrapper},
	}
	c := New(Rules{Kinds: consoleLoginKinds})
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			rec := recordOf(tc.fill)
			var ev Observation
			c.Classify(rec, &ev)
			if ev.Kind != tc.want {
				b.Fatalf("kind %v (reject %q), want %v", ev.Kind, ev.Reject, tc.want)
			}
			observations := 0
			b.ReportAllocs()
			for b.Loop() {
				c.Classify(rec, &ev)
				if ev.Kind == Wrapper {
					c.Unwrap(rec, &ev, func(*Observation) { observations++ })
				}
			}
		})
	}
}

// BenchmarkUnwrapSignIns measures what one sign-in costs inside an Event Hubs message of N of them
// (ns/signin), against one diagnostic record per record (N = 1: Classify alone).
func BenchmarkUnwrapSignIns(b *testing.B) {
	for _, body := range []shapes.WrapperBody{shapes.BytesBody, shapes.MapBody} {
		for _, n := range []int{1, 10, 100} {
			name := fmt.Sprintf("%s/%d", map[shapes.WrapperBody]string{shapes.BytesBody: "json_bytes", shapes.MapBody: "map"}[body], n)
			b.Run(name, func(b *testing.B) {
				var signIns []shapes.SignIn
				for i := range n {
					signIns = append(signIns, shapes.SignIn{Addr: fmt.Sprintf("198.51.100.%d", i%250)})
				}
				var rec plog.LogRecord
				if n == 1 {
					s := shapes.SignIn{Shape: shapes.DiagnosticSignIn}
					rec = recordOf(func(lr plog.LogRecord) {
						if body == shapes.MapBody {
							s.Fill(lr)
						} else {
							lr.Body().SetEmptyBytes().FromRaw([]byte(s.Line()))
						}
					})
				} else {
					rec = recordOf(shapes.EventHubsMessage{SignIns: signIns, Body: body}.Fill)
				}
				c := New(Rules{})
				var ev Observation
				count := 0
				take := func(e *Observation) {
					if e.Kind == FailedSigninLogs {
						count++
					}
				}
				b.ReportAllocs()
				for b.Loop() {
					c.Classify(rec, &ev)
					if ev.Kind == Wrapper {
						c.Unwrap(rec, &ev, take)
					} else {
						take(&ev)
					}
				}
				if count != b.N*n {
					b.Fatalf("%d failed sign-ins, want %d", count, b.N*n)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/signin")
			})
		}
	}
}
