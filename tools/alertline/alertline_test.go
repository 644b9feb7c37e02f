package alertline

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/alert"
	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/rules"
)

var at = time.Date(2026, 11, 24, 8, 58, 14, 812791000, time.UTC)

// alerts returns a batch with rule A's alert for an sshd logon on web01, rule B's for a sign-in,
// rule C's for an AWS console login, and a record that is no alert, all filled by the processor's own alert builder.
func alerts() plog.Logs {
	ld := plog.NewLogs()
	sshd := alert.Logon{Time: at.UnixNano(), Kind: classify.LinuxLogon, Addr: netip.MustParseAddr("203.0.113.45"),
		Cols: classify.Columns{classify.HostComputer: "web01", classify.HostLogonUser: "deploy"}}
	alert.Append(ld, "scope", &rules.AADThenHost, &sshd, alert.Firing{Source: "SigninLogs", Count: 6, First: at.Add(-7 * time.Minute).UnixNano(), Last: at.Add(-4 * time.Minute).UnixNano()}, at)
	signin := alert.Logon{Time: at.Add(-26 * time.Second).UnixNano(), Kind: classify.SigninLogsSuccess,
		Addr: netip.MustParseAddr("2001:db8:4b1d::66"), Cols: classify.Columns{classify.SignInUserPrincipalName: "frank.lee@contoso.com"}}
	alert.Append(ld, "scope", &rules.HostThenAAD, &signin, alert.Firing{Source: "Syslog", Count: 7, First: at.Add(-5 * time.Minute).UnixNano(), Last: at.Add(-4 * time.Minute).UnixNano()}, at)
	console := alert.Logon{Time: at.Add(-9 * time.Second).UnixNano(), Kind: classify.ConsoleLoginSuccess,
		Addr: netip.MustParseAddr("198.51.100.7"), Cols: classify.Columns{classify.ConsoleLoginResult: "Success",
			classify.ConsoleUserIdentityType: "IAMUser", classify.ConsoleUserIdentityUserName: "ops", classify.ConsoleAWSRegion: "eu-west-1"}}
	alert.Append(ld, "scope", &rules.AADThenAWSConsole, &console, alert.Firing{Source: "SigninLogs", Count: 9, First: at.Add(-3 * time.Minute).UnixNano(), Last: at.Add(-time.Minute).UnixNano()}, at)
	other := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	other.Body().SetStr("GET /healthz 200")
	other.SetTimestamp(pcommon.NewTimestampFromTime(at))
	return ld
}

var wantLines = []string{
	"2026-11-24T08:58:14Z  aad-then-host  from 203.0.113.45       to web01                        after 6 failures in SigninLogs",
	"2026-11-24T08:57:48Z  host-then-aad  from 2001:db8:4b1d::66  to Entra ID (SigninLogs)        after 7 failures in Syslog",
	"2026-11-24T08:58:05Z  aad-then-aws-console  from 198.51.100.7       to AWS console (eu-west-1)      after 9 failures in SigninLogs",
}

func TestLines(t *testing.T) {
	assert.Equal(t, wantLines, Lines(alerts()))
}

func TestLineOfRecordsThatAreNoAlert(t *testing.T) {
	lr := plog.NewLogRecord()
	_, ok := Line(lr)
	assert.False(t, ok, "a record without security_rule.uuid")
	lr.Attributes().PutStr("security_rule.uuid", "00000000-0000-0000-0000-000000000000")
	_, ok = Line(lr)
	assert.False(t, ok, "an id of no rule")

	// An alert without its columns still makes a line, with dashes where they are missing.
	lr.Attributes().PutStr("security_rule.uuid", rules.AADThenHost.ID)
	line, ok := Line(lr)
	require.True(t, ok)
	assert.Equal(t, "-                     aad-then-host  from -                  to -                            after ? failures in -", line)
}

// exportLine is one line of a file exporter's OTLP JSON.
func exportLine(t *testing.T, ld plog.Logs) []byte {
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	return append(b, '\n')
}

func TestCopy(t *testing.T) {
	in := append(exportLine(t, alerts()), []byte("not json\n\n")...)
	in = append(in, exportLine(t, alerts())...)
	var out, errs bytes.Buffer
	require.NoError(t, Copy(bytes.NewReader(in), &out, &errs))
	assert.Equal(t, strings.Join(append(wantLines, wantLines...), "\n")+"\n", out.String())
	assert.Contains(t, errs.String(), "alert file line 2 is not OTLP JSON")
}

// syncBuffer is a bytes.Buffer that Follow's goroutine writes while the test reads.
type syncBuffer struct {
	mu chan struct{}
	b  bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.String()
}

// TestFollow writes the file as a collector would, after Follow started: it appears late, a line
// arrives in two writes; then the file is truncated and written again, and replaced.
func TestFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.json")
	out, errs := newSyncBuffer(), newSyncBuffer()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Follow(ctx, path, 5*time.Millisecond, out, errs) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	await := func(want string) {
		t.Helper()
		require.Eventually(t, func() bool { return out.String() == want }, 5*time.Second, 5*time.Millisecond,
			"printed %q, want %q", out.String(), want)
	}
	line := exportLine(t, alerts())

	time.Sleep(20 * time.Millisecond) // the file does not exist yet
	f, err := os.Create(path)
	require.NoError(t, err)
	_, err = f.Write(line[:len(line)/2])
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond)
	assert.Empty(t, out.String(), "half a line prints nothing")
	_, err = f.Write(line[len(line)/2:])
	require.NoError(t, err)
	one := strings.Join(wantLines, "\n") + "\n"
	await(one)

	require.NoError(t, f.Truncate(0))
	time.Sleep(50 * time.Millisecond) // Follow sees the file shorter than what it read
	_, err = f.Seek(0, 0)
	require.NoError(t, err)
	_, err = f.Write(line)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	await(one + one)

	require.NoError(t, os.Remove(path))
	require.NoError(t, os.WriteFile(path, line, 0o644))
	await(one + one + one)
	assert.Empty(t, errs.String())
}
