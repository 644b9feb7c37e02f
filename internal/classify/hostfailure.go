package classify

import (
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FailedSyslogLogon is a failed logon in auth syslog (sshd, login, another auth program), with the
// part hostFailures; Observation.Repeat is how many failures it stands for.
var FailedSyslogLogon = Declare(KindSpec{Name: "host_failure", Source: "Syslog", Columns: hostColumns, Host: "Computer"})

// hostFailures is the part that recognises failed host logons: what the rule "Failed host logons
// but success logon to AzureAD" counts per source address. They are Windows 4625 events (with a
// counted LogonType and an address) and auth-facility syslog lines other than sudo's that have
// the term "from", none of the terms Disconnecting, Disconnected, Accepted, disconnect or
// [preauth], and a source address that is not excluded. Without it such records are Unrelated and
// cost what they always did.
var hostFailures = declarePart(FailedSyslogLogon, FailedSecurityEventLogon, FailedWindowsEventLogon)

// Failed Linux logons (the part hostFailures) follow the second rule's Syslog filter: an auth-facility
// message of a process other than sudo (finishLinux tests those two), with the term "from" and none
// of the terms Disconnecting, Disconnected, Accepted, disconnect or [preauth]; its source is the
// first IPv4 address in the message other than 127.0.0.1. Where we deliberately count otherwise
// (RULE_B_DIFFERENCES.md says the same for operators):
//
//   - A message that follows the OpenSSH authentication grammar (see parseSSHD) takes its source
//     from the grammar, not from the first dotted quad: a user name that looks like an address
//     ("Failed password for 10.9.9.9 from 203.0.113.7 …") cannot redirect it, and IPv6 sources count
//     (the first-IPv4 extraction finds none in them, or a wrong one in a mapped or embedded form).
//     Only the grammar's failures count: "Failed <method> for …" and "Invalid user …". Its other
//     outcomes ("Postponed", "Partial": steps of an authentication still going on, one of them a
//     success) are no failed logon, though they pass the filter when they lack "[preauth]".
//   - sshd's lines about a connection or a session rather than an authentication pass the filter
//     but report no failure: "Connection from <addr> port <n> on <addr> port <n>", and with
//     LogLevel VERBOSE "Starting session: … from <addr> port <n> id <n>" and "Close session: user
//     … from <addr> port <n> id <n>". Counting them would make an administrator's own successful
//     sessions look like failures from their address. They are not counted.
//   - A syslog daemon's "message repeated N times: [ <message> ]" stands for N identical lines: it
//     is N failures (Observation.Repeat), not one. Its inner message decides, as if it were alone.
//   - One failed attempt by an unknown user logs both "Invalid user x from a port p" and "Failed
//     password for invalid user x from a port p ssh2". Both lines count, as in the KQL, whose
//     threshold was chosen for that count. Neither line can stand in for the other: "Invalid user"
//     is logged once per connection, also for a client that leaves before it tries a password (a
//     user-name probe), and "Failed … for invalid user" once per attempt.
//   - The addresses of Rules.ExcludedIPs (by default 127.0.0.1 and ::1) are not counted; an
//     address that does not parse (a host name in the grammar, "999.1.2.3") is Rejected.
//
// Other messages (other auth programs, other sshd messages) take the KQL's first IPv4 address, e.g.
// login's "FAILED LOGIN 1 FROM 192.0.2.1 FOR root, Authentication failure".

// linuxFailure classifies an auth-facility message of a process other than sudo without the term
// Accepted (finishLinux has tested these) as a FailedSyslogLogon, or leaves it Unrelated.
func (c *Classifier) linuxFailure(l linuxLogon, ev *Observation) {
	if !failedLogonTerms(l.message) {
		return
	}
	msg, repeat := unwrapRepeated(l.message)
	var addr netip.Addr
	var user string
	line, res := parseSSHD(msg)
	switch {
	case res != grammarAbsent:
		if line.outcome != sshdFailed && line.outcome != sshdInvalidUser {
			return // Postponed, Partial: no failure
		}
		if res == grammarBadAddr {
			ev.Kind, ev.Reject = Rejected, RejectBadAddress
			return
		}
		addr, user = line.addr, line.user
	case sshdSessionLine(msg):
		return
	default:
		text, found := firstIPv4(msg)
		if !found {
			return // no address: nothing the rule can count
		}
		a, ok := ParseAddr(text)
		if !ok {
			ev.Kind, ev.Reject = Rejected, RejectBadAddress
			return
		}
		addr = a
	}
	if c.excludedAddr(addr) {
		return
	}
	l.set(ev, FailedSyslogLogon, addr, user)
	ev.Repeat = repeat
}

// failedLogonTerms is the second rule's message test: s has the term "from" and none of the terms
// Disconnecting, Disconnected, Accepted and disconnect, all as KQL's `has` reads them (whole terms,
// any case, see hasTerm), nor "[preauth]" (any case; the brackets must be there, the term preauth
// alone is not enough). It reads the terms of s once instead of searching s once per term.
func failedLogonTerms(s string) bool {
	from := false
	for i := 0; i < len(s); {
		// Skip to the start of a term.
		switch termByte[s[i]] {
		case termNone:
			i++
			continue
		case termMaybe:
			if word, n := wordRune(s, i); !word {
				i += n
				continue
			}
		}
		// Read the term.
		start := i
		for i < len(s) {
			if k := termByte[s[i]]; k == termASCII {
				i++
				continue
			} else if k == termMaybe {
				if word, n := wordRune(s, i); word {
					i += n
					continue
				}
			}
			break
		}
		switch t := s[start:i]; len(t) {
		case len("from"):
			from = from || equalFoldASCII(t, "from")
		case len("preauth"):
			if start > 0 && s[start-1] == '[' && i < len(s) && s[i] == ']' && equalFoldASCII(t, "preauth") {
				return false
			}
		case len("accepted"):
			if equalFoldASCII(t, "accepted") {
				return false
			}
		case len("disconnect"):
			if equalFoldASCII(t, "disconnect") {
				return false
			}
		case len("disconnected"):
			if equalFoldASCII(t, "disconnected") {
				return false
			}
		case len("disconnecting"):
			if equalFoldASCII(t, "disconnecting") {
				return false
			}
		}
	}
	return from
}

// Classes of a byte for failedLogonTerms: not part of a term, an ASCII letter or digit, or the first
// byte of a character beyond ASCII (which may be a letter or a digit: see wordRune).
const (
	termNone uint8 = iota
	termASCII
	termMaybe
)

var termByte = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = termMaybe
		case isASCIIAlnum(byte(c)):
			t[c] = termASCII
		}
	}
	return t
}()

// wordRune reports whether the character at s[i] is part of a term (a letter or a digit, as hasTerm
// has it) and its length in bytes (1 for a byte that starts no valid UTF-8 sequence).
func wordRune(s string, i int) (bool, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return isASCIIAlnum(c), 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r), n
}

// maxRepeatDigits bounds the N of "message repeated N times": nine digits.
const maxRepeatDigits = 9

// unwrapRepeated reads a syslog daemon's "message repeated N times: [ <message>]" (rsyslog writes it
// in place of N lines identical to the one before) and returns the message inside and N. Any other
// message comes back as it is, with 1. One leading "tag: " word is skipped, as parseSSHD does.
func unwrapRepeated(s string) (string, int) {
	const prefix, infix = "message repeated ", " times: ["
	t := trimLeadingSpace(s)
	if !strings.HasPrefix(t, prefix) {
		sp := strings.IndexByte(t, ' ')
		if sp <= 1 || t[sp-1] != ':' || !strings.HasPrefix(t[sp+1:], prefix) {
			return s, 1
		}
		t = t[sp+1:]
	}
	t = t[len(prefix):]
	n, digits := 0, 0
	for digits < len(t) && isDigit(t[digits]) {
		if digits == maxRepeatDigits {
			return s, 1
		}
		n = n*10 + int(t[digits]-'0')
		digits++
	}
	if n == 0 || !strings.HasPrefix(t[digits:], infix) {
		return s, 1
	}
	inner := strings.TrimRight(t[digits+len(infix):], " \t\r\n")
	if !strings.HasSuffix(inner, "]") {
		return s, 1
	}
	return trimLeadingSpace(inner[:len(inner)-1]), n
}

// sshdSessionLine recognises what sshd logs about a connection or a session rather than about an
// authentication:
//
//	Connection from <addr> port <n> on <addr> port <n>[ rdomain "<name>"]
//	Starting session: <what> for <user> from <addr> port <n> id <n>
//	Close session: user <user> from <addr> port <n> id <n>
//
// One leading "tag: " word is skipped, as parseSSHD does.
func sshdSessionLine(s string) bool {
	s = trimLeadingSpace(s)
	if sessionLineAt(s) {
		return true
	}
	sp := strings.IndexByte(s, ' ')
	return sp > 1 && s[sp-1] == ':' && sessionLineAt(s[sp+1:])
}

func sessionLineAt(s string) bool {
	switch {
	case strings.HasPrefix(s, "Connection from "):
		rest := s[len("Connection from "):]
		sp := strings.IndexByte(rest, ' ')
		if sp <= 0 || !strings.HasPrefix(rest[sp:], " port ") {
			return false
		}
		rest = rest[sp+len(" port "):]
		n := leadingDigits(rest)
		return n > 0 && n <= 5 && strings.HasPrefix(rest[n:], " on ")
	case strings.HasPrefix(s, "Starting session: "), strings.HasPrefix(s, "Close session: user "):
		// … from <addr> port <n> id <n>, at the end.
		t := strings.TrimRight(s, " \t\r\n")
		id := strings.LastIndex(t, " id ")
		if id < 0 || !strings.Contains(t[:id], " from ") || !strings.Contains(t[:id], " port ") {
			return false
		}
		n := leadingDigits(t[id+len(" id "):])
		return n > 0 && id+len(" id ")+n == len(t)
	}
	return false
}

// leadingDigits counts the ASCII digits s starts with.
func leadingDigits(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}
