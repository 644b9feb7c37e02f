package rules

import "github.com/secops-otel/aadhostlogincorrelation/internal/classify"

// AWSConsoleThenAAD is Sentinel's "Failed AWS Console logons but success logon to AzureAD": more
// than the threshold failed AWS console logins (CloudTrail ConsoleLogin whose result is Failure)
// from an address, and a successful SigninLogs sign-in (ResultType 0, 50125 or 50140) from it.
//
// Its published KQL has both filters the other way round (it counts successful console logins and
// then looks for failed sign-ins), against its own name and description; this is the rule its name
// and description state.
var AWSConsoleThenAAD = Rule{
	ID:         "910124df-913c-47e3-a7cd-29e1643fa55e",
	Short:      "aws-console-then-aad",
	Name:       "Failed AWS Console logons but success logon to AzureAD",
	Version:    "1.0.0",
	Reason:     "Multiple failed AWS Console logins from IP address",
	Severity:   "Medium",
	Tactics:    []string{"InitialAccess", "CredentialAccess"},
	Techniques: []string{"T1078", "T1110"},

	Failures:  []classify.Kind{classify.ConsoleLoginFailure},
	Successes: []classify.Kind{classify.SigninLogsSuccess},
	Project:   SignInRow,

	FailureSource: "FailedLoginSource",
	FailureCount:  "FailedConsoleLoginCount",
	FirstFailure:  "FirstFailedConsoleLogin",
	LastFailure:   "LastFailedConsoleLogin",
}

func init() { Register(&AWSConsoleThenAAD) }
