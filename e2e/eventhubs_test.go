//go:build e2e

package e2e_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// eventHubsOverride is merged over examples/eventhubs.yaml: the broker is the test's kfake (TLS with
// its own certificate instead of the system's CAs, the same SASL PLAIN user and password), the encoding
// is the subtest's, the health check and the batch are the test's.
const eventHubsOverride = `
receivers:
  kafka/eventhubs:
    brokers: ["{{ .Broker }}"]
    tls:
      ca_file: {{ .CAFile }}
    logs:
      encoding: {{ .Encoding }}
processors:
  batch:
    timeout: 100ms
extensions:
  health_check:
    endpoint: 127.0.0.1:{{ .Health }}
service:
  telemetry:
    metrics:
      level: none
`

// The Event Hubs of Entra ID's diagnostic settings, one per category (examples/eventhubs.yaml reads
// both).
const (
	signInsHub        = "insights-logs-signinlogs"
	nonInteractiveHub = "insights-logs-noninteractiveusersigninlogs"
)

// eventHubsFeed is what TestEventHubsOverKafka sends: wrapper messages to the two hubs, then host
// logons over syslog and OTLP.
type eventHubsFeed struct {
	messages map[string][][]shapes.SignIn // hub -> messages -> sign-ins
	syslog   []shapes.Syslog              // RFC 5424 over TCP
	windows  []shapes.Windows             // SecurityEvent rows over OTLP/gRPC
	want     []ruleAlert
}

// Addresses of the Event Hubs feed.
const (
	ehAttacker  = "203.0.113.50" // 6 failed SigninLogs sign-ins over two messages, then an SSH logon: alert
	ehAttacker6 = "2001:db8::e1" // 6 failed non-interactive sign-ins, then an RDP logon (written expanded): alert
	ehMissFive  = "203.0.113.51" // 5 failed sign-ins over two messages, then an SSH logon: 5 is not more than 5
	ehMissOK    = "203.0.113.52" // 6 successful sign-ins, then an SSH logon: successes are no failures
)

func buildEventHubsFeed(now time.Time) *eventHubsFeed {
	t0 := now.Add(-20 * time.Minute).Truncate(time.Second)
	at := func(seconds int) time.Time { return t0.Add(time.Duration(seconds) * time.Second) }
	signIns := func(n int, table, addr, result string, from int) []shapes.SignIn {
		var s []shapes.SignIn
		for i := range n {
			s = append(s, shapes.SignIn{Table: table, Addr: addr, Result: result, User: "mallory@contoso.com", Time: at(from + 7*i)})
		}
		return s
	}
	f := &eventHubsFeed{messages: map[string][][]shapes.SignIn{}}
	f.messages[signInsHub] = [][]shapes.SignIn{
		slices.Concat(signIns(4, shapes.SigninLogs, ehAttacker, "50126", 0), signIns(3, shapes.SigninLogs, ehMissFive, "50126", 5),
			signIns(3, shapes.SigninLogs, ehMissOK, "0", 10)),
		slices.Concat(signIns(2, shapes.SigninLogs, ehAttacker, "50053", 60), signIns(2, shapes.SigninLogs, ehMissFive, "50126", 65),
			signIns(3, shapes.SigninLogs, ehMissOK, "50140", 70)),
	}
	f.messages[nonInteractiveHub] = [][]shapes.SignIn{signIns(6, shapes.AADNonInteractiveUserSignInLogs, ehAttacker6, "50126", 30)}
	for i, addr := range []string{ehAttacker, ehMissFive, ehMissOK} {
		f.syslog = append(f.syslog, shapes.Syslog{Shape: shapes.RFC5424, Host: "web01", Facility: "authpriv", PID: 3100 + i,
			Message: shapes.AcceptedPassword("alice", addr), Time: at(180 + i)})
	}
	f.windows = []shapes.Windows{{Shape: shapes.SecurityEventRow, Numbers: true, LogonType: 10, Addr: "2001:db8:0:0:0:0:0:e1",
		Computer: "WIN-RDP01.contoso.com", User: "mallory", Time: at(200)}}
	f.want = []ruleAlert{
		{Rule: ruleA, Addr: ehAttacker, Source: signinLogs, Success: "Syslog", Host: "web01"},
		{Rule: ruleA, Addr: ehAttacker6, Source: nonInteractive, Success: "SecurityEvent", Host: "WIN-RDP01.contoso.com"},
	}
	return f
}

// TestEventHubsOverKafka runs examples/eventhubs.yaml against a Kafka-protocol broker in a process of
// its own, reached over TCP with TLS and SASL PLAIN as an Event Hubs namespace is, with each encoding a
// user may choose: Event Hubs messages of failed sign-ins go to the two hubs of diagnostic settings,
// host logons come over syslog and OTLP, and exactly the alerts of the feed come out, with every
// record passed through.
func TestEventHubsOverKafka(t *testing.T) {
	collectorBinary(t)
	kfakeBinary(t)
	for _, encoding := range []string{"text", "raw", "azure_resource_logs"} {
		t.Run(encoding, func(t *testing.T) {
			t.Parallel()
			runEventHubsFeed(t, encoding)
		})
	}
}

func runEventHubsFeed(t *testing.T, encoding string) {
	t.Helper()
	f := buildEventHubsFeed(time.Now().UTC())
	password := "Endpoint=sb://contoso-signins.servicebus.windows.net/;SharedAccessKeyName=otelcol-listen;SharedAccessKey=" + strconv.FormatInt(time.Now().UnixNano(), 36)
	broker := startKafka(t, password, signInsHub+":2", nonInteractiveHub+":2")

	sink := startOTLPSink(t)
	syslogPort, grpcPort, httpPort, health := freePort(t), freePort(t), freePort(t), freePort(t)
	override := writeConfig(t, eventHubsOverride, map[string]any{
		"Broker": broker.addr, "CAFile": filepath.ToSlash(broker.caFile), "Encoding": encoding, "Health": health,
	})
	env := []string{
		"EVENTHUBS_NAMESPACE=contoso-signins", eventHubsSecretEnv + "=" + password,
		fmt.Sprintf("SYSLOG_ENDPOINT=127.0.0.1:%d", syslogPort),
		fmt.Sprintf("OTLP_GRPC_ENDPOINT=127.0.0.1:%d", grpcPort), fmt.Sprintf("OTLP_HTTP_ENDPOINT=127.0.0.1:%d", httpPort),
		"OTLP_EXPORT_ENDPOINT=" + sink.endpoint, "OTLP_EXPORT_INSECURE=true",
	}
	startCollectorEnv(t, health, env, filepath.Join(repoRoot(t), "examples", "eventhubs.yaml"), override)

	// The messages go first, the logons after them: the logons find the failures already counted.
	sent := 0
	var messages []string
	signIns := 0
	for _, hub := range []string{signInsHub, nonInteractiveHub} {
		var texts []string
		for _, m := range f.messages[hub] {
			texts = append(texts, shapes.EventHubsMessage{SignIns: m}.Line())
			signIns += len(m)
		}
		for i, text := range texts { // the hubs have two partitions: the messages go to both
			broker.produce(t, hub, i%2, []string{text})
		}
		messages = append(messages, texts...)
	}
	if encoding == "azure_resource_logs" {
		sent += signIns // one record per sign-in
	} else {
		sent += len(messages) // one record per message
	}
	awaitEventHubsSink(t, sink, sent, 0)

	var lines []string
	for _, s := range f.syslog {
		lines = append(lines, s.Line())
	}
	sendSyslog(t, "tcp", syslogPort, lines)
	sent += len(lines)
	sent += sendOTLPGRPC(t, fmt.Sprintf("127.0.0.1:%d", grpcPort), func(lrs plog.LogRecordSlice) {
		for _, w := range f.windows {
			w.Fill(lrs.AppendEmpty())
		}
	})
	awaitEventHubsSink(t, sink, sent, len(f.want))

	alerts, _, passed := sink.snapshot()
	if len(passed) != sent {
		t.Errorf("%d records passed through, want the %d sent", len(passed), sent)
	}
	assertRuleAlerts(t, encoding, alerts, f.want)
	for _, a := range alerts {
		t.Logf("alert %v", ruleAlertOf(a))
		checkEventHubsAlert(t, f, a)
	}
	checkMessagesPassed(t, encoding, messages, signIns, passed)
}

// awaitEventHubsSink waits until the sink holds sent pass-through records and alerts alerts, and a
// little longer so that an extra alert would be seen. The Kafka receiver joins its consumer group
// before it fetches: the wait is longer than the other tests'.
func awaitEventHubsSink(t *testing.T, sink *otlpSink, sent, alerts int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		got, _, passed := sink.snapshot()
		if len(passed) >= sent && len(got) >= alerts {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 90s: %d of %d records passed through, %d of %d alerts", len(passed), sent, len(got), alerts)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
}

// checkEventHubsAlert checks an alert's columns against the feed: the failures' count and times are
// those of the sign-ins inside the messages, the time that of the logon.
func checkEventHubsAlert(t *testing.T, f *eventHubsFeed, lr plog.LogRecord) {
	t.Helper()
	k := ruleAlertOf(lr)
	var failures []time.Time
	for _, hub := range []string{signInsHub, nonInteractiveHub} {
		for _, m := range f.messages[hub] {
			for _, s := range m {
				if a, ok := normalAddr(s.Addr); ok && a.String() == k.Addr && s.Result != "0" && s.Result != "50125" && s.Result != "50140" {
					failures = append(failures, s.Time)
				}
			}
		}
	}
	var logon time.Time
	for _, s := range f.syslog {
		if k.Success == "Syslog" && s.Message == shapes.AcceptedPassword("alice", k.Addr) {
			logon = s.Time
		}
	}
	for _, w := range f.windows {
		if a, ok := normalAddr(w.Addr); ok && k.Success == "SecurityEvent" && a.String() == k.Addr {
			logon = w.Time
		}
	}
	slices.SortFunc(failures, time.Time.Compare)
	if len(failures) == 0 || logon.IsZero() {
		t.Errorf("alert %v matches nothing of the feed", k)
		return
	}
	check, checkTime := alertColumns(t, lr, k)
	check("Reason", alertBody)
	check("IpAddress", k.Addr)
	check("FailedSignInCount", strconv.Itoa(len(failures)))
	checkTime("FirstFailedSignIn", failures[0], 0)
	checkTime("LastFailedSignIn", failures[len(failures)-1], 0)
	checkTime("TimeGenerated", logon, 0)
	if got := lr.Timestamp(); got != pcommon.NewTimestampFromTime(logon) {
		t.Errorf("alert %v: Timestamp %s, want the logon's %s", k, got, logon)
	}
}

// checkMessagesPassed checks that what came from Kafka passed through as the receiver made it: with
// text and raw each message is one record whose body is the message, byte for byte; with
// azure_resource_logs each sign-in is one record.
func checkMessagesPassed(t *testing.T, encoding string, messages []string, signIns int, passed []plog.LogRecord) {
	t.Helper()
	var bodies []string
	for _, lr := range passed {
		switch encoding {
		case "text":
			if lr.Body().Type() == pcommon.ValueTypeStr {
				bodies = append(bodies, lr.Body().Str())
			}
		case "raw":
			if lr.Body().Type() == pcommon.ValueTypeBytes {
				bodies = append(bodies, string(lr.Body().Bytes().AsRaw()))
			}
		default:
			if v, ok := lr.Attributes().Get("azure.category"); ok {
				bodies = append(bodies, v.Str())
			}
		}
	}
	if encoding == "text" || encoding == "raw" {
		for _, m := range messages {
			if !slices.Contains(bodies, m) {
				t.Errorf("%s: the message %.80s… did not pass through unchanged", encoding, m)
			}
		}
		return
	}
	if got, want := len(bodies), signIns; got != want {
		t.Errorf("%s: %d records with azure.category passed through, want one per sign-in (%d)", encoding, got, want)
	}
}
