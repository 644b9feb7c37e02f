package rules

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

	Failures:  []Failure{FailedSigninLogs, FailedNonInteractiveSignIns},
	Successes: []Success{HostLogon},
	Mergeable: []Failure{FailedSigninLogs, FailedNonInteractiveSignIns},
	Alert:     HostLogonAlert,

	FailureSource: "SigninTable",
	FailureCount:  "FailedSignInCount",
	FirstFailure:  "FirstFailedSignIn",
	LastFailure:   "LastFailedSignIn",
}
