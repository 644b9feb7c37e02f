package alert

import (
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
)

// The rule's identity, as Sentinel publishes it.
const (
	Reason      = "Multiple failed AAD logins from IP address"
	RuleID      = "8ee967a2-a645-4832-85f4-72b635bcb3a6"
	RuleName    = "Failed AzureAD logons but success logon to host"
	RulesetName = "Microsoft Sentinel"
	// RuleVersion is the version of this streaming implementation of the rule.
	RuleVersion = "1.0.0"
	Severity    = "Medium"
)

// Tactics and Techniques are the rule's MITRE ATT&CK mapping, emitted as string arrays under
// threat.tactic.name and threat.technique.id.
var (
	Tactics    = []string{"InitialAccess", "CredentialAccess"}
	Techniques = []string{"T1078", "T1110"}
)

// Firing is what the window says about one (logon, table) alert.
type Firing struct {
	Table string // SigninTable
	Count int    // failed sign-ins in the interval that fired
	First int64  // first of them, Unix nanoseconds
	Last  int64  // last of them
}

// Append adds the alert for l as one record in its own ResourceLogs of ld, with the logon's
// resource and the given scope name. observed is when the alert is made.
func Append(ld plog.Logs, scope string, l *Logon, f Firing, observed time.Time) {
	rl := ld.ResourceLogs().AppendEmpty()
	if l.Resource != (pcommon.Resource{}) {
		l.Resource.CopyTo(rl.Resource())
	}
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(scope)
	Fill(sl.LogRecords().AppendEmpty(), l, f, observed)
}

// Fill writes the alert for l into lr.
func Fill(lr plog.LogRecord, l *Logon, f Firing, observed time.Time) {
	lr.SetTimestamp(pcommon.Timestamp(l.Time))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.SetSeverityText(Severity)
	lr.Body().SetStr(Reason)

	e := &l.Event
	ip := e.Addr.String()
	when := rfc3339(l.Time)
	a := lr.Attributes()
	a.EnsureCapacity(40)
	a.PutStr("Reason", Reason)
	a.PutStr("TimeGenerated", when)
	a.PutStr("timestamp", when)
	a.PutStr("Computer", e.Computer)
	a.PutStr("IpAddress", ip)
	host, dot, domain := splitComputer(e.Computer)
	a.PutStr("HostName", host)
	a.PutInt("DomainIndex", int64(dot))
	a.PutStr("HostNameDomain", domain)

	switch e.Source {
	case classify.Syslog:
		a.PutStr("HostIP", e.HostIP)
		a.PutStr("SyslogMessage", e.SyslogMessage)
		a.PutStr("Facility", e.Facility)
		a.PutStr("ProcessName", e.ProcessName)
	default:
		account := e.Account
		if account == "" && e.TargetUserName != "" {
			account = e.TargetDomainName + `\` + e.TargetUserName
			if e.TargetDomainName == "" {
				account = e.TargetUserName
			}
		}
		a.PutStr("Account", account)
		a.PutStr("AccountType", accountType(account))
		a.PutStr("Activity", e.Activity)
		if id, err := strconv.ParseInt(e.EventID, 10, 64); err == nil {
			a.PutInt("EventID", id) // an int, as the KQL's column
		}
		a.PutStr("LogonProcessName", e.LogonProcessName)
		a.PutStr("LogonTypeName", e.LogonTypeName)
		a.PutStr("TargetUserSid", e.TargetUserSid)
		a.PutStr("TargetUserName", e.TargetUserName)
		a.PutStr("TargetDomainName", e.TargetDomainName)
		a.PutStr("_ResourceId", e.ResourceID)
	}

	a.PutStr("SigninTable", f.Table)
	a.PutStr("LogonSource", e.Source.String())
	a.PutInt("FailedSignInCount", int64(f.Count))
	a.PutStr("FirstFailedSignIn", rfc3339(f.First))
	a.PutStr("LastFailedSignIn", rfc3339(f.Last))

	a.PutStr("security_rule.uuid", RuleID)
	a.PutStr("security_rule.name", RuleName)
	a.PutStr("security_rule.ruleset.name", RulesetName)
	a.PutStr("security_rule.version", RuleVersion)
	a.PutStr("source.address", ip)
	a.PutStr("host.name", e.Computer)
	a.PutStr("user.name", e.LogonUser)
	putStrings(a.PutEmptySlice("threat.tactic.name"), Tactics)
	putStrings(a.PutEmptySlice("threat.technique.id"), Techniques)
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

// splitComputer follows the KQL: DomainIndex = indexof(Computer, '.'), HostName is Computer up to
// it, HostNameDomain the rest after it (or Computer when there is no dot).
func splitComputer(c string) (host string, dot int, domain string) {
	dot = strings.IndexByte(c, '.')
	if dot < 0 {
		return c, -1, c
	}
	return c[:dot], dot, c[dot+1:]
}

// accountType follows the KQL's case(): machine accounts end with "$".
func accountType(account string) string {
	switch {
	case strings.HasSuffix(account, "$"):
		return "Machine"
	case account != "":
		return "User"
	}
	return ""
}
