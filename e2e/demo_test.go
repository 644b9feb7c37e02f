//go:build e2e

package e2e_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/tools/alertline"
)

// demoOverlay is merged over examples/demo/config.yaml (the collector merges its --config files in
// order: maps key by key, lists replaced): the demo as shipped, reading the shipped files, with its
// listening ports moved to free ones, its alerts file in the test's folder, a health check, and each
// pipeline also exporting to a test OTLP server. Rules, when set, replaces both processors' rules.
const demoOverlay = `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{{ .OTLPGRPC }}
      http:
        endpoint: 127.0.0.1:{{ .OTLPHTTP }}
  syslog:
    tcp:
      listen_address: 127.0.0.1:{{ .Syslog }}
{{- if .Rules }}
processors:
  aadhostlogincorrelation:
    rules: {{ .Rules }}
  aadhostlogincorrelation/alerts:
    rules: {{ .Rules }}
{{- end }}
exporters:
  file/records:
    path: {{ .RecordsFile }}
  file/alerts:
    path: {{ .AlertsFile }}
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
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {{ .Metrics }}
  pipelines:
    logs:
      exporters: [file/records, otlp_grpc/all]
    logs/alerts:
      exporters: [file/alerts, otlp_grpc/alerts]
`

type demoParams struct {
	OTLPGRPC, OTLPHTTP, Syslog, Health, Metrics int
	SinkAll, SinkAlerts, AlertsFile, Rules      string
	RecordsFile                                 string
}

// demoExpectation is what examples/demo/EXPECTED.md says the demo must produce.
type demoExpectation struct {
	lines  map[string]int // data file -> its number of lines
	total  int            // "exactly these **N alerts**"
	alerts []ruleAlert    // the rows of the two alert tables
	// columns of rule B's rows to check beyond the key, by alert key
	columns map[ruleAlert]map[string]string
}

// mdTable is a Markdown table: its header cells and its rows, each a map from header cell to cell.
type mdTable struct {
	header []string
	rows   []map[string]string
}

// mdTables reads the pipe tables of a Markdown document.
func mdTables(doc string) []mdTable {
	cells := func(line string) []string {
		line = strings.TrimSpace(line)
		line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
		out := strings.Split(line, "|")
		for i := range out {
			out[i] = strings.TrimSpace(out[i])
		}
		return out
	}
	var tables []mdTable
	var cur *mdTable
	sc := bufio.NewScanner(strings.NewReader(doc))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(strings.TrimSpace(line), "|") {
			cur = nil
			continue
		}
		c := cells(line)
		switch {
		case cur == nil:
			tables = append(tables, mdTable{header: c})
			cur = &tables[len(tables)-1]
		case strings.Trim(strings.Join(c, ""), "-: ") == "":
			// the delimiter row
		default:
			row := map[string]string{}
			for i, h := range cur.header {
				if i < len(c) {
					row[h] = strings.Trim(c[i], "`")
				}
			}
			cur.rows = append(cur.rows, row)
		}
	}
	return tables
}

func hasColumns(t mdTable, names ...string) bool {
	if len(t.header) < len(names) {
		return false
	}
	for i, n := range names {
		if t.header[i] != n {
			return false
		}
	}
	return true
}

// readDemoExpectation parses EXPECTED.md: the files' line counts, the number of alerts, and the
// tables of rule A's alerts (IpAddress, Computer, SigninTable, LogonSource) and rule B's (IPAddress,
// Type, UserPrincipalName, ResultType, FailedLogonSource, FailedLogonCount).
func readDemoExpectation(t *testing.T, path string) demoExpectation {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	e := demoExpectation{lines: map[string]int{}, columns: map[ruleAlert]map[string]string{}}
	m := regexp.MustCompile(`exactly these \*\*(\d+) alerts\*\*`).FindStringSubmatch(doc)
	if m == nil {
		t.Fatalf("%s: no \"exactly these **N alerts**\"", path)
	}
	e.total, _ = strconv.Atoi(m[1])
	var tablesA, tablesB int
	for _, table := range mdTables(doc) {
		switch {
		case hasColumns(table, "file", "lines"):
			for _, row := range table.rows {
				n, err := strconv.Atoi(row["lines"])
				if err != nil {
					t.Fatalf("%s: file %s has lines %q", path, row["file"], row["lines"])
				}
				e.lines[row["file"]] = n
			}
		case hasColumns(table, "IpAddress", "Computer", "SigninTable", "LogonSource"):
			tablesA++
			for _, row := range table.rows {
				e.alerts = append(e.alerts, ruleAlert{ruleA, row["IpAddress"], row["SigninTable"], row["LogonSource"], row["Computer"]})
			}
		case hasColumns(table, "IPAddress", "Type", "UserPrincipalName", "ResultType", "FailedLogonSource", "FailedLogonCount"):
			tablesB++
			for _, row := range table.rows {
				k := ruleAlert{ruleB, row["IPAddress"], row["FailedLogonSource"], row["Type"], ""}
				e.alerts = append(e.alerts, k)
				e.columns[k] = map[string]string{
					"IPAddress": row["IPAddress"], "UserPrincipalName": row["UserPrincipalName"],
					"AccountCustomEntity": row["UserPrincipalName"], "ResultType": row["ResultType"],
					"FailedLogonCount": row["FailedLogonCount"],
				}
			}
		}
	}
	if tablesA != 1 || tablesB != 1 || len(e.lines) != 3 {
		t.Fatalf("%s: found %d tables of rule A's alerts, %d of rule B's, %d files; want 1, 1, 3", path, tablesA, tablesB, len(e.lines))
	}
	if len(e.alerts) != e.total {
		t.Fatalf("%s says exactly %d alerts, its tables list %d", path, e.total, len(e.alerts))
	}
	return e
}

// countLines is the number of lines of a file.
func countLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

// readAlertsFile reads the file exporter's OTLP JSON (one request a line) and returns its records.
func readAlertsFile(t *testing.T, path string) []plog.LogRecord {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the alerts file: %v", err)
	}
	var out []plog.LogRecord
	var u plog.JSONUnmarshaler
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ld, err := u.UnmarshalLogs(line)
		if err != nil {
			t.Fatalf("the alerts file: %v", err)
		}
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					out = append(out, lr)
				}
			}
		}
	}
	return out
}

// assertAlertLines checks what make run prints from the alerts file (tools/alertline): one line
// per alert, exactly, in the columns time of the success, rule, address, where the success happened
// (host, or Entra ID and the sign-in table), failures and their source, with EXPECTED.md's values.
func assertAlertLines(t *testing.T, path string, alerts []plog.LogRecord, e demoExpectation) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out, errs bytes.Buffer
	if err := alertline.Copy(f, &out, &errs); err != nil || errs.Len() > 0 {
		t.Fatalf("printing the alerts file: %v %s", err, errs.String())
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	var want []string
	for _, a := range alerts {
		k := ruleAlertOf(a)
		when := a.Timestamp().AsTime().UTC().Format("2006-01-02T15:04:05Z")
		var line string
		switch k.Rule {
		case ruleA:
			line = fmt.Sprintf("%s  aad-then-host  from %-17s  to %-27s  after %s failures in %s", when, k.Addr, k.Host,
				attr(a, "FailedSignInCount"), k.Source)
		case ruleB:
			line = fmt.Sprintf("%s  host-then-aad  from %-17s  to %-27s  after %s failures in %s", when, k.Addr,
				"Entra ID ("+k.Success+")", e.columns[k]["FailedLogonCount"], k.Source)
		default:
			t.Fatalf("an alert of rule %q", k.Rule)
		}
		want = append(want, line)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("make run's alert lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDemoExpectedAlerts runs examples/demo/config.yaml (what `make run` runs) on the shipped demo
// files and checks that it emits exactly the alerts examples/demo/EXPECTED.md lists, of both rules,
// with their columns, to the test's OTLP servers and to its alerts file; and that EXPECTED.md's line
// counts are the files', and that make run's printer makes one line of each. Without its rules the
// config runs the seed alone: rule A's rows only.
func TestDemoExpectedAlerts(t *testing.T) {
	collectorBinary(t)
	root := repoRoot(t)
	demo := filepath.Join(root, "examples", "demo")
	e := readDemoExpectation(t, filepath.Join(demo, "EXPECTED.md"))
	records := 0
	for file, n := range e.lines {
		if got := countLines(t, filepath.Join(demo, file)); got != n {
			t.Errorf("EXPECTED.md says %s has %d lines, it has %d", file, n, got)
		}
		records += n
	}

	run := func(t *testing.T, rulesOverride string, want []ruleAlert) {
		sinkAll, sinkAlerts := startOTLPSink(t), startOTLPSink(t)
		dir := t.TempDir()
		p := demoParams{
			OTLPGRPC: freePort(t), OTLPHTTP: freePort(t), Syslog: freePort(t), Health: freePort(t), Metrics: freePort(t),
			SinkAll: sinkAll.endpoint, SinkAlerts: sinkAlerts.endpoint, AlertsFile: filepath.ToSlash(filepath.Join(dir, "alerts.json")),
			RecordsFile: filepath.ToSlash(filepath.Join(dir, "records.json")),
			Rules:       rulesOverride,
		}
		startCollectorConfigs(t, p.Health, filepath.Join(demo, "config.yaml"), writeConfig(t, demoOverlay, p))
		awaitSink(t, "pipeline logs", sinkAll, records, len(want))
		awaitSink(t, "pipeline logs/alerts", sinkAlerts, 0, len(want))

		all, _, passed := sinkAll.snapshot()
		alerts, _, others := sinkAlerts.snapshot()
		if len(passed) != records {
			t.Errorf("pipeline logs passed %d records through, want the %d lines of the files", len(passed), records)
		}
		if len(others) != 0 {
			t.Errorf("pipeline logs/alerts let %d records that are not alerts through", len(others))
		}
		assertRuleAlerts(t, "pipeline logs (emit: all)", all, want)
		assertRuleAlerts(t, "pipeline logs/alerts (emit: alerts)", alerts, want)
		fileAlerts := readAlertsFile(t, p.AlertsFile)
		assertRuleAlerts(t, "the alerts file", fileAlerts, want)
		assertAlertLines(t, p.AlertsFile, fileAlerts, e)
		for _, a := range alerts {
			k := ruleAlertOf(a)
			t.Logf("alert %v", k)
			if k.Rule == ruleA && attr(a, "IpAddress") != k.Addr {
				t.Errorf("alert %v: IpAddress %q", k, attr(a, "IpAddress"))
			}
			for key, value := range e.columns[k] {
				if got := attr(a, key); got != value {
					t.Errorf("alert %v: %s = %q, EXPECTED.md says %q", k, key, got, value)
				}
			}
		}
	}
	t.Run("as shipped", func(t *testing.T) {
		t.Parallel()
		run(t, "", e.alerts)
	})
	t.Run("the seed alone", func(t *testing.T) {
		t.Parallel()
		var seed []ruleAlert
		for _, k := range e.alerts {
			if k.Rule == ruleA {
				seed = append(seed, k)
			}
		}
		run(t, "[]", seed)
	})
}
