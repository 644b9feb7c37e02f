package classify

import (
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// grammarResult says how a message matched the OpenSSH "Accepted" grammar.
type grammarResult uint8

const (
	grammarAbsent  grammarResult = iota // the message does not follow the grammar
	grammarOK                           // it does, and the address parses
	grammarBadAddr                      // it does, but the address is not an IP address
)

// SSHDSource returns the source address of an OpenSSH "Accepted" message,
//
//	Accepted <method> for [invalid user ]<user> from <addr> port <n>[ ssh2[: <key>]]
//
// (OpenSSH auth.c auth_log()). The host part is read from the right: the last " from <addr> port <n>"
// that ends the message or is followed by a space, so a user name that is itself an address, or
// contains " from ", cannot redirect it. It reports false when the message does not follow the
// grammar or the address does not parse.
func SSHDSource(msg string) (netip.Addr, bool) {
	a, _, r := sshdGrammar(msg)
	return a, r == grammarOK
}

// sshdGrammar parses the OpenSSH "Accepted" grammar and returns the source address and the user.
func sshdGrammar(msg string) (netip.Addr, string, grammarResult) {
	const accepted, forSep, fromSep, portSep = "Accepted ", " for ", " from ", " port "
	i := strings.Index(msg, accepted)
	if i < 0 {
		return netip.Addr{}, "", grammarAbsent
	}
	rest := msg[i+len(accepted):]
	sp := strings.IndexByte(rest, ' ')
	if sp <= 0 || !strings.HasPrefix(rest[sp:], forSep) {
		return netip.Addr{}, "", grammarAbsent // no <method>, or no " for " right after it
	}
	rest = rest[sp+len(forSep):]
	for j := strings.LastIndex(rest, fromSep); j >= 0; j = strings.LastIndex(rest[:j], fromSep) {
		host := rest[j+len(fromSep):]
		end := strings.IndexByte(host, ' ')
		if end <= 0 || !strings.HasPrefix(host[end:], portSep) {
			continue
		}
		port := host[end+len(portSep):]
		n := 0
		for n < len(port) && isDigit(port[n]) {
			n++
		}
		if n == 0 || n > 5 || (n < len(port) && port[n] != ' ') {
			continue
		}
		user := strings.TrimPrefix(rest[:j], "invalid user ")
		a, ok := ParseAddr(host[:end])
		if !ok {
			return netip.Addr{}, user, grammarBadAddr
		}
		return a, user, grammarOK
	}
	return netip.Addr{}, "", grammarAbsent
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
