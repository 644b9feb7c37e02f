//go:build e2e

package e2e_test

import (
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// fourRulesOverride is merged over examples/cloud-rules.yaml: the broker is the test's kfake (TLS with
// its own certificate, the example's SASL PLAIN user and password), a second pipeline runs the four
// rules with emit: alerts into a second sink, the health check and the batch are the test's. The
// example's own pipeline (emit: all) exports to the first sink.
const fourRulesOverride = `
receivers:
  kafka/eventhubs:
    brokers: ["{{ .Broker }}"]
    tls:
      ca_file: {{ .CAFile }}
processors:
  aadhostlogincorrelation/alerts:
    emit: alerts
    rules:
      - id: aad-then-host
      - id: 1ce5e766-26ab-4616-b7c8-3b33ae321e80
      - id: aad-then-aws-console
      - id: 910124df-913c-47e3-a7cd-29e1643fa55e
  batch:
    timeout: 100ms
exporters:
  otlp_grpc/alerts:
    endpoint: {{ .SinkAlerts }}
    tls:
      insecure: true
extensions:
  health_check:
    endpoint: 127.0.0.1:{{ .Health }}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs/alerts:
      receivers: [kafka/eventhubs, file_log/cloudtrail, syslog, otlp]
      processors: [aadhostlogincorrelation/alerts, batch]
      exporters: [otlp_grpc/alerts]
`

// Addresses of the four-rules feed.
const (
	frA       = "203.0.113.71"  // A: 6 failed sign-ins (Kafka), an SSH logon (syslog)
	frC       = "203.0.113.72"  // C: 6 failed non-interactive sign-ins (Kafka), a successful console login (file)
	frAC      = "2001:db8::ac"  // A and C: 6 failed sign-ins (Kafka), an SSH logon (syslog) and a console login (OTLP)
	frB       = "198.51.100.71" // B: 6 sshd failures (syslog), a successful sign-in (Kafka)
	frD       = "198.51.100.72" // D: 6 failed console logins over two files, a successful SigninLogs sign-in (OTLP)
	frMissD5  = "198.51.100.73" // 5 failed console logins (file) and a successful sign-in (Kafka): 5 is not more than 5
	frMissC   = "198.51.100.74" // 6 failed sign-ins (Kafka) and a failed console login (file): no success
	frMissDNI = "198.51.100.75" // 6 failed console logins (file) and a successful non-interactive sign-in (Kafka): D takes SigninLogs only
	frLocal   = "127.0.0.1"     // 6 failed console logins and a successful sign-in from loopback: never counted
)

// fourRulesFeed is what TestFourRulesAtOnce sends, described once.
type fourRulesFeed struct {
	hubs        map[string][][]shapes.SignIn // Event Hubs messages per hub
	otlpSignIns []shapes.SignIn              // Sentinel rows over OTLP
	otlpLogins  []shapes.ConsoleLogin        // single CloudTrail events (map body) over OTLP
	files       map[string][]shapes.ConsoleLogin
	syslog      []shapes.Syslog // RFC 5424 over TCP
	want        []ruleAlert
}

func buildFourRulesFeed(now time.Time) *fourRulesFeed {
	t0 := now.Add(-30 * time.Minute).Truncate(time.Second)
	at := func(seconds int) time.Time { return t0.Add(time.Duration(seconds) * time.Second) }
	signIns := func(n int, table, addr, result string, from int) []shapes.SignIn {
		var s []shapes.SignIn
		for i := range n {
			s = append(s, shapes.SignIn{Table: table, Addr: addr, Result: result, User: "mallory@contoso.com", Time: at(from + 5*i)})
		}
		return s
	}
	logins := func(n int, addr, result string, from int) []shapes.ConsoleLogin {
		var l []shapes.ConsoleLogin
		for i := range n {
			l = append(l, shapes.ConsoleLogin{Shape: shapes.CloudTrailEvent, Addr: addr, Result: result, UserName: "mallory", Time: at(from + 5*i)})
		}
		return l
	}
	f := &fourRulesFeed{hubs: map[string][][]shapes.SignIn{}, files: map[string][]shapes.ConsoleLogin{}}
	f.hubs[signInsHub] = [][]shapes.SignIn{
		slices.Concat(signIns(6, shapes.SigninLogs, frA, "50126", 0), signIns(6, shapes.SigninLogs, frAC, "50126", 3),
			signIns(6, shapes.SigninLogs, frMissC, "50126", 6)),
		slices.Concat(signIns(1, shapes.SigninLogs, frB, "0", 400), signIns(1, shapes.SigninLogs, frMissD5, "0", 400),
			signIns(1, shapes.SigninLogs, frLocal, "0", 400)),
	}
	f.hubs[nonInteractiveHub] = [][]shapes.SignIn{
		signIns(6, shapes.AADNonInteractiveUserSignInLogs, frC, "50053", 10),
		signIns(1, shapes.AADNonInteractiveUserSignInLogs, frMissDNI, "0", 410),
	}
	// The files of one region and day, as a bucket sync leaves them; both also hold events that are
	// no console login, as every CloudTrail file does. The first holds thousands, as a busy account's
	// files do: several MB on one line, which the example's max_log_size must hold whole (the filelog
	// receiver's default, 1 MiB, would cut it into pieces that are no JSON).
	var busy []shapes.ConsoleLogin
	for i := range 5000 {
		busy = append(busy, shapes.ConsoleLogin{Shape: shapes.CloudTrailEvent, EventName: "DescribeInstances", EventSource: "ec2.amazonaws.com",
			Addr: fmt.Sprintf("10.20.%d.%d", i/250, 1+i%250), Time: at(100 + i%60)})
	}
	other := shapes.ConsoleLogin{Shape: shapes.CloudTrailEvent, EventName: "DescribeInstances", EventSource: "ec2.amazonaws.com", Addr: frD, Time: at(100)}
	day := t0.Format("2006/01/02")
	file := func(minute, id string) string {
		return filepath.Join("AWSLogs", shapes.AWSAccount, "CloudTrail", "us-east-1", day,
			shapes.AWSAccount+"_CloudTrail_us-east-1_"+t0.Format("20060102T")+minute+"Z_"+id+".json.gz")
	}
	f.files[file("0105", "Ab12Cd34Ef56Gh78")] = slices.Concat(busy[:2500], logins(4, frD, "Failure", 100), []shapes.ConsoleLogin{other},
		logins(5, frMissD5, "Failure", 100), logins(6, frMissDNI, "Failure", 110), busy[2500:])
	f.files[file("0110", "Zx98Yw76Vu54Ts32")] = slices.Concat(logins(2, frD, "Failure", 130), logins(1, frC, "Success", 300),
		logins(1, frMissC, "Failure", 300), logins(6, frLocal, "Failure", 100))
	f.otlpLogins = logins(1, frAC, "Success", 310)
	f.otlpSignIns = []shapes.SignIn{{Shape: shapes.SentinelSignIn, Table: shapes.SigninLogs, Addr: frD, Result: "50140",
		User: "mallory@contoso.com", App: "Azure Portal", Time: at(420)}}
	for i, addr := range []string{frA, frAC} {
		f.syslog = append(f.syslog, shapes.Syslog{Shape: shapes.RFC5424, Host: "web01", Facility: "authpriv", PID: 5100 + i,
			Message: shapes.AcceptedPassword("alice", addr), Time: at(200 + i)})
	}
	for i := range 6 {
		f.syslog = append(f.syslog, shapes.Syslog{Shape: shapes.RFC5424, Host: "bastion01", Facility: "auth", PID: 6100 + i,
			Message: shapes.FailedPassword("root", frB), Time: at(150 + 10*i)})
	}
	f.want = []ruleAlert{
		{Rule: ruleA, Addr: frA, Source: signinLogs, Success: "Syslog", Host: "web01"},
		{Rule: ruleA, Addr: frAC, Source: signinLogs, Success: "Syslog", Host: "web01"},
		{Rule: ruleC, Addr: frAC, Source: signinLogs, Success: "AWSCloudTrail Success"},
		{Rule: ruleC, Addr: frC, Source: nonInteractive, Success: "AWSCloudTrail Success"},
		{Rule: ruleB, Addr: frB, Source: "Syslog", Success: signinLogs},
		{Rule: ruleD, Addr: frD, Source: "AWSCloudTrail", Success: signinLogs},
	}
	return f
}

// writeGzip writes text as a gzip file, creating its folders.
func writeGzip(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(out)
	if _, err := zw.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFourRulesAtOnce runs examples/cloud-rules.yaml, the four rules in one collector over every input
// the distribution has for them: Event Hubs messages over Kafka (kfake in a process of its own, TLS
// and SASL PLAIN), CloudTrail log files as a bucket sync leaves them (gzip, read by the filelog
// receiver), OTLP and syslog. An attack of each rule, one address that is an attack of two rules
// sharing its failures (A and C), and near misses of C and D: exactly the six alerts, each with its
// rule's identity and columns, and every record passed through.
func TestFourRulesAtOnce(t *testing.T) {
	collectorBinary(t)
	kfakeBinary(t)
	f := buildFourRulesFeed(time.Now().UTC())
	password := "Endpoint=sb://contoso-signins.servicebus.windows.net/;SharedAccessKeyName=otelcol-listen;SharedAccessKey=" + strconv.FormatInt(time.Now().UnixNano(), 36)
	broker := startKafka(t, password, signInsHub+":2", nonInteractiveHub+":2")
	sinkAll, sinkAlerts := startOTLPSink(t), startOTLPSink(t)
	dir := t.TempDir()
	grpcPort, syslogPort, health := freePort(t), freePort(t), freePort(t)
	override := writeConfig(t, fourRulesOverride, map[string]any{
		"Broker": broker.addr, "CAFile": filepath.ToSlash(broker.caFile), "SinkAlerts": sinkAlerts.endpoint, "Health": health,
	})
	env := []string{
		"EVENTHUBS_NAMESPACE=contoso-signins", eventHubsSecretEnv + "=" + password,
		"CLOUDTRAIL_DIR=" + filepath.Join(dir, "bucket"), "FILELOG_STORAGE_DIR=" + filepath.Join(dir, "storage"),
		fmt.Sprintf("SYSLOG_ENDPOINT=127.0.0.1:%d", syslogPort),
		fmt.Sprintf("OTLP_GRPC_ENDPOINT=127.0.0.1:%d", grpcPort), fmt.Sprintf("OTLP_HTTP_ENDPOINT=127.0.0.1:%d", freePort(t)),
		"OTLP_EXPORT_ENDPOINT=" + sinkAll.endpoint, "OTLP_EXPORT_INSECURE=true",
	}

	// The bucket's files are there before the collector starts, as after a sync.
	sent := 0
	largest := 0
	for name, events := range f.files {
		line := shapes.CloudTrailFile{Events: events}.Line()
		writeGzip(t, filepath.Join(dir, "bucket", name), line)
		sent++ // the file is one line: one record
		largest = max(largest, len(line))
	}
	if largest <= 1<<20 {
		t.Fatalf("the largest CloudTrail file is %d bytes; the feed means one over the filelog receiver's default max_log_size (1 MiB)", largest)
	}
	startCollectorEnv(t, health, env, filepath.Join(repoRoot(t), "examples", "cloud-rules.yaml"), override)

	for _, hub := range []string{signInsHub, nonInteractiveHub} {
		var texts []string
		for _, m := range f.hubs[hub] {
			texts = append(texts, shapes.EventHubsMessage{SignIns: m}.Line())
		}
		broker.produce(t, hub, 0, texts)
		sent += len(texts)
	}
	sent += sendOTLPGRPC(t, fmt.Sprintf("127.0.0.1:%d", grpcPort), func(lrs plog.LogRecordSlice) {
		for _, s := range f.otlpSignIns {
			s.Fill(lrs.AppendEmpty())
		}
		for _, l := range f.otlpLogins {
			l.Fill(lrs.AppendEmpty())
		}
	})
	var lines []string
	for _, s := range f.syslog {
		lines = append(lines, s.Line())
	}
	sendSyslog(t, "tcp", syslogPort, lines)
	sent += len(lines)

	awaitEventHubsSink(t, sinkAll, sent, len(f.want))
	awaitEventHubsSink(t, sinkAlerts, 0, len(f.want))
	all, _, passed := sinkAll.snapshot()
	alerts, _, others := sinkAlerts.snapshot()
	if len(passed) != sent {
		t.Errorf("emit: all passed %d records through, want the %d sent", len(passed), sent)
	}
	if len(others) != 0 {
		t.Errorf("emit: alerts let %d records that are not alerts through", len(others))
	}
	assertRuleAlerts(t, "emit: alerts", alerts, f.want)
	assertRuleAlerts(t, "emit: all", all, f.want)
	for _, a := range alerts {
		t.Logf("alert %v", ruleAlertOf(a))
		checkFourRulesAlert(t, f, a)
	}
}

// checkFourRulesAlert checks an alert's columns against the feed: its rule's identity and Reason, the
// failures' count and times, and the columns of its success.
func checkFourRulesAlert(t *testing.T, f *fourRulesFeed, lr plog.LogRecord) {
	t.Helper()
	k := ruleAlertOf(lr)
	check, checkTime := alertColumns(t, lr, k)
	// The failures of the alert's source from its address, in time order.
	var failures []time.Time
	switch k.Source {
	case signinLogs, nonInteractive:
		for _, hub := range []string{signInsHub, nonInteractiveHub} {
			for _, m := range f.hubs[hub] {
				for _, s := range m {
					if s.Addr == k.Addr && s.Table == k.Source && s.Result != "0" {
						failures = append(failures, s.Time)
					}
				}
			}
		}
	case "AWSCloudTrail":
		for _, events := range f.files {
			for _, e := range events {
				if e.Addr == k.Addr && e.Result == "Failure" && e.EventName == "" {
					failures = append(failures, e.Time)
				}
			}
		}
	case "Syslog":
		for _, s := range f.syslog {
			if s.Message == shapes.FailedPassword("root", k.Addr) {
				failures = append(failures, s.Time)
			}
		}
	}
	slices.SortFunc(failures, time.Time.Compare)
	if len(failures) != signinThreshold+1 {
		t.Errorf("alert %v: the feed has %d failures of its source from its address, want %d", k, len(failures), signinThreshold+1)
		return
	}
	if lr.SeverityNumber() != plog.SeverityNumberWarn || lr.SeverityText() != "Medium" {
		t.Errorf("alert %v: severity %v %q, want WARN Medium", k, lr.SeverityNumber(), lr.SeverityText())
	}
	check("source.address", k.Addr)
	switch k.Rule {
	case ruleA:
		check("Reason", alertBody)
		check("FailedSignInCount", "6")
		checkTime("FirstFailedSignIn", failures[0], 0)
		checkTime("LastFailedSignIn", failures[5], 0)
	case ruleB:
		check("Reason", reverseAlertBody)
		check("FailedLogonCount", "6")
		checkTime("FirstFailedLogon", failures[0], 0)
		checkTime("LastFailedLogon", failures[5], 0)
		check("UserPrincipalName", "mallory@contoso.com")
	case ruleC:
		check("Reason", alertBody)
		check("security_rule.name", "Failed AzureAD logons but success logon to AWS Console")
		check("FailedSignInCount", "6")
		checkTime("FirstFailedSignIn", failures[0], 0)
		checkTime("LastFailedSignIn", failures[5], 0)
		check("LoginResult", "Success")
		check("EventTypeName", "AwsConsoleSignIn")
		check("UserIdentityType", "IAMUser")
		check("User", "mallory")
		check("AWSRegion", "us-east-1")
		check("SourceIpAddress", k.Addr)
		check("MFAUsed", "No")
		if !strings.HasPrefix(attr(lr, "UserAgent"), "Mozilla/5.0") {
			t.Errorf("alert %v: UserAgent = %q, want the console login's", k, attr(lr, "UserAgent"))
		}
	case ruleD:
		check("Reason", consoleAlertBody)
		check("security_rule.name", "Failed AWS Console logons but success logon to AzureAD")
		check("FailedConsoleLoginCount", "6")
		checkTime("FirstFailedConsoleLogin", failures[0], 0)
		checkTime("LastFailedConsoleLogin", failures[5], 0)
		check("Type", signinLogs)
		check("IPAddress", k.Addr)
		check("UserPrincipalName", "mallory@contoso.com")
		check("ResultType", "50140")
		check("AppDisplayName", "Azure Portal")
		checkTime("TimeGenerated", f.otlpSignIns[0].Time, 0)
		if got := lr.Timestamp(); got != pcommon.NewTimestampFromTime(f.otlpSignIns[0].Time) {
			t.Errorf("alert %v: Timestamp %s, want the sign-in's %s", k, got, f.otlpSignIns[0].Time)
		}
	}
}
