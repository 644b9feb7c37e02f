package classify

import (
	"bytes"
	"encoding/csv"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadSample reads a Log Analytics CSV export as rows of column → string value, the way a replay
// would send them as string attributes: the UTF-8 BOM dropped and the " [UTC]" suffix of time columns
// removed ("TimeGenerated [UTC]" → "TimeGenerated").
func loadSample(t testing.TB, name string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, records)
	header := records[0]
	for i, h := range header {
		header[i] = strings.TrimSuffix(strings.TrimPrefix(h, "\ufeff"), " [UTC]")
	}
	rows := make([]map[string]any, 0, len(records)-1)
	for _, rec := range records[1:] {
		row := make(map[string]any, len(header))
		for i, v := range rec {
			row[header[i]] = v
		}
		rows = append(rows, row)
	}
	return rows
}

func kindCounts(t *testing.T, c *Classifier, rows []map[string]any) map[Kind]int {
	t.Helper()
	counts := map[Kind]int{}
	for _, row := range rows {
		ev := classifyUnchanged(t, c, newRecord(t, row, nil))
		counts[ev.Kind]++
	}
	return counts
}

func TestSampleSecurityEvents(t *testing.T) {
	rows := loadSample(t, "SecurityEvent_Authentication_1000rows.csv")
	require.Len(t, rows, 1000)
	c := New(Rules{})
	// 995 x 4625 (failures) and 5 x 4624 with LogonType 5 (service) and IpAddress "-": nothing counts.
	assert.Equal(t, map[Kind]int{Unrelated: 1000}, kindCounts(t, c, rows))

	// The same real 4624 rows become logons once they are network logons from an address.
	var logons int
	for _, row := range rows {
		if row["EventID"] != "4624" {
			continue
		}
		ev := classifyUnchanged(t, c, newRecord(t, with(row, "LogonType", "3", "IpAddress", srcIP), nil))
		require.Equal(t, SecurityEventLogon, ev.Kind, "reject %q", ev.Reject)
		assert.Equal(t, netip.MustParseAddr(srcIP), ev.Addr)
		assert.Equal(t, SecurityEvent, sourceOf(ev))
		assert.Equal(t, `NT AUTHORITY\SYSTEM`, ev.Cols[HostAccount])
		assert.Equal(t, "Machine", ev.Cols[HostAccountType])
		assert.Equal(t, "4624 - An account was successfully logged on.", ev.Cols[HostActivity])
		assert.NotEmpty(t, ev.Cols[HostComputer])
		assert.NotZero(t, ev.Time, "TimeGenerated in export style parses")
		logons++
	}
	assert.Equal(t, 5, logons)
}

func TestSampleSignInLogs(t *testing.T) {
	rows := loadSample(t, "SigninLogs_training_lab_56rows.csv")
	require.Len(t, rows, 56)
	c := New(Rules{})
	assert.Equal(t, map[Kind]int{SignIn: 53, FailedSigninLogs: 3}, kindCounts(t, c, rows))

	var failedCodes []string
	for _, row := range rows {
		ev := classifyUnchanged(t, c, newRecord(t, row, nil))
		assert.Equal(t, SigninLogs, tableOf(ev))
		assert.Equal(t, netip.MustParseAddr("175.45.176.99"), ev.Addr)
		assert.Equal(t, "adelev@m365x816222.onmicrosoft.com", ev.Cols[SignInUserPrincipalName])
		assert.NotZero(t, ev.Time, "CreatedDateTime %q", row["CreatedDateTime"])
		if ev.Kind == FailedSigninLogs {
			failedCodes = append(failedCodes, ev.Cols[SignInResultType])
		}
	}
	assert.ElementsMatch(t, []string{"16000", "16000", "50058"}, failedCodes)

	var first Observation
	c.Classify(newRecord(t, rows[0], nil), &first)
	assert.Equal(t, mustTime(t, "2021-04-28T14:08:45.221Z"), first.Time, "4/28/2021, 2:08:45.221 PM")
}

func TestSampleSyslog(t *testing.T) {
	rows := loadSample(t, "Syslog_OpenSSH_ASIM_20rows.csv")
	require.Len(t, rows, 20)
	c := New(Rules{})
	// The ASIM export has no Facility column, so no row is an auth-facility message.
	assert.Equal(t, map[Kind]int{Unrelated: 20}, kindCounts(t, c, rows))

	// With the facility the rows came from, the seven Accepted messages are logons from the address
	// in their sshd grammar (one has two spaces before "ssh2", one a GSSAPI principal after it).
	want := []string{"1.1.12.1", "10.1.1.1", "15.1.1.1", "1.16.16.1", "1.15.17.1", "10.1.17.1", "81.61.1.1"}
	var got []string
	for _, row := range rows {
		ev := classifyUnchanged(t, c, newRecord(t, with(row, "Facility", "authpriv", "ProcessName", "sshd"), nil))
		switch ev.Kind {
		case LinuxLogon:
			got = append(got, ev.Addr.String())
			assert.Zero(t, ev.Time, "an Excel serial day is not a time")
		case Unrelated:
			assert.False(t, hasTerm(row["SyslogMessage"].(string), "accepted"))
		default:
			t.Errorf("row %q: kind %v", row["SyslogMessage"], ev.Kind)
		}
	}
	assert.Equal(t, want, got)
}
