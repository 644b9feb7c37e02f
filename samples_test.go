package aadhostlogincorrelation

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// sampleBatch loads a Sentinel CSV export (internal/classify/testdata) as one record per row, each
// column a string attribute, as a replay of the export would send it.
func sampleBatch(t *testing.T, name string) plog.Logs {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("internal", "classify", "testdata", name))
	require.NoError(t, err)
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))).ReadAll()
	require.NoError(t, err)
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for _, row := range rows[1:] {
		a := lrs.AppendEmpty().Attributes()
		for i, col := range rows[0] {
			if row[i] != "" {
				a.PutStr(col, row[i])
			}
		}
	}
	return ld
}

// TestSentinelSamplesPassIntact runs the real Sentinel exports through the processor: none holds
// a positive case, so none may alert, and every row must pass through intact.
func TestSentinelSamplesPassIntact(t *testing.T) {
	for _, tc := range []struct {
		file string
		rows int
		kind map[string]int64
	}{
		{"SecurityEvent_Authentication_1000rows.csv", 1000, map[string]int64{"unrelated": 1000}},
		{"SigninLogs_training_lab_56rows.csv", 56, map[string]int64{"signin": 53, "failed_signin": 3}},
		{"Syslog_OpenSSH_ASIM_20rows.csv", 20, map[string]int64{"unrelated": 20}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			h := newHarness(t, nil)
			ld := sampleBatch(t, tc.file)
			require.Equal(t, tc.rows, ld.LogRecordCount())
			var m plog.ProtoMarshaler
			want, err := m.MarshalLogs(ld)
			require.NoError(t, err)
			require.NoError(t, h.proc.ConsumeLogs(context.Background(), ld))
			got, err := m.MarshalLogs(h.sink.AllLogs()[0])
			require.NoError(t, err)
			assert.Equal(t, want, got, "no alert, every row intact")
			assert.Equal(t, tc.kind, metricByAttr(t, h, "records", "kind"))
		})
	}
}
