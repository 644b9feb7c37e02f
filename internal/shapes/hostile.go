package shapes

import (
	"math"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// The rejection reasons a hostile record is counted under, as the processor names them (the
// classifier's reasons, and the processor's own for a time beyond the allowed skew).
const (
	ReasonMissingAddress    = "missing_address"
	ReasonBadAddress        = "bad_address"
	ReasonMissingResultType = "missing_result_type"
	ReasonBadResultType     = "bad_result_type"
	ReasonBadLogonType      = "bad_logon_type"
	ReasonFutureTime        = "future_time"
)

// Hostile is one malformed record: how to build it, and the rejection reason it must be counted
// under ("" when it is simply not part of any rule, or a logon read rightly).
type Hostile struct {
	Name   string
	Fill   func(lr plog.LogRecord)
	Reason string
}

// HostileRecords are the malformed records every layer must survive: wrong value types in every
// field, missing fields, empty and huge strings, invalid UTF-8, odd addresses, overflowing numbers,
// deeply nested bodies, and timestamps at zero, far past and far future. addr is the address of the
// well-formed fields, at their time (the record's Timestamp: the sign-ins carry no time field, so
// that the cases about timestamps decide).
func HostileRecords(addr string, at time.Time) []Hostile {
	mib := strings.Repeat("A", 1<<20)
	invalidUTF8 := "Accepted password for \xff\xfe from 203.0.113.7 port 22 ssh2"
	stamp := func(lr plog.LogRecord) { lr.SetTimestamp(pcommon.NewTimestampFromTime(at)) }

	// signIn is a failed Sentinel sign-in from addr, then ip and resultType set (nil: absent).
	signIn := func(ip, resultType func(pcommon.Map)) func(plog.LogRecord) {
		return func(lr plog.LogRecord) {
			SignIn{Addr: addr}.Fill(lr)
			a := lr.Attributes()
			a.Remove("TimeGenerated")
			a.Remove("IPAddress")
			a.Remove("ResultType")
			if ip != nil {
				ip(a)
			}
			if resultType != nil {
				resultType(a)
			}
			stamp(lr)
		}
	}
	ipStr := func(s string) func(pcommon.Map) { return func(a pcommon.Map) { a.PutStr("IPAddress", s) } }
	rtStr := func(s string) func(pcommon.Map) { return func(a pcommon.Map) { a.PutStr("ResultType", s) } }
	failed := rtStr("50126")
	goodIP := ipStr(addr)
	// sshd is the syslog receiver's attributes of an accepted logon from addr, then f.
	sshd := func(f func(pcommon.Map)) func(plog.LogRecord) {
		return func(lr plog.LogRecord) {
			Syslog{Shape: SyslogReceiver, Place: InAttributes, Message: AcceptedPassword(User, addr), Time: at}.Fill(lr)
			f(lr.Attributes())
		}
	}
	// windows is a SecurityEvent 4624 from addr, then f.
	windows := func(f func(pcommon.Map)) func(plog.LogRecord) {
		return func(lr plog.LogRecord) {
			Windows{Addr: addr, Computer: "dc01", Numbers: true, Time: at}.Fill(lr)
			f(lr.Attributes())
			stamp(lr)
		}
	}
	withTime := func(f func(lr plog.LogRecord)) func(plog.LogRecord) {
		return func(lr plog.LogRecord) {
			signIn(goodIP, failed)(lr)
			f(lr)
		}
	}
	return []Hostile{
		// Wrong value types in every field.
		{"IPAddress as int", signIn(func(a pcommon.Map) { a.PutInt("IPAddress", 3405803783) }, failed), ReasonBadAddress},
		{"IPAddress as map", signIn(func(a pcommon.Map) { a.PutEmptyMap("IPAddress").PutStr("ip", addr) }, failed), ReasonBadAddress},
		{"IPAddress as bytes", signIn(func(a pcommon.Map) { a.PutEmptyBytes("IPAddress").FromRaw([]byte{203, 0, 113, 7}) }, failed), ReasonBadAddress},
		{"IPAddress as slice", signIn(func(a pcommon.Map) { a.PutEmptySlice("IPAddress").AppendEmpty().SetStr(addr) }, failed), ReasonBadAddress},
		{"ResultType as map", signIn(goodIP, func(a pcommon.Map) { a.PutEmptyMap("ResultType") }), ReasonBadResultType},
		{"ResultType as bool", signIn(goodIP, func(a pcommon.Map) { a.PutBool("ResultType", true) }), ReasonBadResultType},
		{"Type as int", func(lr plog.LogRecord) { lr.Attributes().PutInt("Type", 7) }, ""},
		{"EventID as map", windows(func(a pcommon.Map) { a.PutEmptyMap("EventID") }), ""},
		{"LogonType as map", windows(func(a pcommon.Map) { a.PutEmptyMap("LogonType") }), ReasonBadLogonType},
		{"Computer as slice", windows(func(a pcommon.Map) { a.PutEmptySlice("Computer") }), ""},
		{"appname as int", sshd(func(a pcommon.Map) { a.PutInt("appname", 22) }), ""},
		{"facility as map", sshd(func(a pcommon.Map) { a.PutEmptyMap("facility"); a.Remove("facility_text") }), ""},
		{"message as bytes", sshd(func(a pcommon.Map) { a.PutEmptyBytes("message").FromRaw([]byte("Accepted")) }), ""},
		// Missing fields.
		{"sign-in without an address", signIn(nil, failed), ReasonMissingAddress},
		{"sign-in without a ResultType", signIn(goodIP, nil), ReasonMissingResultType},
		{"4624 without an address", windows(func(a pcommon.Map) { a.Remove("IpAddress") }), ""},
		{"sshd without a message", sshd(func(a pcommon.Map) { a.Remove("message") }), ""},
		// Empty and huge strings, invalid UTF-8.
		{"empty address", signIn(ipStr(""), failed), ReasonBadAddress},
		{"1 MiB address", signIn(ipStr(mib), failed), ReasonBadAddress},
		{"1 MiB ResultType", signIn(goodIP, rtStr(mib)), ""},
		{"1 MiB sshd message", sshd(func(a pcommon.Map) { a.PutStr("message", mib+AcceptedPassword("x", addr)) }), ""},
		{"1 MiB body", func(lr plog.LogRecord) { lr.Body().SetStr(mib) }, ""},
		{"invalid UTF-8 message", sshd(func(a pcommon.Map) { a.PutStr("message", invalidUTF8) }), ""},
		{"invalid UTF-8 address", signIn(ipStr("203.0.113.\xff"), failed), ReasonBadAddress},
		// Addresses with zones, brackets, ports, leading zeros, garbage.
		{"address with a zone", signIn(ipStr("fe80::1%eth0"), failed), ""},
		{"address in brackets with a port", signIn(ipStr("[2001:db8::1]:443"), failed), ""},
		{"address with a port", signIn(ipStr("203.0.113.7:8080"), failed), ""},
		{"leading zeros", signIn(ipStr("010.001.113.007"), failed), ReasonBadAddress},
		{"octet out of range", signIn(ipStr("999.1.1.1"), failed), ReasonBadAddress},
		{"garbage address", signIn(ipStr("not-an-ip"), failed), ReasonBadAddress},
		{"windows garbage address", windows(func(a pcommon.Map) { a.PutStr("IpAddress", "::ffff:zz") }), ReasonBadAddress},
		// Negative and overflowing numbers.
		{"negative ResultType", signIn(goodIP, func(a pcommon.Map) { a.PutInt("ResultType", -50126) }), ""},
		{"overflowing ResultType", signIn(goodIP, func(a pcommon.Map) { a.PutDouble("ResultType", 1e300) }), ""},
		{"NaN ResultType", signIn(goodIP, func(a pcommon.Map) { a.PutDouble("ResultType", math.NaN()) }), ""},
		{"negative EventID", windows(func(a pcommon.Map) { a.PutInt("EventID", -4624) }), ""},
		{"overflowing LogonType", windows(func(a pcommon.Map) { a.PutDouble("LogonType", 3e30) }), ReasonBadLogonType},
		{"huge facility", sshd(func(a pcommon.Map) { a.PutInt("facility", math.MaxInt64); a.Remove("facility_text") }), ""},
		// Deeply nested bodies.
		{"deeply nested body", func(lr plog.LogRecord) {
			m := lr.Body().SetEmptyMap()
			m.PutStr("category", "SignInLogs")
			for range 2000 {
				m = m.PutEmptyMap("properties")
			}
			m.PutStr("ipAddress", addr)
		}, ReasonMissingResultType},
		{"nested JSON string body", func(lr plog.LogRecord) {
			lr.Body().SetStr(`{"category":"SignInLogs","properties":` + strings.Repeat(`{"a":`, 100000) + strings.Repeat("}", 100000) + `}`)
		}, ""},
		// Timestamps at zero, far past, far future.
		{"timestamps at zero", withTime(func(lr plog.LogRecord) { lr.SetTimestamp(0) }), ""},
		{"far past", withTime(func(lr plog.LogRecord) {
			lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)))
		}), ""},
		{"far future", withTime(func(lr plog.LogRecord) {
			lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)))
		}), ReasonFutureTime},
		{"maximal timestamp", withTime(func(lr plog.LogRecord) { lr.SetTimestamp(math.MaxUint64) }), ""},
		{"far future TimeGenerated only", withTime(func(lr plog.LogRecord) {
			lr.SetTimestamp(0)
			lr.Attributes().PutStr("TimeGenerated", "2200-12-31T23:59:59.999999999Z")
		}), ReasonFutureTime},
		{"TimeGenerated beyond what nanoseconds hold", withTime(func(lr plog.LogRecord) {
			lr.SetTimestamp(0)
			lr.Attributes().PutStr("TimeGenerated", "9999-12-31T23:59:59.999999999Z")
		}), ReasonFutureTime},
	}
}
