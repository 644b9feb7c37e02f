package rules

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

	Failures:  []Failure{FailedSigninLogs, FailedNonInteractiveSignIns},
	Successes: []Success{ConsoleLoginSuccess},
	Mergeable: []Failure{FailedSigninLogs, FailedNonInteractiveSignIns},
	Alert:     ConsoleLoginAlert,

	FailureSource: "SigninTable",
	FailureCount:  "FailedSignInCount",
	FirstFailure:  "FirstFailedSignIn",
	LastFailure:   "LastFailedSignIn",
}
