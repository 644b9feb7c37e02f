package alert

import (
	"fmt"
	"math"
	"net/netip"
	"slices"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/codec"
)

// Format 2 is how the waiting successes of rules B, C and D (successful sign-ins, AWS console
// logins) were written before kinds were declared, in checkpoints and in Redis. It is read, never
// written: a restored or fetched one becomes the logon of today's kind of the same name and source,
// its columns taken by name, and is written again in format 3. This file is the only place that
// knows it; nothing on the way of a batch reads it but a checkpoint's restore and an alert Redis
// hands back.
//
//	2, number, source, table, varint time, 16-byte address, varint repeat,
//	the 20 strings of legacyColumns, the 4 of legacySignInColumns, and for a console login (number
//	9) the 7 of legacyConsoleColumns
//
// number is the kind's number of those days: 5 a failed host logon (of source: 0 Syslog, 1
// SecurityEvent, 2 WindowsEvent), 6 a successful sign-in (of table: 0 SigninLogs, 1
// AADNonInteractiveUserSignInLogs), 9 an AWS console login.
const (
	legacyHostFailure   = 5
	legacySigninSuccess = 6
	legacyConsoleLogin  = 9
)

// The columns format 2 holds, by the names of today's columns that take them ("" for one no kind
// has: the rejection reason every logon carried, always empty).
var (
	legacyColumns = []string{"Computer", "HostIP", "SyslogMessage", "Facility", "ProcessName", "Account",
		"AccountType", "Activity", "EventID", "LogonProcessName", "LogonType", "LogonTypeName", "TargetUserSid",
		"TargetUserName", "TargetDomainName", "ResourceID", "UserPrincipalName", "", "ResultType", "LogonUser"}
	legacySignInColumns  = []string{"AppDisplayName", "UserDisplayName", "ClientAppUsed", "Location"}
	legacyConsoleColumns = []string{"LoginResult", "EventTypeName", "UserIdentityType", "UserIdentityUserName",
		"AWSRegion", "UserAgent", "MFAUsed"}
	legacySources = []string{"Syslog", "SecurityEvent", "WindowsEvent"}
	legacyTables  = []string{"SigninLogs", "AADNonInteractiveUserSignInLogs"}
)

// legacyKind is the name and source of today's kind of a format 2 number, source and table.
func legacyKind(n, src, table byte) (name, source string, err error) {
	if int(src) >= len(legacySources) {
		return "", "", fmt.Errorf("logon encoding: unknown source %d", src)
	}
	if int(table) >= len(legacyTables) {
		return "", "", fmt.Errorf("logon encoding: unknown table %d", table)
	}
	switch n {
	case legacyHostFailure:
		return "host_failure", legacySources[src], nil
	case legacySigninSuccess:
		return "signin_success", legacyTables[table], nil
	case legacyConsoleLogin:
		return "console_login_success", "AWSCloudTrail", nil
	}
	return "", "", fmt.Errorf("logon encoding: kind %d in format %d", n, formatLegacy)
}

// readLegacy decodes a format 2 logon (its format byte read) into l, zeroed.
func (l *Logon) readLegacy(d *codec.Reader) error {
	n, src, table := d.Byte(), d.Byte(), d.Byte()
	if d.Err() != nil {
		return nil // finish reports it
	}
	name, source, err := legacyKind(n, src, table)
	if err != nil {
		return err
	}
	l.Time = d.Varint()
	var a16 [encodingAddressLen]byte
	copy(a16[:], d.Bytes(encodingAddressLen))
	l.Addr = netip.AddrFrom16(a16).Unmap()
	if r := d.Varint(); r < math.MinInt32 || r > math.MaxInt32 {
		return fmt.Errorf("logon encoding: repeat %d", r)
	}
	names := slices.Concat(legacyColumns, legacySignInColumns)
	if n == legacyConsoleLogin {
		names = append(names, legacyConsoleColumns...)
	}
	values := make([]string, len(names))
	for i := range values {
		values[i] = d.String()
	}
	if d.Err() != nil {
		return nil
	}
	kind, ok := classify.KindOf(name, source)
	if !ok {
		return fmt.Errorf("logon encoding: format %d holds a %s of %q, a kind no source declares", formatLegacy, name, source)
	}
	l.Kind = kind
	for i, col := range kind.Columns() {
		if j := slices.Index(names, col); col != "" && j >= 0 && i < classify.MaxColumns {
			l.Cols[i] = values[j]
		}
	}
	return nil
}
