package alert

import (
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
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

	e := &l.Event
	ip := e.Addr.String()
	when := rfc3339(l.Time)
	a := lr.Attributes()
	a.EnsureCapacity(40)
	a.PutStr("Reason", r.Reason)
	a.PutStr("TimeGenerated", when)
	a.PutStr("timestamp", when)
	host, user := e.Computer, e.LogonUser
	switch r.Alert {
	case rules.SignInAlert:
		signInColumns(a, e, ip)
		host, user = "", e.User
	case rules.ConsoleLoginAlert:
		user = consoleLoginColumns(a, e, ip)
		host = ""
	default:
		hostLogonColumns(a, e, ip)
	}

	a.PutStr(r.FailureSource, f.Source)
	if r.Alert == rules.HostLogonAlert {
		a.PutStr("LogonSource", e.Source.String())
	}
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

// hostLogonColumns are the seed's columns: the host logon's.
func hostLogonColumns(a pcommon.Map, e *classify.Event, ip string) {
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
}

// signInColumns are the reverse rule's: the sign-in row's, with the entities its KQL names.
func signInColumns(a pcommon.Map, e *classify.Event, ip string) {
	a.PutStr("Type", e.Table.String())
	a.PutStr("UserPrincipalName", e.User)
	a.PutStr("IPAddress", ip)
	a.PutStr("ResultType", e.ResultType)
	a.PutStr("AppDisplayName", e.AppDisplayName)
	a.PutStr("UserDisplayName", e.UserDisplayName)
	a.PutStr("ClientAppUsed", e.ClientAppUsed)
	a.PutStr("Location", e.Location)
	a.PutStr("AccountCustomEntity", e.User)
	a.PutStr("IPCustomEntity", ip)
}

// consoleLoginColumns are rule C's: the AWS console login's, as its KQL projects them. It returns
// the User column: the IAM user name, else the identity type (Root, AssumedRole, ...).
func consoleLoginColumns(a pcommon.Map, e *classify.Event, ip string) (user string) {
	user = e.UserIdentityUserName
	if user == "" {
		user = e.UserIdentityType
	}
	a.PutStr("LoginResult", e.LoginResult)
	a.PutStr("EventTypeName", e.EventTypeName)
	a.PutStr("UserIdentityType", e.UserIdentityType)
	a.PutStr("User", user)
	a.PutStr("AWSRegion", e.AWSRegion)
	a.PutStr("SourceIpAddress", ip)
	a.PutStr("UserAgent", e.UserAgent)
	a.PutStr("MFAUsed", e.MFAUsed)
	return user
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
