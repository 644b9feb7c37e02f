package classify

import (
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// grammarResult says how a message matched the OpenSSH authentication grammar.
type grammarResult uint8

const (
	grammarAbsent  grammarResult = iota // the message does not follow the grammar
	grammarOK                           // it does, and the address parses
	grammarBadAddr                      // it does, but the address is not an IP address
)

// sshdOutcome is the word an OpenSSH authentication message starts with.
type sshdOutcome uint8

const (
	sshdAccepted    sshdOutcome = iota + 1 // "Accepted <method> for …"
	sshdFailed                             // "Failed <method> for …"
	sshdPostponed                          // "Postponed <method> for …"
	sshdPartial                            // "Partial <method> for …" (one method of several succeeded)
	sshdInvalidUser                        // "Invalid user <user> from <addr> port <n>"
)

// sshdLine is an OpenSSH authentication message as parseSSHD reads it. The strings alias the message.
type sshdLine struct {
	outcome sshdOutcome
	method  string // "password", "publickey", "keyboard-interactive/pam", …; "" for sshdInvalidUser
	user    string
	invalid bool // the user is not a valid account ("invalid user " or an "Invalid user" line)
	addr    netip.Addr
}

// SSHDSource returns the source address of an OpenSSH "Accepted" message (see parseSSHD). It reports
// false when the message is not one, or its address does not parse.
func SSHDSource(msg string) (netip.Addr, bool) {
	l, r := parseSSHD(msg)
	return l.addr, r == grammarOK && l.outcome == sshdAccepted
}

// SSHDFailure returns the source address and user of a failed OpenSSH authentication:
//
//	Failed <method> for [invalid user ]<user> from <addr> port <n> ssh2[: <extra>]
//	Invalid user <user> from <addr>[ port <n>]
//
// One attempt by an unknown user logs both lines (the second first), so a counter should take one of
// the two kinds. It reports false for any other message, or when the address does not parse.
func SSHDFailure(msg string) (addr netip.Addr, user string, ok bool) {
	l, r := parseSSHD(msg)
	if r != grammarOK || (l.outcome != sshdFailed && l.outcome != sshdInvalidUser) {
		return netip.Addr{}, "", false
	}
	return l.addr, l.user, true
}

// parseSSHD reads an OpenSSH authentication message, which auth_log() writes as
//
//	<outcome> <method>[/<submethod>] for [invalid user ]<user> from <addr> port <n> ssh2[: <extra>]
//
// (outcome Accepted, Failed, Postponed or Partial; extra is the key type and fingerprint, certificate
// details with a free-text key ID, a GSSAPI principal, or a hostbased client's host and key), and the
// separate "Invalid user <user> from <addr> port <n>" (no port before OpenSSH 7.5). The message may
// start with one "tag: " word ("sshd[4242]: ").
//
// The grammar is read from the left: the address is the first " from <addr> port <n>" after the user
// that is followed by the end of the message, or by " ssh2" and then the end or ":". What follows
// "ssh2" therefore never chooses the address, and neither does a user name holding " from ", an
// address, or " from x port n" followed by anything else.
// Residual ambiguity: a user name holding " from <a> port <n> ssh2: " is read as ending there, source <a>.
func parseSSHD(msg string) (sshdLine, grammarResult) {
	s := trimLeadingSpace(msg)
	var l sshdLine
	var rest string
	if l.outcome, rest = sshdOutcomeWord(s); l.outcome == 0 {
		// One leading "tag:" or "tag[pid]:" word, as when a syslog header was left on the message.
		sp := strings.IndexByte(s, ' ')
		if sp <= 1 || s[sp-1] != ':' {
			return sshdLine{}, grammarAbsent
		}
		if l.outcome, rest = sshdOutcomeWord(s[sp+1:]); l.outcome == 0 {
			return sshdLine{}, grammarAbsent
		}
	}
	if l.outcome == sshdInvalidUser {
		l.invalid = true
	} else {
		// <method>[/<submethod>] " for " [invalid user ]
		sp := strings.IndexByte(rest, ' ')
		if sp <= 0 || !strings.HasPrefix(rest[sp:], " for ") {
			return sshdLine{}, grammarAbsent
		}
		l.method, rest = rest[:sp], rest[sp+len(" for "):]
		if strings.HasPrefix(rest, "invalid user ") {
			l.invalid, rest = true, rest[len("invalid user "):]
		}
	}
	// <user> " from " <addr> …: the first " from " the rest of the grammar follows. The user may be
	// empty ("for  from …"), so the search starts at rest's first byte.
	for j := 0; ; {
		k := strings.Index(rest[j:], " from ")
		if k < 0 {
			return sshdLine{}, grammarAbsent
		}
		j += k
		host, ok := sshdHost(rest[j+len(" from "):], l.outcome == sshdInvalidUser)
		if !ok {
			j++
			continue
		}
		l.user = rest[:j]
		a, ok := ParseAddr(host)
		if !ok {
			return l, grammarBadAddr
		}
		l.addr = a
		return l, grammarOK
	}
}

// sshdOutcomeWord reads the outcome word an OpenSSH authentication message starts with and returns
// the rest of the message after it; 0 when the message starts with none.
func sshdOutcomeWord(s string) (sshdOutcome, string) {
	if s == "" {
		return 0, s
	}
	var o sshdOutcome
	var w string
	switch s[0] { // most messages are turned away by their first byte
	case 'A':
		o, w = sshdAccepted, "Accepted "
	case 'F':
		o, w = sshdFailed, "Failed "
	case 'P':
		o, w = sshdPostponed, "Postponed "
		if len(s) > 1 && s[1] == 'a' {
			o, w = sshdPartial, "Partial "
		}
	case 'I':
		o, w = sshdInvalidUser, "Invalid user "
	default:
		return 0, s
	}
	if !strings.HasPrefix(s, w) {
		return 0, s
	}
	return o, s[len(w):]
}

// sshdHost reads "<addr> port <n>" and what must follow it: the end of the message, or for an
// auth_log() message one or more spaces, "ssh2", then the end, ":" or " [preauth]" (which sshd's
// unprivileged child appends to what it logs, as "Postponed" lines). An "Invalid user" message may
// also end right after the address (OpenSSH before 7.5). It returns the address text.
func sshdHost(s string, invalidUserLine bool) (string, bool) {
	sp := strings.IndexByte(s, ' ')
	if sp < 0 {
		return s, invalidUserLine && s != ""
	}
	if sp == 0 {
		return "", false
	}
	host, rest := s[:sp], s[sp:]
	if !strings.HasPrefix(rest, " port ") {
		return host, invalidUserLine && blank(rest)
	}
	rest = rest[len(" port "):]
	n := 0
	for n < len(rest) && isDigit(rest[n]) {
		n++
	}
	if n == 0 || n > 5 {
		return "", false
	}
	rest = rest[n:]
	if blank(rest) {
		return host, true
	}
	if invalidUserLine {
		return "", false
	}
	sp = 0
	for sp < len(rest) && rest[sp] == ' ' {
		sp++
	}
	t := rest[sp:]
	if sp == 0 || !strings.HasPrefix(t, "ssh2") {
		return "", false
	}
	t = t[len("ssh2"):]
	return host, blank(t) || t[0] == ':' || (strings.HasPrefix(t, " [preauth]") && blank(t[len(" [preauth]"):]))
}

// blank reports whether s is empty or only ASCII white space (a line end left on a message).
func blank(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// firstIPv4 returns the first match of the seed KQL's
// extract(@"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})", 1, SyslogMessage): the fallback for messages that
// do not follow the sshd grammar.
func firstIPv4(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			continue
		}
		if end := dottedQuadAt(s, i); end > 0 {
			return s[i:end], true
		}
	}
	return "", false
}

// dottedQuadAt matches \d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3} at s[i:] the way a regular expression
// engine does (the last group greedy) and returns the end of the match, or -1.
func dottedQuadAt(s string, i int) int {
	for group := 0; group < 3; group++ {
		n := 0
		for i < len(s) && isDigit(s[i]) && n < 4 {
			i++
			n++
		}
		if n == 0 || n > 3 || i >= len(s) || s[i] != '.' {
			return -1
		}
		i++
	}
	n := 0
	for i < len(s) && isDigit(s[i]) && n < 3 {
		i++
		n++
	}
	if n == 0 {
		return -1
	}
	return i
}

// hasTerm is KQL's `has`: s contains term as a whole term, ignoring case. Terms are maximal runs of
// letters and digits, so "NotAccepted" and "Accepteds" do not have "accepted" but "Accepted:" does.
// term must be lower-case ASCII.
func hasTerm(s, term string) bool {
	n := len(term)
	if n == 0 {
		return false
	}
	first := term[0]
	for i := 0; i+n <= len(s); i++ {
		if s[i]|0x20 != first || !equalFoldASCII(s[i:i+n], term) {
			continue
		}
		if i > 0 && wordRuneBefore(s, i) {
			continue
		}
		if i+n < len(s) && wordRuneAt(s, i+n) {
			continue
		}
		return true
	}
	return false
}

func wordRuneAt(s string, i int) bool {
	if c := s[i]; c < utf8.RuneSelf {
		return isASCIIAlnum(c)
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func wordRuneBefore(s string, i int) bool {
	if c := s[i-1]; c < utf8.RuneSelf {
		return isASCIIAlnum(c)
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// equalFoldASCII compares s with the lower-case ASCII word lower, ignoring ASCII case only.
func equalFoldASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c |= 0x20
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func isASCIIAlnum(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}
