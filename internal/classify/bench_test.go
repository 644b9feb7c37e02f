package classify

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// BenchmarkFloor is the least any classifier must do for an unrelated record: look up two
// attributes and the body's type. BenchmarkClassify/unrelated_otlp is measured against it.
func BenchmarkFloor(b *testing.B) {
	rec := newRecord(b, otlpAppAttrs(), otlpAppBody)
	var found int
	b.ReportAllocs()
	for b.Loop() {
		attrs := rec.Attributes()
		if _, ok := attrs.Get("Type"); ok {
			found++
		}
		if _, ok := attrs.Get("azure.category"); ok {
			found++
		}
		if rec.Body().Type() == pcommon.ValueTypeMap {
			found++
		}
	}
	if found != 0 {
		b.Fatal("the floor record is unrelated")
	}
}

func BenchmarkClassify(b *testing.B) {
	secEventRows := loadSampleForBench(b)
	cases := []struct {
		name  string
		attrs map[string]any
		body  any
		want  Kind
	}{
		{"unrelated_otlp", otlpAppAttrs(), otlpAppBody, Unrelated},
		{"unrelated_json_body", otlpAppAttrs(), `{"level":"info","msg":"request served","status":200,"path":"/api/v1/items"}`, Unrelated},
		{"unrelated_syslog_daemon_line", map[string]any{"log.file.name": "syslog"}, "<30>Nov 27 02:34:56 web01 systemd[1]: Started Session 42 of user alice.", Unrelated},
		{"unrelated_syslog_receiver_cron", with(syslogReceiverAttrs(), "appname", "CRON", "facility", 9, "facility_text", "cron", "message", "(root) CMD (run-parts /etc/cron.hourly)"), nil, Unrelated},
		{"sentinel_signin", sentinelSignInRow(), nil, FailedSignIn},
		{"sentinel_signin_success", with(sentinelSignInRow(), "ResultType", "0"), nil, SignIn},
		{"diagnostic_map_body_signin", map[string]any{}, diagSignInRecord(), FailedSignIn},
		{"diagnostic_json_body_signin", map[string]any{}, diagSignInJSON, FailedSignIn},
		{"eventhub_azure_signin", eventHubAzureSignIn(), nil, FailedSignIn},
		{"syslog_receiver_sshd_logon", syslogReceiverAttrs(), nil, LinuxLogon},
		{"sentinel_syslog_logon", sentinelSyslogRow(), nil, LinuxLogon},
		{"journald_sshd_logon", map[string]any{}, journaldEntry(), LinuxLogon},
		{"raw_rfc3164_sshd_logon", map[string]any{"log.file.name": "auth.log"}, "Nov 27 02:34:56 web01 sshd[4242]: " + acceptedPw, LinuxLogon},
		{"windowseventlog_4624", map[string]any{}, windowsEventLogBody(false), WindowsLogon},
		{"windowseventlog_4624_array", map[string]any{}, windowsEventLogBody(true), WindowsLogon},
		{"securityevent_4624", securityEventRow(), nil, WindowsLogon},
		{"securityevent_csv_row_4625", secEventRows, nil, Unrelated},
	}
	c := New(Rules{})
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			rec := newRecord(b, tc.attrs, tc.body)
			var ev Event
			c.Classify(rec, &ev)
			if ev.Kind != tc.want {
				b.Fatalf("kind %v (reject %q), want %v", ev.Kind, ev.Reject, tc.want)
			}
			b.ReportAllocs()
			for b.Loop() {
				c.Classify(rec, &ev)
			}
		})
	}
}

// loadSampleForBench returns the first row of the SecurityEvent export: 229 string columns.
func loadSampleForBench(b *testing.B) map[string]any {
	return loadSample(b, "SecurityEvent_Authentication_1000rows.csv")[0]
}
