// Package rules holds the correlation rules the processor can run. Each is a value: its Sentinel
// identity, the failure sources it counts (each on its own, as its KQL does), the successes it
// alerts on, the columns its alert projects from the success (its Projection), and its defaults.
// A rule of the same shape ("more than N failures of a source from an address, and a success from
// that address, within one window") is one more value in a file of its own; the engine
// (internal/window) knows rules only as numbers, and Compile turns the rules that run into its
// configuration.
package rules

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
)

// Failure is a failure source: one kind of failed logon that a rule counts per address.
type Failure uint8

const (
	// FailedSigninLogs are failed Entra ID sign-ins of SigninLogs.
	FailedSigninLogs Failure = iota
	// FailedNonInteractiveSignIns are failed sign-ins of AADNonInteractiveUserSignInLogs.
	FailedNonInteractiveSignIns
	// FailedSecurityEventLogons are Windows 4625 events of SecurityEvent (or the Security channel).
	FailedSecurityEventLogons
	// FailedWindowsEventLogons are Windows 4625 events of WindowsEvent (forwarded events).
	FailedWindowsEventLogons
	// FailedSyslogLogons are failed logons in auth syslog (sshd and other auth programs).
	FailedSyslogLogons
	// FailedConsoleLogins are AWS console logins (CloudTrail ConsoleLogin) whose result is Failure.
	FailedConsoleLogins
	// NumFailures is the number of failure sources.
	NumFailures
)

// String is the Sentinel table the source's records live in, as alerts name it.
func (f Failure) String() string {
	switch f {
	case FailedSigninLogs:
		return "SigninLogs"
	case FailedNonInteractiveSignIns:
		return "AADNonInteractiveUserSignInLogs"
	case FailedSecurityEventLogons:
		return "SecurityEvent"
	case FailedWindowsEventLogons:
		return "WindowsEvent"
	case FailedSyslogLogons:
		return "Syslog"
	case FailedConsoleLogins:
		return "AWSCloudTrail"
	}
	return fmt.Sprintf("failure(%d)", uint8(f))
}

// Success is a kind of successful logon a rule alerts on.
type Success uint8

const (
	// HostLogon is a successful logon to a host: sshd (or another auth program) "Accepted", or a
	// Windows 4624 of a counted logon type.
	HostLogon Success = iota
	// SigninLogsSuccess is a SigninLogs sign-in whose ResultType is not a failure.
	SigninLogsSuccess
	// NonInteractiveSuccess is an AADNonInteractiveUserSignInLogs sign-in whose ResultType is not a failure.
	NonInteractiveSuccess
	// ConsoleLoginSuccess is an AWS console login (CloudTrail ConsoleLogin) whose result is Success.
	ConsoleLoginSuccess
	// NumSuccesses is the number of success kinds.
	NumSuccesses
)

// Projection writes the columns of a rule's alert that come from the success that fired it (ip is
// its address, normalised), as the rule's KQL projects them, and returns the alert's host.name and
// user.name ("" host: the success names none). A rule declares its own; rules that project the same
// row share one.
type Projection func(a pcommon.Map, e *classify.Event, ip string) (host, user string)

// Rule is one correlation rule.
type Rule struct {
	ID         string // the Sentinel analytic rule id
	Short      string // a short name the configuration accepts besides the id
	Name       string
	Version    string // of this streaming implementation of the rule
	Reason     string // the alert's Reason column and body
	Severity   string
	Tactics    []string
	Techniques []string

	Failures  []Failure // counted per address, each on its own
	Successes []Success
	// Mergeable are the failure sources that count_tables: together counts as one (none: the
	// setting does not apply to the rule).
	Mergeable []Failure
	// Project writes the success's columns of the alert.
	Project Projection
	// FailureCount, FirstFailure and LastFailure name the alert's columns that say how many
	// failures fired it and when; FailureSource the column naming the source that crossed the
	// threshold.
	FailureSource, FailureCount, FirstFailure, LastFailure string
}

// All is every rule the processor can run, the seed first.
var All = []*Rule{&AADThenHost, &HostThenAAD, &AADThenAWSConsole, &AWSConsoleThenAAD}

// Default is what runs when the configuration names no rule: the seed.
var Default = []*Rule{&AADThenHost}

// Find returns the rule of a Sentinel id or short name (case-insensitive).
func Find(name string) (*Rule, bool) {
	for _, r := range All {
		if strings.EqualFold(name, r.ID) || strings.EqualFold(name, r.Short) {
			return r, true
		}
	}
	return nil, false
}

// Names lists the accepted names, for error messages.
func Names() string {
	var out []string
	for _, r := range All {
		out = append(out, fmt.Sprintf("%s (%s)", r.Short, r.ID))
	}
	return strings.Join(out, ", ")
}
