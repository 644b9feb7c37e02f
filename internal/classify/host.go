package classify

// LogonSource is the Sentinel table a logon (or a failed logon) would live in.
type LogonSource uint8

const (
	// Syslog logons come from sshd (or another auth-facility program).
	Syslog LogonSource = iota
	// SecurityEvent logons are Windows events in the SecurityEvent shape or from the windowseventlog
	// receiver (all its 4624s; its 4625s but those of the ForwardedEvents channel).
	SecurityEvent
	// WindowsEvent logons are Windows events in Sentinel's WindowsEvent shape, and 4625s the
	// windowseventlog receiver read from the ForwardedEvents channel (where the Windows Event
	// Forwarding connector, whose table is WindowsEvent, reads them).
	WindowsEvent
)

// String returns the Sentinel table name.
func (s LogonSource) String() string {
	switch s {
	case SecurityEvent:
		return "SecurityEvent"
	case WindowsEvent:
		return "WindowsEvent"
	}
	return "Syslog"
}

// The columns of a host logon and of a failed one, Linux or Windows (the kinds of linux.go,
// windows.go and hostfailure.go): the fields of the Syslog, SecurityEvent and WindowsEvent rows an
// alert projects. Their order is the one a waiting host logon has always been encoded in (format 1,
// see internal/alert), three columns no host logon fills included, so that its encoding stays the
// same byte for byte.
const (
	// HostComputer is the host logged on to: Sentinel Computer, syslog hostname, journald
	// _HOSTNAME, Windows computer.
	HostComputer = iota
	HostIP
	HostSyslogMessage
	// HostFacility is the facility name: "auth" or "authpriv".
	HostFacility
	HostProcessName
	HostAccount
	// HostAccountType is as given; the alert derives Machine/User when empty.
	HostAccountType
	// HostActivity is SecurityEvent's own column; for the other shapes "4624 - An account was
	// successfully logged on." (or "4625 - An account failed to log on." for a failed logon).
	HostActivity
	// HostEventID is "4624", or "4625" for a failed logon (the alert writes it as an int, the KQL
	// column's type).
	HostEventID
	HostLogonProcessName
	// HostLogonType is the canonical counted logon type: "10", "7" or "3" by default.
	HostLogonType
	HostLogonTypeName
	HostTargetUserSid
	HostTargetUserName
	HostTargetDomainName
	// HostResourceID is _ResourceId.
	HostResourceID
	hostUnused1
	hostUnused2
	hostUnused3
	// HostLogonUser is the account that logged on (or, for a failed logon, tried to): the <user>
	// of the sshd grammar (empty when the message does not follow it), or TargetUserName for Windows.
	HostLogonUser
)

// hostColumns names the columns above; "" names the three no host logon fills.
var hostColumns = []string{
	HostComputer: "Computer", HostIP: "HostIP", HostSyslogMessage: "SyslogMessage", HostFacility: "Facility",
	HostProcessName: "ProcessName", HostAccount: "Account", HostAccountType: "AccountType",
	HostActivity: "Activity", HostEventID: "EventID", HostLogonProcessName: "LogonProcessName",
	HostLogonType: "LogonType", HostLogonTypeName: "LogonTypeName", HostTargetUserSid: "TargetUserSid",
	HostTargetUserName: "TargetUserName", HostTargetDomainName: "TargetDomainName",
	HostResourceID: "ResourceID", hostUnused1: "", hostUnused2: "", hostUnused3: "", HostLogonUser: "LogonUser",
}
