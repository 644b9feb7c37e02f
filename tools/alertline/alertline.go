// Package alertline prints the processor's alerts one line each, for a person at a terminal:
//
//	2026-11-24T08:58:14Z  aad-then-host  from 203.0.113.45    to web01                        after 8 failures in SigninLogs
//	2026-11-24T08:57:48Z  host-then-aad  from 198.51.100.140  to Entra ID (SigninLogs)        after 6 failures in Syslog
//
// time of the success (UTC, to the second), the rule's short name, the address, where the success
// happened (the host of a host logon, the sign-in table of a sign-in, the region of an AWS console
// login), and how many failures of
// which source fired the rule. It reads the alert's own columns, named by the rule (internal/rules);
// the full record is what the file exporter writes. Follow reads that file as it grows.
package alertline

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/rules"
)

// Line returns the alert's line, and false when lr is not an alert of a rule the processor knows
// (no security_rule.uuid, or one of no rule).
func Line(lr plog.LogRecord) (string, bool) {
	a := lr.Attributes()
	r, ok := rules.Find(str(a, "security_rule.uuid"))
	if !ok {
		return "", false
	}
	// Where the success happened, by the row the rule projects: a sign-in row has Type, a console
	// login AWSRegion, a host logon host.name.
	where := orDash(str(a, "host.name"))
	if _, ok := a.Get("AWSRegion"); ok {
		where = "AWS console (" + orDash(str(a, "AWSRegion")) + ")"
	} else if _, ok := a.Get("Type"); ok {
		where = "Entra ID (" + orDash(str(a, "Type")) + ")"
	}
	count := "?"
	if v, ok := a.Get(r.FailureCount); ok {
		count = v.AsString()
	}
	return fmt.Sprintf("%s  %-13s  from %-17s  to %-27s  after %s failures in %s",
		when(lr.Timestamp()), r.Short, orDash(str(a, "source.address")), where, count,
		orDash(str(a, r.FailureSource))), true
}

// Lines returns the lines of the alerts in ld, in order; other records are left out.
func Lines(ld plog.Logs) []string {
	var out []string
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				if line, ok := Line(lr); ok {
					out = append(out, line)
				}
			}
		}
	}
	return out
}

func when(ts pcommon.Timestamp) string {
	if ts == 0 {
		return "-                   "
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}

func str(a pcommon.Map, key string) string {
	if v, ok := a.Get(key); ok {
		return v.AsString()
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
