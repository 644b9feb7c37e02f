package rules

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

	Failures:  []Failure{FailedSecurityEventLogons, FailedWindowsEventLogons, FailedSyslogLogons},
	Successes: []Success{SigninLogsSuccess, NonInteractiveSuccess},
	Alert:     SignInAlert,

	FailureSource: "FailedLogonSource",
	FailureCount:  "FailedLogonCount",
	FirstFailure:  "FirstFailedLogon",
	LastFailure:   "LastFailedLogon",
}
