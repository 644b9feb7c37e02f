//go:build e2e

package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// The scenario collector: every input transport the distribution has, two pipelines fed by the same
// receivers. logs/all runs the processor with emit: all and exports to one test OTLP server (every
// record plus the alerts); logs/alerts runs it with emit: alerts and exports to another (alerts only).
const scenarioConfig = `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{{ .OTLPGRPC }}
      http:
        endpoint: 127.0.0.1:{{ .OTLPHTTP }}
  syslog/tcp5424:
    protocol: rfc5424
    tcp:
      listen_address: 127.0.0.1:{{ .TCP5424 }}
  syslog/udp5424:
    protocol: rfc5424
    udp:
      listen_address: 127.0.0.1:{{ .UDP5424 }}
  syslog/tcp3164:
    protocol: rfc3164
    tcp:
      listen_address: 127.0.0.1:{{ .TCP3164 }}
  syslog/udp3164:
    protocol: rfc3164
    udp:
      listen_address: 127.0.0.1:{{ .UDP3164 }}
  file_log/auth:
    include: ["{{ .Dir }}/auth.log"]
    start_at: beginning
  file_log/signins:
    include: ["{{ .Dir }}/signins.jsonl"]
    start_at: beginning
    operators:
      - type: json_parser
        parse_to: body
        timestamp:
          parse_from: body.time
          layout_type: gotime
          layout: "2006-01-02T15:04:05Z07:00"

processors:
  aadhostlogincorrelation/all:
    emit: all
  aadhostlogincorrelation/alerts:
    emit: alerts
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
      receivers: [otlp, syslog/tcp5424, syslog/udp5424, syslog/tcp3164, syslog/udp3164, file_log/auth, file_log/signins]
      processors: [aadhostlogincorrelation/all, batch]
      exporters: [otlp_grpc/all]
    logs/alerts:
      receivers: [otlp, syslog/tcp5424, syslog/udp5424, syslog/tcp3164, syslog/udp3164, file_log/auth, file_log/signins]
      processors: [aadhostlogincorrelation/alerts, batch]
      exporters: [otlp_grpc/alerts]
`

// The rule's constants (README: what it detects, and the alert record) at the processor's defaults.
const (
	signinThreshold = 5
	ruleUUID        = "8ee967a2-a645-4832-85f4-72b635bcb3a6"
	signinLogs      = "SigninLogs"
	nonInteractive  = "AADNonInteractiveUserSignInLogs"
)

// How a record reaches the collector.
type wire int

const (
	otlpGRPC      wire = iota // OTLP/gRPC, protobuf
	otlpHTTP                  // OTLP/HTTP, protobuf
	otlpHTTPJSON              // OTLP/HTTP, JSON encoding
	syslogTCP5424             // RFC 5424 over TCP (newline framing)
	syslogUDP5424             // RFC 5424 over UDP
	syslogTCP3164             // RFC 3164 over TCP
	loggerUDP3164             // util-linux logger, RFC 3164 over UDP
	authLogFile               // a line of auth.log read by the filelog receiver
	signinsFile               // a line of signins.jsonl read by the filelog receiver
)

// signInShape is which of the recognised sign-in shapes (README's input table) a sign-in is sent as.
type signInShape int

const (
	sentinelAttributes signInShape = iota // Log Analytics schema in attributes (Type, IPAddress, ResultType)
	diagnosticMapBody                     // diagnostic-settings record as a map body (a JSON parse upstream)
	diagnosticJSONBody                    // diagnostic-settings record as a JSON string body
)

// signIn is one Entra ID sign-in of the scenario.
type signIn struct {
	table  string // SigninLogs or AADNonInteractiveUserSignInLogs
	addr   string // as written in the record
	result string // ResultType
	at     time.Time
	shape  signInShape
	via    wire
}

// hostLogon is one record that may be a host logon: a syslog message or a Windows event.
type hostLogon struct {
	source   string // Syslog, SecurityEvent or WindowsEvent
	computer string
	at       time.Time
	via      wire
	// Syslog
	facility string // auth, authpriv, user, cron
	process  string
	pid      int
	message  string
	// Windows
	eventID   int
	logonType int
	addr      string // IpAddress as written in the event
	account   string
}

// alertKey identifies an alert the way the assertions compare them.
type alertKey struct{ IpAddress, Computer, SigninTable, LogonSource string }

func (k alertKey) String() string {
	return fmt.Sprintf("{%s %s %s %s}", k.IpAddress, k.Computer, k.SigninTable, k.LogonSource)
}

// scenario is everything sent, described once: rendered onto the wire by the senders below and read
// by expectedAlerts, the rule's semantics written out plainly.
type scenario struct {
	signIns []signIn
	logons  []hostLogon
	// unrelated records (neither a sign-in nor a logon) by wire; they must pass through too
	noise map[wire][]string
	// loggerHost is the host name logger writes into its RFC 3164 header
	loggerHost string
}

func (s *scenario) failures(n int, table, addr, result string, from time.Time, shape signInShape, via wire) {
	for i := range n {
		s.signIns = append(s.signIns, signIn{table: table, addr: addr, result: result, at: from.Add(time.Duration(i) * 7 * time.Second), shape: shape, via: via})
	}
}

// buildScenario describes what is sent. The logger logon's host is this machine's short name;
// useLoggerHost corrects it to what logger really writes.
func buildScenario(now time.Time) *scenario {
	t0 := now.Add(-20 * time.Minute).Truncate(time.Second)
	at := func(minute int) time.Time { return t0.Add(time.Duration(minute) * time.Minute) }
	hostname, err := os.Hostname()
	if err != nil || hostname == "" {
		hostname = "localhost"
	}
	s := &scenario{loggerHost: shortHost(hostname), noise: map[wire][]string{}}

	// A: 6 interactive failures (Sentinel schema over OTLP/gRPC), sshd logon over RFC 5424/TCP.
	s.failures(4, signinLogs, "203.0.113.10", "50126", at(0), sentinelAttributes, otlpGRPC)
	s.failures(2, signinLogs, "203.0.113.10", "50053", at(1), sentinelAttributes, otlpGRPC)
	s.logons = append(s.logons,
		hostLogon{source: "Syslog", computer: "web01", at: at(3), via: syslogTCP5424, facility: "auth", process: "sshd", pid: 4242,
			message: shapes.SSHD{User: "alice", Addr: "203.0.113.10", Port: 52144}.String()},
		// Not logons, same address: sudo is excluded; the user facility is not auth; logon type 2
		// does not count; 4625 is a failed logon.
		hostLogon{source: "Syslog", computer: "web01", at: at(4), via: syslogTCP5424, facility: "authpriv", process: "sudo", pid: 4250,
			message: shapes.SudoCommand("alice", "/usr/bin/grep Accepted.*203.0.113.10 /var/log/auth.log")},
		hostLogon{source: "Syslog", computer: "web01", at: at(4), via: syslogTCP5424, facility: "user", process: "sshd", pid: 4251,
			message: shapes.SSHD{User: "alice", Addr: "203.0.113.10", Port: 52150}.String()},
		hostLogon{source: "SecurityEvent", computer: "WIN-KIOSK01.corp.example.com", at: at(4), via: otlpGRPC, eventID: 4624, logonType: 2, addr: "203.0.113.10", account: `CORP\alice`},
		hostLogon{source: "SecurityEvent", computer: "WIN-KIOSK01.corp.example.com", at: at(4), via: otlpGRPC, eventID: 4625, logonType: 3, addr: "203.0.113.10", account: `\administrator`},
	)

	// B: 6 non-interactive failures (diagnostic map body over OTLP/HTTP), logon sent by logger over
	// RFC 3164/UDP with facility authpriv.
	s.failures(6, nonInteractive, "203.0.113.20", "50126", at(0), diagnosticMapBody, otlpHTTP)
	s.logons = append(s.logons, hostLogon{source: "Syslog", computer: s.loggerHost, at: now, via: loggerUDP3164, facility: "authpriv", process: "sshd", pid: 4711,
		message: shapes.SSHD{Method: "publickey", User: "bob", Addr: "203.0.113.20", Port: 40022, Extra: "ED25519 SHA256:p8Y2v3x0kqT1n9bQ3rVbIuLk2mJ0aWcYbq0zGgE1p5c"}.String()})

	// C: 6 + 6 failures in both tables (JSON string body over OTLP/HTTP JSON, Sentinel schema over
	// gRPC); an RDP logon whose address is IPv4-mapped IPv6: two alerts.
	s.failures(6, signinLogs, "198.51.100.30", "50126", at(2), diagnosticJSONBody, otlpHTTPJSON)
	s.failures(6, nonInteractive, "198.51.100.30", "50055", at(2), sentinelAttributes, otlpGRPC)
	s.logons = append(s.logons, hostLogon{source: "SecurityEvent", computer: "WIN-RDP01.corp.example.com", at: at(5), via: otlpGRPC,
		eventID: 4624, logonType: 10, addr: "::ffff:198.51.100.30", account: `CORP\mallory`})

	// D: 6 non-interactive failures; OpenSSH 9.8 sshd-session logon over RFC 3164/TCP.
	s.failures(6, nonInteractive, "192.0.2.80", "50126", at(1), diagnosticMapBody, otlpHTTP)
	s.logons = append(s.logons, hostLogon{source: "Syslog", computer: "bastion01", at: at(6), via: syslogTCP3164, facility: "auth", process: "sshd-session", pid: 9191,
		message: shapes.SSHD{Method: "keyboard-interactive/pam", User: "carol", Addr: "192.0.2.80", Port: 60000}.String()})

	// E: a WindowsEvent logon from IPv6 (written uncompressed) sent first; its 6 failures (written
	// compressed) arrive after it. Order of arrival is free: the sixth failure raises the alert.
	s.logons = append(s.logons, hostLogon{source: "WindowsEvent", computer: "WIN-APP02.corp.example.com", at: at(7), via: otlpGRPC,
		eventID: 4624, logonType: 3, addr: "2001:db8:0:0:0:0:0:77", account: "svc-app"})
	s.failures(6, signinLogs, "2001:db8::77", "50126", at(8), sentinelAttributes, otlpGRPC)

	// F: files through the filelog receiver: 6 failures in signins.jsonl, the logon in auth.log.
	s.failures(6, signinLogs, "203.0.113.70", "50126", at(3), diagnosticJSONBody, signinsFile)
	s.logons = append(s.logons, hostLogon{source: "Syslog", computer: "files01", at: at(9), via: authLogFile, facility: "auth", process: "sshd", pid: 31337,
		message: shapes.SSHD{User: "erin", Addr: "203.0.113.70", Port: 50123}.String()})

	// G: 4 + 4 failures across the two tables: counted per table, neither is over the threshold.
	s.failures(4, signinLogs, "198.51.100.40", "50126", at(2), sentinelAttributes, otlpGRPC)
	s.failures(4, nonInteractive, "198.51.100.40", "50126", at(2), diagnosticMapBody, otlpHTTP)
	s.logons = append(s.logons,
		hostLogon{source: "Syslog", computer: "db01", at: at(5), via: syslogUDP5424, facility: "authpriv", process: "sshd", pid: 777,
			message: shapes.SSHD{Method: "publickey", User: "bob", Addr: "198.51.100.40", Port: 41000, Extra: "RSA SHA256:Vh7p1gq9f5m2T0uX3yKc8dLr6sNwZbJeOaHiQtA4B2E"}.String()},
		hostLogon{source: "SecurityEvent", computer: "WIN-FS02.corp.example.com", at: at(5), via: otlpHTTP, eventID: 4624, logonType: 3, addr: "198.51.100.40", account: `CORP\bob`})

	// H: exactly the threshold (5 failures) among results that are not failures (0, 50125, 50140).
	s.failures(5, signinLogs, "198.51.100.50", "50126", at(0), sentinelAttributes, otlpGRPC)
	s.failures(1, signinLogs, "198.51.100.50", "0", at(1), sentinelAttributes, otlpGRPC)
	s.failures(1, signinLogs, "198.51.100.50", "50125", at(1), diagnosticMapBody, otlpHTTP)
	s.failures(1, signinLogs, "198.51.100.50", "50140", at(1), diagnosticJSONBody, otlpHTTPJSON)
	s.logons = append(s.logons, hostLogon{source: "Syslog", computer: "web02", at: at(6), via: syslogTCP3164, facility: "auth", process: "sshd", pid: 5150,
		message: shapes.SSHD{User: "dave", Addr: "198.51.100.50", Port: 55555}.String()})

	// I: loopback sign-ins never count.
	s.failures(6, signinLogs, "127.0.0.1", "50126", at(0), sentinelAttributes, otlpGRPC)
	s.logons = append(s.logons, hostLogon{source: "Syslog", computer: "web01", at: at(6), via: syslogTCP5424, facility: "auth", process: "sshd", pid: 4300,
		message: shapes.SSHD{User: "root", Addr: "127.0.0.1", Port: 34000}.String()})

	// J: a user named like a suspicious address: the sshd grammar takes the address after "from".
	s.logons = append(s.logons, hostLogon{source: "Syslog", computer: "web01", at: at(7), via: syslogTCP5424, facility: "auth", process: "sshd", pid: 4310,
		message: shapes.SSHD{User: "203.0.113.10", Addr: "192.0.2.99", Port: 34100}.String()})

	// Unrelated records on several wires.
	s.noise[syslogTCP5424] = []string{shapes.Syslog{Shape: shapes.RFC5424, Host: "web01", Process: "CRON", PID: 9999, Facility: "cron",
		Message: shapes.SessionOpened("cron", "root", 0, "root", 0), Time: at(2)}.Line()}
	s.noise[otlpGRPC] = []string{shapes.App{Route: "/healthz", Millis: 1}.Line()}
	s.noise[authLogFile] = []string{shapes.Syslog{Shape: shapes.AuthLogFile, Host: "files01", Process: "CRON", PID: 4100, Facility: "cron",
		Message: shapes.SessionClosed("cron", "root"), Time: at(2)}.Line()}
	return s
}

// ---------------------------------------------------------------------------------------------------
// The rule's semantics, written out plainly: the expected alerts of a scenario.

var sshdAccepted = regexp.MustCompile(`^Accepted \S+ for .+ from (\S+) port \d+`)

// hasTerm is KQL's has: a whole term, case-insensitive.
func hasTerm(s, term string) bool {
	for _, w := range regexp.MustCompile(`[A-Za-z0-9_]+`).FindAllString(s, -1) {
		if strings.EqualFold(w, term) {
			return true
		}
	}
	return false
}

func normalAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// logonAddr returns a logon's source address if the record is a host logon of the rule.
func logonAddr(l hostLogon) (netip.Addr, bool) {
	switch l.source {
	case "Syslog":
		if !strings.Contains(l.facility, "auth") || l.process == "sudo" || !hasTerm(l.message, "Accepted") {
			return netip.Addr{}, false
		}
		if m := sshdAccepted.FindStringSubmatch(l.message); m != nil {
			return normalAddr(m[1])
		}
		return normalAddr(regexp.MustCompile(`\d+\.\d+\.\d+\.\d+`).FindString(l.message))
	default:
		if l.eventID != 4624 || !slices.Contains([]int{10, 7, 3}, l.logonType) || l.addr == "-" {
			return netip.Addr{}, false
		}
		return normalAddr(l.addr)
	}
}

// failedAddr returns a sign-in's address if it is a failed sign-in of the rule.
func failedAddr(s signIn) (netip.Addr, bool) {
	if slices.Contains([]string{"0", "50125", "50140"}, s.result) {
		return netip.Addr{}, false
	}
	a, ok := normalAddr(s.addr)
	if !ok || a == netip.MustParseAddr("127.0.0.1") || a == netip.IPv6Loopback() {
		return netip.Addr{}, false
	}
	return a, true
}

// expectedAlerts: one alert per (logon, table) with more than signinThreshold failures of that table
// from the logon's address within the window (every time in the scenario is within one hour).
func (s *scenario) expectedAlerts() []alertKey {
	var out []alertKey
	for _, l := range s.logons {
		addr, ok := logonAddr(l)
		if !ok {
			continue
		}
		for _, table := range []string{signinLogs, nonInteractive} {
			n := 0
			for _, si := range s.signIns {
				if a, ok := failedAddr(si); ok && a == addr && si.table == table {
					n++
				}
			}
			if n > signinThreshold {
				out = append(out, alertKey{addr.String(), l.computer, table, l.source})
			}
		}
	}
	return out
}

// ---------------------------------------------------------------------------------------------------
// Rendering onto the wire.

// The records and lines are the shapes package's, the one builder of every input shape.

// syslog is the logon as a line of shape.
func (l hostLogon) syslog(shape shapes.SyslogShape) shapes.Syslog {
	return shapes.Syslog{Shape: shape, Host: l.computer, Process: l.process, PID: l.pid, Facility: l.facility, Message: l.message, Time: l.at}
}

func (l hostLogon) rfc5424() string { return l.syslog(shapes.RFC5424).Line() }

func (l hostLogon) rfc3164() string { return l.syslog(shapes.RFC3164).Line() }

// authLogLine is a line of /var/log/auth.log as rsyslog writes it on Debian 12 (no PRI).
func (l hostLogon) authLogLine() string { return l.syslog(shapes.AuthLogFile).Line() }

// spec is the sign-in as the shapes package builds it.
func (s signIn) spec() shapes.SignIn {
	spec := shapes.SignIn{Table: s.table, Addr: s.addr, Result: s.result, User: "mallory@example.com", Time: s.at}
	switch s.shape {
	case diagnosticMapBody:
		spec.Shape, spec.Place, spec.UserDisplayName = shapes.DiagnosticSignIn, shapes.InMapBody, "Mallory"
	case diagnosticJSONBody:
		spec.Shape, spec.Place, spec.UserDisplayName = shapes.DiagnosticSignIn, shapes.InJSONBody, "Mallory"
	default:
		// Values arrive as strings or numbers; odd codes (50053, 50055) go as numbers.
		code, err := strconv.Atoi(s.result)
		spec.NumericResult = err == nil && code%2 == 1
	}
	return spec
}

func (s signIn) appendTo(lrs plog.LogRecordSlice) {
	lr := lrs.AppendEmpty()
	s.spec().Fill(lr)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(s.at))
}

func (l hostLogon) appendTo(lrs plog.LogRecordSlice) {
	lr := lrs.AppendEmpty()
	switch l.source {
	case "SecurityEvent":
		domain, user, _ := strings.Cut(l.account, `\`)
		shapes.Windows{EventID: l.eventID, LogonType: l.logonType, Addr: l.addr, Computer: l.computer, User: user, Domain: domain,
			Numbers: true, Time: l.at}.Fill(lr)
	case "WindowsEvent":
		shapes.Windows{Shape: shapes.WindowsEventRow, Place: shapes.InMapBody, EventID: l.eventID, LogonType: l.logonType, Addr: l.addr,
			Computer: l.computer, User: l.account, Domain: "CORP", Time: l.at}.Fill(lr)
		lr.Body().Map().PutDouble("EventID", float64(l.eventID)) // a JSON number parsed as a double
	default:
		panic("no OTLP form for " + l.source)
	}
	lr.SetTimestamp(pcommon.NewTimestampFromTime(l.at))
}

// ---------------------------------------------------------------------------------------------------
// Senders.

type ports struct {
	OTLPGRPC, OTLPHTTP, TCP5424, UDP5424, TCP3164, UDP3164, Health int
	SinkAll, SinkAlerts                                            string
	Dir                                                            string
}

func sendOTLPGRPC(t *testing.T, endpoint string, lrsFill func(plog.LogRecordSlice)) int {
	t.Helper()
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	ld := newLogs(lrsFill)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(ld)); err != nil {
		t.Fatalf("OTLP/gRPC export: %v", err)
	}
	return ld.LogRecordCount()
}

func sendOTLPHTTP(t *testing.T, port int, asJSON bool, lrsFill func(plog.LogRecordSlice)) int {
	t.Helper()
	ld := newLogs(lrsFill)
	req := plogotlp.NewExportRequestFromLogs(ld)
	body, contentType, err := []byte(nil), "application/x-protobuf", error(nil)
	if asJSON {
		body, err = req.MarshalJSON()
		contentType = "application/json"
	} else {
		body, err = req.MarshalProto()
	}
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/v1/logs", port), contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("OTLP/HTTP export: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("OTLP/HTTP export (%s): status %s", contentType, resp.Status)
	}
	return ld.LogRecordCount()
}

func newLogs(fill func(plog.LogRecordSlice)) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "e2e-scenario")
	fill(rl.ScopeLogs().AppendEmpty().LogRecords())
	return ld
}

func sendSyslog(t *testing.T, network string, port int, lines []string) {
	t.Helper()
	if len(lines) == 0 {
		return
	}
	conn, err := net.Dial(network, fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	for _, line := range lines {
		if network == "tcp" {
			line += "\n" // non-transparent framing, as logger and rsyslog send over TCP
		}
		if _, err := conn.Write([]byte(line)); err != nil {
			t.Fatalf("syslog %s: %v", network, err)
		}
		time.Sleep(5 * time.Millisecond) // one datagram or line at a time, as a sender would
	}
}

// sendLogger sends one message with util-linux logger (RFC 3164 over UDP). logger writes local time
// and the syslog receiver reads RFC 3164 times as UTC, so logger runs with TZ=UTC.
func sendLogger(t *testing.T, port int, l hostLogon) {
	t.Helper()
	cmd := exec.Command("logger", "--server", "127.0.0.1", "--port", strconv.Itoa(port), "--udp", "--rfc3164",
		"-p", l.facility+".info", "-t", l.process, "--id="+strconv.Itoa(l.pid), l.message)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("logger: %v\n%s", err, out)
	}
}

// useLoggerHost sets the host of the logons sent with logger.
func (s *scenario) useLoggerHost(host string) {
	s.loggerHost = host
	for i := range s.logons {
		if s.logons[i].via == loggerUDP3164 {
			s.logons[i].computer = host
		}
	}
}

// loggerHostname asks logger which host name it writes into an RFC 3164 header, by sending one
// message to a UDP socket of the test.
func loggerHostname(t *testing.T) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	cmd := exec.Command("logger", "--server", "127.0.0.1", "--port", strconv.Itoa(port), "--udp", "--rfc3164", "-t", "probe", "hello")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("logger: %v\n%s", err, out)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	n, _, err := conn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("reading logger's probe message: %v", err)
	}
	// <PRI>Mmm dd hh:mm:ss HOST probe: hello
	m := regexp.MustCompile(`^<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d (\S+) probe`).FindSubmatch(buf[:n])
	if m == nil {
		t.Fatalf("logger's probe message %q has no host name", buf[:n])
	}
	return string(m[1])
}

// ---------------------------------------------------------------------------------------------------

// TestScenario sends sign-ins and host logons over every transport of the distribution and checks the
// exact set of alerts against the rule's semantics, their attributes, and that every record passes
// through.
func TestScenario(t *testing.T) {
	collectorBinary(t)
	if _, err := exec.LookPath("logger"); err != nil {
		t.Fatalf("logger (util-linux) is needed to send real syslog: %v; install it (apt-get install -y util-linux)", err)
	}

	now := time.Now().UTC()
	s := buildScenario(now)
	s.useLoggerHost(loggerHostname(t))
	want := s.expectedAlerts()
	if len(want) != 7 {
		// The scenario is built to produce 7 alerts (A 1, B 1, C 2, D 1, E 1, F 1); a different count
		// means the model or the scenario changed, not the processor.
		t.Fatalf("the scenario's model expects %d alerts, want 7: %v", len(want), want)
	}

	sinkAll, sinkAlerts := startOTLPSink(t), startOTLPSink(t)
	p := ports{
		OTLPGRPC: freePort(t), OTLPHTTP: freePort(t), TCP5424: freePort(t), UDP5424: freeUDPPort(t),
		TCP3164: freePort(t), UDP3164: freeUDPPort(t), Health: freePort(t),
		SinkAll: sinkAll.endpoint, SinkAlerts: sinkAlerts.endpoint, Dir: filepath.ToSlash(t.TempDir()),
	}

	// The files exist before the collector starts; the filelog receivers read them from the beginning.
	sent := 0
	var authLines, signinLines []string
	authLines = append(authLines, s.noise[authLogFile]...)
	for _, l := range s.logons {
		if l.via == authLogFile {
			authLines = append(authLines, l.authLogLine())
		}
	}
	for _, si := range s.signIns {
		if si.via == signinsFile {
			signinLines = append(signinLines, si.spec().Line())
		}
	}
	writeLines(t, filepath.Join(p.Dir, "auth.log"), authLines)
	writeLines(t, filepath.Join(p.Dir, "signins.jsonl"), signinLines)
	sent += len(authLines) + len(signinLines)

	startCollector(t, writeConfig(t, scenarioConfig, p), p.Health)
	grpcEndpoint := fmt.Sprintf("127.0.0.1:%d", p.OTLPGRPC)

	// E's logon goes first, alone: its failures must arrive after it.
	for _, l := range s.logons {
		if l.source == "WindowsEvent" {
			sent += sendOTLPGRPC(t, grpcEndpoint, l.appendTo)
		}
	}
	// Sign-ins, one OTLP request per wire.
	for _, via := range []wire{otlpGRPC, otlpHTTP, otlpHTTPJSON} {
		fill := func(lrs plog.LogRecordSlice) {
			for _, si := range s.signIns {
				if si.via == via {
					si.appendTo(lrs)
				}
			}
		}
		switch via {
		case otlpGRPC:
			sent += sendOTLPGRPC(t, grpcEndpoint, fill)
		case otlpHTTP:
			sent += sendOTLPHTTP(t, p.OTLPHTTP, false, fill)
		case otlpHTTPJSON:
			sent += sendOTLPHTTP(t, p.OTLPHTTP, true, fill)
		}
	}
	// Windows logons over OTLP.
	sent += sendOTLPGRPC(t, grpcEndpoint, func(lrs plog.LogRecordSlice) {
		for _, l := range s.logons {
			if l.via == otlpGRPC && l.source == "SecurityEvent" {
				l.appendTo(lrs)
			}
		}
		for _, text := range s.noise[otlpGRPC] {
			lrs.AppendEmpty().Body().SetStr(text)
		}
	})
	sent += sendOTLPHTTP(t, p.OTLPHTTP, false, func(lrs plog.LogRecordSlice) {
		for _, l := range s.logons {
			if l.via == otlpHTTP {
				l.appendTo(lrs)
			}
		}
	})
	// Syslog.
	lines := map[wire][]string{}
	for _, l := range s.logons {
		switch l.via {
		case syslogTCP5424, syslogUDP5424:
			lines[l.via] = append(lines[l.via], l.rfc5424())
		case syslogTCP3164:
			lines[l.via] = append(lines[l.via], l.rfc3164())
		case loggerUDP3164:
			sendLogger(t, p.UDP3164, l)
			sent++
		}
	}
	lines[syslogTCP5424] = append(lines[syslogTCP5424], s.noise[syslogTCP5424]...)
	sendSyslog(t, "tcp", p.TCP5424, lines[syslogTCP5424])
	sendSyslog(t, "udp", p.UDP5424, lines[syslogUDP5424])
	sendSyslog(t, "tcp", p.TCP3164, lines[syslogTCP3164])
	sent += len(lines[syslogTCP5424]) + len(lines[syslogUDP5424]) + len(lines[syslogTCP3164])

	// Wait for every record to pass through and for the expected number of alerts, then a little
	// longer so that an extra alert would be seen.
	deadline := time.Now().Add(30 * time.Second)
	for {
		allAlerts, _, passed := sinkAll.snapshot()
		alerts, _, _ := sinkAlerts.snapshot()
		if len(passed) >= sent && len(allAlerts) >= len(want) && len(alerts) >= len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("after 30s: %d of %d records passed through, %d and %d of %d alerts (emit: all, emit: alerts)",
				len(passed), sent, len(allAlerts), len(alerts), len(want))
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)

	allAlerts, _, passed := sinkAll.snapshot()
	alerts, scopes, others := sinkAlerts.snapshot()
	if len(passed) != sent {
		t.Errorf("emit: all passed %d records through, want the %d sent", len(passed), sent)
	}
	if len(others) != 0 {
		t.Errorf("emit: alerts let %d records that are not alerts through", len(others))
	}
	assertAlertSet(t, "emit: alerts", alerts, want)
	assertAlertSet(t, "emit: all", allAlerts, want)
	for _, scope := range scopes {
		if !strings.Contains(scope, "aadhostlogincorrelation") {
			t.Errorf("alert scope %q is not the processor's", scope)
		}
	}
	for _, a := range alerts {
		t.Logf("alert %v FailedSignInCount=%s TimeGenerated=%s", keyOf(a), attr(a, "FailedSignInCount"), attr(a, "TimeGenerated"))
		checkAlertAttributes(t, s, a, now)
	}
}

func writeLines(t *testing.T, path string, lines []string) {
	t.Helper()
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func keyOf(lr plog.LogRecord) alertKey {
	return alertKey{attr(lr, "IpAddress"), attr(lr, "Computer"), attr(lr, "SigninTable"), attr(lr, "LogonSource")}
}

// assertAlertSet compares alerts as multisets of (IpAddress, Computer, SigninTable, LogonSource).
func assertAlertSet(t *testing.T, what string, got []plog.LogRecord, want []alertKey) {
	t.Helper()
	count := map[alertKey]int{}
	for _, k := range want {
		count[k]++
	}
	for _, lr := range got {
		count[keyOf(lr)]--
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

// checkAlertAttributes checks an alert's fixed fields and its projection of the logon it reports.
func checkAlertAttributes(t *testing.T, s *scenario, lr plog.LogRecord, now time.Time) {
	t.Helper()
	k := keyOf(lr)
	var logon *hostLogon
	for i := range s.logons {
		if addr, ok := logonAddr(s.logons[i]); ok && addr.String() == k.IpAddress && s.logons[i].computer == k.Computer && s.logons[i].source == k.LogonSource {
			logon = &s.logons[i]
		}
	}
	if logon == nil {
		t.Errorf("alert %v matches no logon of the scenario", k)
		return
	}
	check := func(key, want string) {
		t.Helper()
		if got := attr(lr, key); got != want {
			t.Errorf("alert %v: %s = %q, want %q", k, key, got, want)
		}
	}
	if lr.SeverityNumber() != plog.SeverityNumberWarn || lr.SeverityText() != "Medium" {
		t.Errorf("alert %v: severity %v %q, want WARN Medium", k, lr.SeverityNumber(), lr.SeverityText())
	}
	check("Reason", alertBody)
	check("security_rule.uuid", ruleUUID)
	check("source.address", k.IpAddress)
	check("HostName", shortHost(k.Computer))
	check("FailedSignInCount", strconv.Itoa(signinThreshold+1))
	for _, key := range []string{"FirstFailedSignIn", "LastFailedSignIn", "security_rule.name"} {
		if attr(lr, key) == "" {
			t.Errorf("alert %v: %s is missing", k, key)
		}
	}

	// The alert's time is the logon's event time. logger stamps its own time (whole seconds).
	wantTime, slack := logon.at, time.Millisecond
	if logon.via == loggerUDP3164 {
		wantTime, slack = now, 30*time.Second
	}
	if logon.via == syslogTCP3164 {
		slack = time.Second // RFC 3164 has whole seconds
	}
	generated, err := time.Parse(time.RFC3339Nano, attr(lr, "TimeGenerated"))
	if err != nil {
		t.Errorf("alert %v: TimeGenerated %q: %v", k, attr(lr, "TimeGenerated"), err)
	} else if d := generated.Sub(wantTime).Abs(); d > slack {
		t.Errorf("alert %v: TimeGenerated %s, want the logon's time %s", k, generated, wantTime)
	}
	if d := lr.Timestamp().AsTime().Sub(generated).Abs(); err == nil && d > time.Millisecond {
		t.Errorf("alert %v: Timestamp %s differs from TimeGenerated %s", k, lr.Timestamp().AsTime(), generated)
	}

	switch logon.source {
	case "Syslog":
		check("ProcessName", logon.process)
		check("Facility", logon.facility)
		check("SyslogMessage", logon.message)
	case "SecurityEvent":
		check("EventID", "4624")
		check("Account", logon.account)
	case "WindowsEvent":
		check("EventID", "4624")
		check("TargetUserName", logon.account)
	}
	if id, ok := lr.Attributes().Get("EventID"); ok && id.Type() != pcommon.ValueTypeInt {
		t.Errorf("alert %v: EventID is a %s, want an int as the KQL's column", k, id.Type())
	}
}
