//go:build e2e

package e2e_test

import (
	"fmt"
	"os/exec"
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

// The rules the processor runs, by Sentinel id.
const (
	ruleA = ruleUUID                               // Failed AzureAD logons but success logon to host (the seed)
	ruleB = "1ce5e766-26ab-4616-b7c8-3b33ae321e80" // Failed host logons but success logon to AzureAD
	ruleC = "643c2025-9604-47c5-833f-7b4b9378a1f5" // Failed AzureAD logons but success logon to AWS Console
	ruleD = "910124df-913c-47e3-a7cd-29e1643fa55e" // Failed AWS Console logons but success logon to AzureAD

	ruleBName = "Failed host logons but success logon to AzureAD"
)

// ruleAlert identifies an alert of any rule the way the assertions compare them: the rule, the
// address (source.address), the failures' source and the success's source. Rules A and C: Source is
// the sign-in table of the failures (SigninTable); for A, Success is the host logon's source
// (LogonSource) and Host its computer, for C Success is "AWSCloudTrail" and the console login's result.
// Rules B and D: Source is the failure source (FailedLogonSource, FailedLoginSource), Success the
// successful sign-in's table (Type), and there is no host.
type ruleAlert struct{ Rule, Addr, Source, Success, Host string }

func (k ruleAlert) String() string {
	name := k.Rule
	switch k.Rule {
	case ruleA:
		name = "A"
	case ruleB:
		name = "B"
	case ruleC:
		name = "C"
	case ruleD:
		name = "D"
	}
	return fmt.Sprintf("{rule %s %s %s -> %s host %q}", name, k.Addr, k.Source, k.Success, k.Host)
}

// alertColumns returns checks of an alert's attributes that name the alert k in each error: check
// compares a column's text with want, checkTime reads a time column and wants it within slack of
// want (0: exactly).
func alertColumns(t *testing.T, lr plog.LogRecord, k ruleAlert) (check func(key, want string), checkTime func(key string, want time.Time, slack time.Duration)) {
	check = func(key, want string) {
		t.Helper()
		if got := attr(lr, key); got != want {
			t.Errorf("alert %v: %s = %q, want %q", k, key, got, want)
		}
	}
	checkTime = func(key string, want time.Time, slack time.Duration) {
		t.Helper()
		got, err := time.Parse(time.RFC3339Nano, attr(lr, key))
		if err != nil {
			t.Errorf("alert %v: %s %q: %v", k, key, attr(lr, key), err)
			return
		}
		if d := got.Sub(want).Abs(); d > slack {
			t.Errorf("alert %v: %s = %s, want %s (±%s)", k, key, got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano), slack)
		}
	}
	return check, checkTime
}

func ruleAlertOf(lr plog.LogRecord) ruleAlert {
	k := ruleAlert{Rule: attr(lr, "security_rule.uuid"), Addr: attr(lr, "source.address")}
	switch k.Rule {
	case ruleB:
		k.Source, k.Success = attr(lr, "FailedLogonSource"), attr(lr, "Type")
	case ruleC:
		k.Source, k.Success = attr(lr, "SigninTable"), "AWSCloudTrail "+attr(lr, "LoginResult")
	case ruleD:
		k.Source, k.Success = attr(lr, "FailedLoginSource"), attr(lr, "Type")
	default:
		k.Source, k.Success, k.Host = attr(lr, "SigninTable"), attr(lr, "LogonSource"), attr(lr, "Computer")
	}
	return k
}

// assertRuleAlerts compares alerts of both rules as multisets of ruleAlert.
func assertRuleAlerts(t *testing.T, what string, got []plog.LogRecord, want []ruleAlert) {
	t.Helper()
	count := map[ruleAlert]int{}
	for _, k := range want {
		count[k]++
	}
	for _, lr := range got {
		count[ruleAlertOf(lr)]--
	}
	for k, n := range count {
		switch {
		case n > 0:
			t.Errorf("%s: missing alert %v (x%d)", what, k, n)
		case n < 0:
			t.Errorf("%s: unexpected alert %v (x%d)", what, k, -n)
		}
	}
}

// The both-rules collector: OTLP, RFC 5424 syslog over TCP (logger and a raw sender), and a file of
// Windows events in Sentinel's SecurityEvent shape; logs/all runs the processor with emit: all (every
// record plus the alerts), logs/alerts with emit: alerts. Rules is the processor's rules block, empty
// for the default (the seed alone).
const bothRulesConfig = `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{{ .OTLPGRPC }}
      http:
        endpoint: 127.0.0.1:{{ .OTLPHTTP }}
  syslog:
    protocol: rfc5424
    tcp:
      listen_address: 127.0.0.1:{{ .TCP5424 }}
  file_log/securityevents:
    include: ["{{ .Dir }}/securityevents.jsonl"]
    start_at: beginning
    operators:
      - type: json_parser
        parse_to: body
        parse_ints: true
        timestamp:
          parse_from: body.TimeGenerated
          layout_type: gotime
          layout: "2006-01-02T15:04:05Z07:00"

processors:
  aadhostlogincorrelation/all:
    emit: all{{ .Rules }}
  aadhostlogincorrelation/alerts:
    emit: alerts{{ .Rules }}
  batch:
    timeout: 100ms

exporters:
  otlp_grpc/all:
    endpoint: {{ .SinkAll }}
    tls:
      insecure: true
  otlp_grpc/alerts:
    endpoint: {{ .SinkAlerts }}
    tls:
      insecure: true

extensions:
  health_check:
    endpoint: 127.0.0.1:{{ .Health }}

service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs/all:
      receivers: [otlp, syslog, file_log/securityevents]
      processors: [aadhostlogincorrelation/all, batch]
      exporters: [otlp_grpc/all]
    logs/alerts:
      receivers: [otlp, syslog, file_log/securityevents]
      processors: [aadhostlogincorrelation/alerts, batch]
      exporters: [otlp_grpc/alerts]
`

// bothRules is the rules block that turns on both rules.
const bothRules = `
    rules:
      - id: aad-then-host
      - id: host-then-aad`

type bothRulesParams struct {
	OTLPGRPC, OTLPHTTP, TCP5424, Health int
	SinkAll, SinkAlerts, Dir, Rules     string
}

// loggerBatch is several lines one program logs, sent by util-linux logger over RFC 5424/TCP: logger
// reads them from its standard input and sends each line as one message, stamped with its own time.
type loggerBatch struct {
	facility, process string
	pid               int
	lines             []string
}

// failedWindowsLogon is a Windows 4625 of the feed.
type failedWindowsLogon struct {
	source    string // SecurityEvent (written to the file) or WindowsEvent (over OTLP/gRPC)
	computer  string
	addr      string
	logonType int
	at        time.Time
}

// bothRulesFeed is what the both-rules test sends, described once.
type bothRulesFeed struct {
	signIns  []signIn             // over OTLP (via otlpGRPC or otlpHTTP)
	accepted hostLogon            // the seed's host logon, a raw RFC 5424 line over TCP
	failures []failedWindowsLogon // Windows 4625s
	logger   []loggerBatch        // sshd lines, by logger, after everything else
	// the window of the logger lines' times (logger stamps its own)
	loggerFrom, loggerTo time.Time
}

// Addresses of the both-rules feed.
const (
	aAttacker  = "203.0.113.10"  // rule A: 6 failed sign-ins, then an SSH logon
	bAttacker  = "198.51.100.9"  // rule B: a successful sign-in, then 6 sshd failures (and 3 4625s)
	bAttacker6 = "2001:db8::b"   // rule B: 6 SecurityEvent 4625s from the file, then a successful sign-in
	missFive   = "198.51.100.21" // 5 sshd failures and a success: 5 is not more than 5
	missSplit  = "198.51.100.22" // 3 sshd failures + 3 WindowsEvent 4625s and a success: counted per source
	missFailed = "198.51.100.23" // 6 sshd failures and a failed sign-in: no success
	missConn   = "198.51.100.24" // 5 sshd failures + "Connection from": a connection is no failure
	missType2  = "198.51.100.25" // 6 SecurityEvent 4625s of logon type 2 (console) and a success
	missUser   = "198.51.100.26" // 6 sshd failures logged with facility user, and a success
)

func buildBothRulesFeed(now time.Time) *bothRulesFeed {
	t0 := now.Add(-20 * time.Minute).Truncate(time.Second)
	at := func(minute int) time.Time { return t0.Add(time.Duration(minute) * time.Minute) }
	f := &bothRulesFeed{}
	success := func(table, addr, result string, when time.Time, shape signInShape, via wire) {
		f.signIns = append(f.signIns, signIn{table: table, addr: addr, result: result, at: when, shape: shape, via: via})
	}
	windows := func(n int, source, computer, addr string, logonType int, from time.Time) {
		for i := range n {
			f.failures = append(f.failures, failedWindowsLogon{source: source, computer: computer, addr: addr, logonType: logonType,
				at: from.Add(time.Duration(i) * 5 * time.Second)})
		}
	}
	sshd := func(pid int, facility string, lines ...string) {
		f.logger = append(f.logger, loggerBatch{facility: facility, process: "sshd", pid: pid, lines: lines})
	}
	failed := func(n int, user, addr string, port int) []string {
		var out []string
		for range n {
			out = append(out, shapes.SSHD{Event: "Failed", User: user, Addr: addr, Port: port}.String())
		}
		return out
	}

	// Rule A: 6 failed interactive sign-ins (OTLP/gRPC), then sshd's Accepted on web01 (syslog).
	for i := range 6 {
		success(signinLogs, aAttacker, "50126", at(0).Add(time.Duration(i)*7*time.Second), sentinelAttributes, otlpGRPC)
	}
	f.accepted = hostLogon{source: "Syslog", computer: "web01", at: at(3), via: syslogTCP5424, facility: "auth", process: "sshd", pid: 4242,
		message: shapes.SSHD{User: "alice", Addr: aAttacker, Port: 52144}.String()}

	// Rule B over syslog: the successful sign-in comes first; then an invalid user's probe and a root
	// password guess on bastion01, between lines of the same connections that are no failed logon.
	// Six failures count; its 3 SecurityEvent 4625s are counted apart and stay under the threshold.
	success(signinLogs, bAttacker, "0", at(1), sentinelAttributes, otlpGRPC)
	windows(3, "SecurityEvent", "WIN-JUMP01.corp.example.com", bAttacker, 3, at(2))
	sshd(7001, "auth",
		shapes.InvalidUser("admin", bAttacker, 50100),
		shapes.PAMUnknownUser(),
		shapes.PAMAuthFailure(bAttacker, ""),
		shapes.SSHD{Event: "Failed", InvalidUser: true, User: "admin", Addr: bAttacker, Port: 50100}.String(),
		shapes.SSHD{Event: "Failed", InvalidUser: true, User: "admin", Addr: bAttacker, Port: 50100}.String(),
		shapes.ConnectionClosed("invalid user admin", bAttacker, 50100))
	sshd(7002, "authpriv", append(failed(3, "root", bAttacker, 50102),
		shapes.ReceivedDisconnect(bAttacker, 50102, "Bye Bye [preauth]"),
		shapes.Disconnected("authenticating user root", bAttacker, 50102, true))...)

	// Rule B over the file: 6 RDP 4625s (the address written uncompressed), then a successful
	// non-interactive sign-in (ResultType 50125, a diagnostic-settings record over OTLP/HTTP).
	windows(6, "SecurityEvent", "WIN-RDP01.corp.example.com", "2001:db8:0:0:0:0:0:b", 10, at(4))
	success(nonInteractive, bAttacker6, "50125", at(6), diagnosticMapBody, otlpHTTP)

	// Near misses.
	sshd(7101, "auth", failed(5, "oracle", missFive, 50200)...)
	success(signinLogs, missFive, "0", at(7), sentinelAttributes, otlpGRPC)

	sshd(7102, "auth", failed(3, "carol", missSplit, 50210)...)
	windows(3, "WindowsEvent", "WIN-APP02.corp.example.com", missSplit, 3, at(5))
	success(signinLogs, missSplit, "0", at(7), sentinelAttributes, otlpGRPC)

	sshd(7103, "auth", failed(6, "root", missFailed, 50220)...)
	success(signinLogs, missFailed, "50126", at(7), sentinelAttributes, otlpGRPC)

	sshd(7104, "auth", append([]string{shapes.ConnectionFrom(missConn, 50230, "10.1.2.3")},
		failed(5, "git", missConn, 50230)...)...)
	success(signinLogs, missConn, "0", at(7), sentinelAttributes, otlpGRPC)

	windows(6, "SecurityEvent", "WIN-KIOSK01.corp.example.com", missType2, 2, at(4))
	success(nonInteractive, missType2, "0", at(7), sentinelAttributes, otlpGRPC)

	sshd(7105, "user", failed(6, "root", missUser, 50240)...)
	success(signinLogs, missUser, "0", at(7), sentinelAttributes, otlpGRPC)
	return f
}

// bothRulesWant is the feed's alerts with both rules on; the seed alone makes only the first.
var bothRulesWant = []ruleAlert{
	{ruleA, aAttacker, signinLogs, "Syslog", "web01"},
	{ruleB, bAttacker, "Syslog", signinLogs, ""},
	{ruleB, bAttacker6, "SecurityEvent", nonInteractive, ""},
}

// securityEventLine is a 4625 as a Sentinel export writes it, one JSON object a line.
func (w failedWindowsLogon) securityEventLine() string {
	return shapes.Windows{EventID: 4625, LogonType: w.logonType, Addr: w.addr, Computer: w.computer, User: "administrator",
		Numbers: true, Time: w.at}.Line()
}

// sendLoggerBatch sends a batch's lines with logger over RFC 5424/TCP, one message a line.
func sendLoggerBatch(t *testing.T, port int, b loggerBatch) {
	t.Helper()
	cmd := exec.Command("logger", "--server", "127.0.0.1", "--port", strconv.Itoa(port), "--tcp", "--rfc5424",
		"-p", b.facility+".info", "-t", b.process, "--id="+strconv.Itoa(b.pid))
	cmd.Stdin = strings.NewReader(strings.Join(b.lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("logger: %v\n%s", err, out)
	}
}

// send feeds the collector: the file is written before it starts (writeFile), then OTLP, then syslog.
// It returns the number of records sent.
func (f *bothRulesFeed) send(t *testing.T, p bothRulesParams) int {
	t.Helper()
	sent := 0
	grpcEndpoint := fmt.Sprintf("127.0.0.1:%d", p.OTLPGRPC)
	sent += sendOTLPGRPC(t, grpcEndpoint, func(lrs plog.LogRecordSlice) {
		for _, si := range f.signIns {
			if si.via == otlpGRPC {
				si.appendTo(lrs)
			}
		}
		for _, w := range f.failures {
			if w.source == "WindowsEvent" {
				hostLogon{source: "WindowsEvent", computer: w.computer, at: w.at, eventID: 4625, logonType: w.logonType,
					addr: w.addr, account: "carol"}.appendTo(lrs)
			}
		}
	})
	sent += sendOTLPHTTP(t, p.OTLPHTTP, false, func(lrs plog.LogRecordSlice) {
		for _, si := range f.signIns {
			if si.via == otlpHTTP {
				si.appendTo(lrs)
			}
		}
	})
	sendSyslog(t, "tcp", p.TCP5424, []string{f.accepted.rfc5424()})
	sent++
	f.loggerFrom = time.Now()
	for _, b := range f.logger {
		sendLoggerBatch(t, p.TCP5424, b)
		sent += len(b.lines)
	}
	f.loggerTo = time.Now()
	return sent
}

// writeFile writes the SecurityEvent 4625s to the file the collector reads; it returns the lines.
func (f *bothRulesFeed) writeFile(t *testing.T, dir string) int {
	t.Helper()
	var lines []string
	for _, w := range f.failures {
		if w.source == "SecurityEvent" {
			lines = append(lines, w.securityEventLine())
		}
	}
	writeLines(t, filepath.Join(dir, "securityevents.jsonl"), lines)
	return len(lines)
}

// runBothRulesFeed starts a collector with the rules block, feeds it, and returns the alerts of its
// emit: all and emit: alerts pipelines once every record has passed through.
func runBothRulesFeed(t *testing.T, rulesBlock string) (f *bothRulesFeed, all, alerts []plog.LogRecord) {
	t.Helper()
	f = buildBothRulesFeed(time.Now().UTC())
	sinkAll, sinkAlerts := startOTLPSink(t), startOTLPSink(t)
	p := bothRulesParams{
		OTLPGRPC: freePort(t), OTLPHTTP: freePort(t), TCP5424: freePort(t), Health: freePort(t),
		SinkAll: sinkAll.endpoint, SinkAlerts: sinkAlerts.endpoint, Dir: filepath.ToSlash(t.TempDir()), Rules: rulesBlock,
	}
	sent := f.writeFile(t, p.Dir)
	startCollector(t, writeConfig(t, bothRulesConfig, p), p.Health)
	sent += f.send(t, p)

	want := 1
	if rulesBlock != "" {
		want = len(bothRulesWant)
	}
	awaitSink(t, "emit: all", sinkAll, sent, want)
	awaitSink(t, "emit: alerts", sinkAlerts, 0, want)
	all, _, passed := sinkAll.snapshot()
	alerts, _, others := sinkAlerts.snapshot()
	if len(passed) != sent {
		t.Errorf("emit: all passed %d records through, want the %d sent", len(passed), sent)
	}
	if len(others) != 0 {
		t.Errorf("emit: alerts let %d records that are not alerts through", len(others))
	}
	return f, all, alerts
}

// TestBothRulesOverRealProtocols runs the collector with rules A and B and sends, over OTLP, real
// syslog (logger) and a file, an attack of each rule and near misses of rule B: exactly one alert of
// A and two of B, with their columns. The same feed with the default config (the seed alone) makes
// only A's alert.
func TestBothRulesOverRealProtocols(t *testing.T) {
	collectorBinary(t)
	if _, err := exec.LookPath("logger"); err != nil {
		t.Fatalf("logger (util-linux) is needed to send real syslog: %v; install it (apt-get install -y util-linux)", err)
	}

	t.Run("both rules", func(t *testing.T) {
		t.Parallel()
		f, all, alerts := runBothRulesFeed(t, bothRules)
		assertRuleAlerts(t, "emit: alerts", alerts, bothRulesWant)
		assertRuleAlerts(t, "emit: all", all, bothRulesWant)
		for _, a := range alerts {
			t.Logf("alert %v", ruleAlertOf(a))
			checkBothRulesAlert(t, f, a)
		}
	})
	t.Run("default config: the seed alone", func(t *testing.T) {
		t.Parallel()
		f, all, alerts := runBothRulesFeed(t, "")
		assertRuleAlerts(t, "emit: alerts", alerts, bothRulesWant[:1])
		assertRuleAlerts(t, "emit: all", all, bothRulesWant[:1])
		for _, a := range alerts {
			checkBothRulesAlert(t, f, a)
		}
	})
}

// checkBothRulesAlert checks an alert's columns against the feed.
func checkBothRulesAlert(t *testing.T, f *bothRulesFeed, lr plog.LogRecord) {
	t.Helper()
	k := ruleAlertOf(lr)
	check, checkTime := alertColumns(t, lr, k)
	if lr.SeverityNumber() != plog.SeverityNumberWarn || lr.SeverityText() != "Medium" {
		t.Errorf("alert %v: severity %v %q, want WARN Medium", k, lr.SeverityNumber(), lr.SeverityText())
	}
	switch k.Rule {
	case ruleA:
		check("Reason", alertBody)
		check("IpAddress", aAttacker)
		check("FailedSignInCount", "6")
		check("ProcessName", "sshd")
		check("SyslogMessage", f.accepted.message)
		checkTime("TimeGenerated", f.accepted.at, time.Millisecond)
	case ruleB:
		var success signIn
		for _, si := range f.signIns {
			if a, ok := normalAddr(si.addr); ok && a.String() == k.Addr && slices.Contains([]string{"0", "50125", "50140"}, si.result) {
				success = si
			}
		}
		if success.addr == "" {
			t.Errorf("alert %v matches no successful sign-in of the feed", k)
			return
		}
		if lr.Body().AsString() != reverseAlertBody {
			t.Errorf("alert %v: body %q, want %q", k, lr.Body().AsString(), reverseAlertBody)
		}
		check("Reason", reverseAlertBody)
		check("security_rule.name", ruleBName)
		check("Type", success.table)
		check("IPAddress", success.addr)
		check("IPCustomEntity", success.addr)
		check("UserPrincipalName", "mallory@example.com")
		check("AccountCustomEntity", "mallory@example.com")
		check("user.name", "mallory@example.com")
		check("ResultType", success.result)
		check("FailedLogonCount", "6")
		if v, ok := lr.Attributes().Get("FailedLogonCount"); ok && v.Type() != pcommon.ValueTypeInt {
			t.Errorf("alert %v: FailedLogonCount is a %s, want an int", k, v.Type())
		}
		for _, key := range []string{"Computer", "HostName", "host.name", "SigninTable", "LogonSource"} {
			if _, ok := lr.Attributes().Get(key); ok {
				t.Errorf("alert %v: has %s; a sign-in alert names no host logon", k, key)
			}
		}
		checkTime("TimeGenerated", success.at, time.Millisecond)
		switch k.Source {
		case "SecurityEvent":
			var first, last time.Time
			for _, w := range f.failures {
				if a, ok := normalAddr(w.addr); ok && a.String() == k.Addr && w.source == k.Source {
					if first.IsZero() {
						first = w.at
					}
					last = w.at
				}
			}
			checkTime("FirstFailedLogon", first, time.Millisecond)
			checkTime("LastFailedLogon", last, time.Millisecond)
		case "Syslog":
			// logger stamps its own time (RFC 5424: microseconds).
			mid := f.loggerFrom.Add(f.loggerTo.Sub(f.loggerFrom) / 2)
			slack := f.loggerTo.Sub(f.loggerFrom)/2 + time.Second
			checkTime("FirstFailedLogon", mid, slack)
			checkTime("LastFailedLogon", mid, slack)
			first, err1 := time.Parse(time.RFC3339Nano, attr(lr, "FirstFailedLogon"))
			last, err2 := time.Parse(time.RFC3339Nano, attr(lr, "LastFailedLogon"))
			if err1 == nil && err2 == nil && !first.Before(last) {
				t.Errorf("alert %v: FirstFailedLogon %s is not before LastFailedLogon %s", k, first, last)
			}
		}
	default:
		t.Errorf("alert %v: security_rule.uuid %q is neither rule's", k, k.Rule)
	}
}
