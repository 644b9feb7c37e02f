package alert

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/rules"
)

// RulesetName is the ruleset every rule comes from.
const RulesetName = "Microsoft Sentinel"

// Firing is what the engine says about one (success, counter) alert.
type Firing struct {
	Source string // the failure source (or sources counted together) that crossed the threshold
	Count  int    // failures in the interval that fired
	First  int64  // first of them, Unix nanoseconds
	Last   int64  // last of them
}

// Append adds rule r's alert for l as one record in its own ResourceLogs of ld, with the success's
// resource and the given scope name. observed is when the alert is made.
func Append(ld plog.Logs, scope string, r *rules.Rule, l *Logon, f Firing, observed time.Time) {
	rl := ld.ResourceLogs().AppendEmpty()
	if l.Resource != (pcommon.Resource{}) {
		l.Resource.CopyTo(rl.Resource())
	}
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(scope)
	Fill(sl.LogRecords().AppendEmpty(), r, l, f, observed)
}

// Fill writes rule r's alert for l into lr: the rule's Reason, the columns its KQL projects, how
// many failures of which source fired it and when, and the rule's identity.
func Fill(lr plog.LogRecord, r *rules.Rule, l *Logon, f Firing, observed time.Time) {
	lr.SetTimestamp(pcommon.Timestamp(l.Time))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.SetSeverityText(r.Severity)
	lr.Body().SetStr(r.Reason)

	ip := l.Addr.String()
	when := rfc3339(l.Time)
	a := lr.Attributes()
	a.EnsureCapacity(40)
	a.PutStr("Reason", r.Reason)
	a.PutStr("TimeGenerated", when)
	a.PutStr("timestamp", when)
	host, user := r.Project(a, l.Kind, &l.Cols, ip)

	a.PutStr(r.FailureSource, f.Source)
	a.PutInt(r.FailureCount, int64(f.Count))
	a.PutStr(r.FirstFailure, rfc3339(f.First))
	a.PutStr(r.LastFailure, rfc3339(f.Last))

	a.PutStr("security_rule.uuid", r.ID)
	a.PutStr("security_rule.name", r.Name)
	a.PutStr("security_rule.ruleset.name", RulesetName)
	a.PutStr("security_rule.version", r.Version)
	a.PutStr("source.address", ip)
	if host != "" {
		a.PutStr("host.name", host)
	}
	a.PutStr("user.name", user)
	putStrings(a.PutEmptySlice("threat.tactic.name"), r.Tactics)
	putStrings(a.PutEmptySlice("threat.technique.id"), r.Techniques)
}

func putStrings(s pcommon.Slice, values []string) {
	s.EnsureCapacity(len(values))
	for _, v := range values {
		s.AppendEmpty().SetStr(v)
	}
}

func rfc3339(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}
