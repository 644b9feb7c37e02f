package rules

import (
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
)

// AADThenHost is Sentinel's "Failed AzureAD logons but success logon to host": more than the
// threshold failed Entra ID sign-ins from an address, counted per sign-in table, and a successful
// logon to a Linux or Windows host from it. The seed, and the rule that runs by default.
var AADThenHost = Rule{
	ID:         "8ee967a2-a645-4832-85f4-72b635bcb3a6",
	Short:      "aad-then-host",
	Name:       "Failed AzureAD logons but success logon to host",
	Version:    "1.0.0",
	Reason:     "Multiple failed AAD logins from IP address",
	Severity:   "Medium",
	Tactics:    []string{"InitialAccess", "CredentialAccess"},
	Techniques: []string{"T1078", "T1110"},

	Failures:  []classify.Kind{classify.FailedSigninLogs, classify.FailedNonInteractiveSignIn},
	Successes: []classify.Kind{classify.LinuxLogon, classify.SecurityEventLogon, classify.WindowsEventLogon},
	Mergeable: []classify.Kind{classify.FailedSigninLogs, classify.FailedNonInteractiveSignIn},
	Project:   HostLogonRow,

	FailureSource: "SigninTable",
	FailureCount:  "FailedSignInCount",
	FirstFailure:  "FirstFailedSignIn",
	LastFailure:   "LastFailedSignIn",
}

func init() { Register(&AADThenHost) }

// HostLogonRow is the seed's projection: the host logon's columns, as its KQL projects them, and
// LogonSource (which table the logon is of). host.name is the host logged on to, user.name the
// account that logged on.
func HostLogonRow(a pcommon.Map, k classify.Kind, c *classify.Columns, ip string) (host, user string) {
	computer := c[classify.HostComputer]
	a.PutStr("Computer", computer)
	a.PutStr("IpAddress", ip)
	name, dot, domain := SplitComputer(computer)
	a.PutStr("HostName", name)
	a.PutInt("DomainIndex", int64(dot))
	a.PutStr("HostNameDomain", domain)
	switch k.Source() {
	case "Syslog":
		a.PutStr("HostIP", c[classify.HostIP])
		a.PutStr("SyslogMessage", c[classify.HostSyslogMessage])
		a.PutStr("Facility", c[classify.HostFacility])
		a.PutStr("ProcessName", c[classify.HostProcessName])
	default:
		account := c[classify.HostAccount]
		if tu, td := c[classify.HostTargetUserName], c[classify.HostTargetDomainName]; account == "" && tu != "" {
			account = td + `\` + tu
			if td == "" {
				account = tu
			}
		}
		a.PutStr("Account", account)
		a.PutStr("AccountType", AccountType(account))
		a.PutStr("Activity", c[classify.HostActivity])
		if id, err := strconv.ParseInt(c[classify.HostEventID], 10, 64); err == nil {
			a.PutInt("EventID", id) // an int, as the KQL's column
		}
		a.PutStr("LogonProcessName", c[classify.HostLogonProcessName])
		a.PutStr("LogonTypeName", c[classify.HostLogonTypeName])
		a.PutStr("TargetUserSid", c[classify.HostTargetUserSid])
		a.PutStr("TargetUserName", c[classify.HostTargetUserName])
		a.PutStr("TargetDomainName", c[classify.HostTargetDomainName])
		a.PutStr("_ResourceId", c[classify.HostResourceID])
	}
	a.PutStr("LogonSource", k.Source())
	return computer, c[classify.HostLogonUser]
}

// SplitComputer follows the KQL: DomainIndex = indexof(Computer, '.'), HostName is Computer up to
// it, HostNameDomain the rest after it (or Computer when there is no dot).
func SplitComputer(c string) (host string, dot int, domain string) {
	dot = strings.IndexByte(c, '.')
	if dot < 0 {
		return c, -1, c
	}
	return c[:dot], dot, c[dot+1:]
}

// AccountType follows the KQL's case(): machine accounts end with "$".
func AccountType(account string) string {
	switch {
	case strings.HasSuffix(account, "$"):
		return "Machine"
	case account != "":
		return "User"
	}
	return ""
}
