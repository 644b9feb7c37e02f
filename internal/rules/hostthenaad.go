package rules

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
)

// HostThenAAD is Sentinel's "Failed host logons but success logon to AzureAD": more than the
// threshold failed host logons from an address, counted per source (Windows 4625 of SecurityEvent,
// of WindowsEvent, and failed logons in auth syslog), and a successful Entra ID sign-in from it.
var HostThenAAD = Rule{
	ID:         "1ce5e766-26ab-4616-b7c8-3b33ae321e80",
	Short:      "host-then-aad",
	Name:       "Failed host logons but success logon to AzureAD",
	Version:    "1.0.0",
	Reason:     "Multiple failed host logins from IP address with successful Azure AD login",
	Severity:   "Medium",
	Tactics:    []string{"InitialAccess", "CredentialAccess"},
	Techniques: []string{"T1078", "T1110"},

	Failures:  []classify.Kind{classify.FailedSecurityEventLogon, classify.FailedWindowsEventLogon, classify.FailedSyslogLogon},
	Successes: []classify.Kind{classify.SigninLogsSuccess, classify.NonInteractiveSuccess},
	Project:   SignInRow,

	FailureSource: "FailedLogonSource",
	FailureCount:  "FailedLogonCount",
	FirstFailure:  "FirstFailedLogon",
	LastFailure:   "LastFailedLogon",
}

func init() { Register(&HostThenAAD) }

// SignInRow is rule B's projection (and rule D's): the sign-in row's columns, with the entities its
// KQL names. It names no host; user.name is the user principal name.
func SignInRow(a pcommon.Map, k classify.Kind, c *classify.Columns, ip string) (host, user string) {
	upn := c[classify.SignInUserPrincipalName]
	a.PutStr("Type", k.Source())
	a.PutStr("UserPrincipalName", upn)
	a.PutStr("IPAddress", ip)
	a.PutStr("ResultType", c[classify.SignInResultType])
	a.PutStr("AppDisplayName", c[classify.SignInAppDisplayName])
	a.PutStr("UserDisplayName", c[classify.SignInUserDisplayName])
	a.PutStr("ClientAppUsed", c[classify.SignInClientAppUsed])
	a.PutStr("Location", c[classify.SignInLocation])
	a.PutStr("AccountCustomEntity", upn)
	a.PutStr("IPCustomEntity", ip)
	return "", upn
}
