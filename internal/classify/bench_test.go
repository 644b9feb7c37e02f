package classify

import (
	"math"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// BenchmarkFloor is the least any classifier must do for an unrelated record: look up two
// attributes and the body's type. BenchmarkClassify/unrelated_otlp is measured against it.
func BenchmarkFloor(b *testing.B) {
	rec := newRecord(b, otlpAppAttrs(), otlpAppBody)
	b.ReportAllocs()
	found := 0
	for b.Loop() {
		found += floor(rec)
	}
	if found != 0 {
		b.Fatal("the floor record is unrelated")
	}
}

//go:noinline
func floor(rec plog.LogRecord) int {
	found := 0
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
	return found
}

// BenchmarkUnrelatedOverFloor reports how many floors an unrelated record costs ("x-floor"). It
// alternates short timed runs of both and keeps the fastest of each, so that a busy machine skews the
// ratio less than two separate benchmarks would.
func BenchmarkUnrelatedOverFloor(b *testing.B) {
	rec := newRecord(b, otlpAppAttrs(), otlpAppBody)
	c := New(Rules{})
	var ev Observation
	const chunk = 20_000
	bestFloor, bestClassify := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	found := 0
	for b.Loop() {
		start := time.Now()
		for range chunk {
			found += floor(rec)
		}
		bestFloor = min(bestFloor, time.Since(start))
		start = time.Now()
		for range chunk {
			c.Classify(rec, &ev)
		}
		bestClassify = min(bestClassify, time.Since(start))
	}
	if found != 0 || ev.Kind != Unrelated {
		b.Fatal("the record is unrelated")
	}
	b.ReportMetric(float64(bestFloor.Nanoseconds())/chunk, "floor-ns")
	b.ReportMetric(float64(bestClassify.Nanoseconds())/chunk, "classify-ns")
	b.ReportMetric(float64(bestClassify)/float64(bestFloor), "x-floor")
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
		{"sentinel_signin", sentinelSignInRow(), nil, FailedSigninLogs},
		{"sentinel_signin_success", with(sentinelSignInRow(), "ResultType", "0"), nil, SignIn},
		{"diagnostic_map_body_signin", map[string]any{}, diagSignInRecord(), FailedSigninLogs},
		{"diagnostic_json_body_signin", map[string]any{}, diagSignInJSON, FailedSigninLogs},
		{"eventhub_azure_signin", eventHubAzureSignIn(), nil, FailedSigninLogs},
		{"syslog_receiver_sshd_logon", syslogReceiverAttrs(), nil, LinuxLogon},
		{"sentinel_syslog_logon", sentinelSyslogRow(), nil, LinuxLogon},
		{"journald_sshd_logon", map[string]any{}, journaldEntry(), LinuxLogon},
		{"raw_rfc3164_sshd_logon", map[string]any{"log.file.name": "auth.log"}, shapes.Syslog{Shape: shapes.SecureFile}.Line(), LinuxLogon},
		{"windowseventlog_4624", map[string]any{}, windowsEventLogBody(false), SecurityEventLogon},
		{"windowseventlog_4624_array", map[string]any{}, windowsEventLogBody(true), SecurityEventLogon},
		{"securityevent_4624", securityEventRow(), nil, SecurityEventLogon},
		{"securityevent_csv_row_4625", secEventRows, nil, Unrelated},
	}
	c := New(Rules{})
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			rec := newRecord(b, tc.attrs, tc.body)
			var ev Observation
			c.Classify(rec, &ev)
			if ev.Kind != tc.want {
				b.Fatalf("kind %v of %s (reject %q), want %v of %s", ev.Kind, ev.Kind.Source(), ev.Reject, tc.want, tc.want.Source())
			}
			b.ReportAllocs()
			for b.Loop() {
				c.Classify(rec, &ev)
			}
		})
	}
}

// BenchmarkClassifyRuleB measures the classifier with the second rule's switches on: the records
// that only they make something of, and some of the first rule's to show what the switches cost them.
func BenchmarkClassifyRuleB(b *testing.B) {
	secEventRows := loadSampleForBench(b)
	cases := []struct {
		name  string
		attrs map[string]any
		body  any
		want  Kind
	}{
		{"unrelated_otlp", otlpAppAttrs(), otlpAppBody, Unrelated},
		{"sentinel_signin", sentinelSignInRow(), nil, FailedSigninLogs},
		{"sentinel_signin_success", with(sentinelSignInRow(), "ResultType", "0"), nil, SigninLogsSuccess},
		{"diagnostic_map_body_signin_success", map[string]any{}, diagSignInFull(), SigninLogsSuccess},
		{"diagnostic_json_body_signin_success", map[string]any{}, diagSignInSuccessJSON, NonInteractiveSuccess},
		{"sentinel_syslog_logon", sentinelSyslogRow(), nil, LinuxLogon},
		{"sentinel_syslog_sshd_failure", with(sentinelSyslogRow(), "SyslogMessage", failedPw), nil, FailedSyslogLogon},
		{"syslog_receiver_sshd_failure", with(syslogReceiverAttrs(), "message", failedPw), nil, FailedSyslogLogon},
		{"raw_rfc3164_sshd_failure", map[string]any{"log.file.name": "auth.log"}, "Nov 27 02:34:56 web01 sshd[4242]: " + failedPw, FailedSyslogLogon},
		{"raw_rfc3164_repeated_failure", map[string]any{"log.file.name": "auth.log"},
			"Nov 27 02:34:56 web01 sshd[4242]: message repeated 3 times: [ " + failedPw + "]", FailedSyslogLogon},
		{"syslog_receiver_login_failure", with(syslogReceiverAttrs(), "appname", "login", "message", failedLogin), nil, FailedSyslogLogon},
		{"syslog_receiver_pam_no_from", with(syslogReceiverAttrs(), "message",
			"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost="+srcIP), nil, Unrelated},
		{"windowseventlog_4625", map[string]any{}, with(windowsEventLogBody(false), "event_id", map[string]any{"id": 4625}), FailedSecurityEventLogon},
		{"securityevent_4624", securityEventRow(), nil, SecurityEventLogon},
		{"securityevent_csv_row_4625", secEventRows, nil, FailedSecurityEventLogon},
	}
	c := New(Rules{Kinds: ruleBKinds})
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			rec := newRecord(b, tc.attrs, tc.body)
			var ev Observation
			c.Classify(rec, &ev)
			if ev.Kind != tc.want {
				b.Fatalf("kind %v of %s (reject %q), want %v of %s", ev.Kind, ev.Kind.Source(), ev.Reject, tc.want, tc.want.Source())
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

// BenchmarkSSHDSource measures the sshd grammar alone on the message shapes it meets most.
func BenchmarkSSHDSource(b *testing.B) {
	cases := []struct{ name, msg string }{
		{"password", "Accepted password for alice from 203.0.113.7 port 52144 ssh2"},
		{"publickey", "Accepted publickey for deploy from 2001:db8::42 port 52144 ssh2: ED25519 SHA256:Xm3p1oJ8n2Yk0Zr9c7V5b4QwErTyUiOpAsDfGhJkLzX"},
		{"certificate", "Accepted publickey for alice from 203.0.113.7 port 52144 ssh2: ED25519-CERT SHA256:abc ID ops from 198.51.100.1 port 22 (serial 1) CA ED25519 SHA256:def"},
		{"not sshd", "pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)"},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if _, ok := SSHDSource(tc.msg); ok {
					n++
				}
			}
			_ = n
		})
	}
}

// BenchmarkHostFailureParts measures the parts of the failed-logon path on a typical sshd line.
func BenchmarkHostFailureParts(b *testing.B) {
	msg := "Failed password for invalid user admin from 203.0.113.7 port 52144 ssh2"
	b.Run("filter", func(b *testing.B) {
		n := 0
		for b.Loop() {
			if failedLogonTerms(msg) {
				n++
			}
		}
		_ = n
	})
	b.Run("unwrap", func(b *testing.B) {
		for b.Loop() {
			_, _ = unwrapRepeated(msg)
		}
	})
	b.Run("grammar", func(b *testing.B) {
		for b.Loop() {
			_, _ = parseSSHD(msg)
		}
	})
	b.Run("accepted_term", func(b *testing.B) {
		n := 0
		for b.Loop() {
			if hasTerm(msg, "accepted") {
				n++
			}
		}
		_ = n
	})
}
