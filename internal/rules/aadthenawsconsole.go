package rules

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
)

// AADThenAWSConsole is Sentinel's "Failed AzureAD logons but success logon to AWS Console": more
// than the threshold failed Entra ID sign-ins from an address, counted per sign-in table as the seed
// counts them (the two rules share those counters when both run), and a successful AWS console
// login (CloudTrail ConsoleLogin whose result is Success) from it.
var AADThenAWSConsole = Rule{
	ID:         "643c2025-9604-47c5-833f-7b4b9378a1f5",
	Short:      "aad-then-aws-console",
	Name:       "Failed AzureAD logons but success logon to AWS Console",
	Version:    "1.0.0",
	Reason:     "Multiple failed AAD logins from IP address",
	Severity:   "Medium",
	Tactics:    []string{"InitialAccess", "CredentialAccess"},
	Techniques: []string{"T1078", "T1110"},

	Failures:  []classify.Kind{classify.FailedSigninLogs, classify.FailedNonInteractiveSignIn},
	Successes: []classify.Kind{classify.ConsoleLoginSuccess},
	Mergeable: []classify.Kind{classify.FailedSigninLogs, classify.FailedNonInteractiveSignIn},
	Project:   ConsoleLoginRow,

	FailureSource: "SigninTable",
	FailureCount:  "FailedSignInCount",
	FirstFailure:  "FirstFailedSignIn",
	LastFailure:   "LastFailedSignIn",
}

func init() { Register(&AADThenAWSConsole) }

// ConsoleLoginRow is rule C's projection: the AWS console login's columns, as its KQL projects
// them. User (and user.name) is the IAM user name, else the identity type (Root, AssumedRole, ...);
// it names no host.
func ConsoleLoginRow(a pcommon.Map, _ classify.Kind, c *classify.Columns, ip string) (host, user string) {
	user = c[classify.ConsoleUserIdentityUserName]
	if user == "" {
		user = c[classify.ConsoleUserIdentityType]
	}
	a.PutStr("LoginResult", c[classify.ConsoleLoginResult])
	a.PutStr("EventTypeName", c[classify.ConsoleEventTypeName])
	a.PutStr("UserIdentityType", c[classify.ConsoleUserIdentityType])
	a.PutStr("User", user)
	a.PutStr("AWSRegion", c[classify.ConsoleAWSRegion])
	a.PutStr("SourceIpAddress", ip)
	a.PutStr("UserAgent", c[classify.ConsoleUserAgent])
	a.PutStr("MFAUsed", c[classify.ConsoleMFAUsed])
	return "", user
}
