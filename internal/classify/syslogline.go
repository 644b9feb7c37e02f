package classify

import "strings"

// A raw syslog line is read by this small strict header parser rather than by pkg/stanza's syslog
// parser (operator/parser/syslog). That parser can only be driven as a stanza operator: it takes an
// *entry.Entry, converts the body to []byte, builds a fresh go-syslog machine per call, returns the
// fields in a new map[string]any with pointer fields dereferenced, and must be told the protocol
// (RFC 3164 or 5424) in advance. That is a dozen allocations per record on a path that also sees
// every non-auth line of a syslog file, where we need only the PRI, host, program and message.

// syslogLine is the header of a raw syslog line.
type syslogLine struct {
	facility int   // -1 when the line has no PRI header
	time     int64 // Unix ns from an RFC 3339 timestamp; 0 for RFC 3164's year-less one
	hostname string
	appname  string
	message  string
}

// parsePRI reads a "<PRI>" header (0..191) and returns the facility and the rest of the line.
func parsePRI(s string) (int, string, bool) {
	if len(s) < 3 || s[0] != '<' {
		return 0, s, false
	}
	n, i := 0, 1
	for i < len(s) && i <= 3 && isDigit(s[i]) {
		n = n*10 + int(s[i]-'0')
		i++
	}
	if i == 1 || i >= len(s) || s[i] != '>' || n > 191 {
		return 0, s, false
	}
	return n >> 3, s[i+1:], true
}

// parseSyslogLine parses a line with or without a PRI header, in RFC 5424 or RFC 3164 form (the
// latter also with an RFC 3339 timestamp, as rsyslog writes files by default on current Debian).
func parseSyslogLine(s string) (syslogLine, bool) {
	line := syslogLine{facility: -1}
	if strings.HasPrefix(s, "<") {
		f, rest, ok := parsePRI(s)
		if !ok {
			return line, false
		}
		line.facility, s = f, rest
		if v := versionPrefix(s); v > 0 {
			return parseRFC5424(s[v:], line)
		}
	}
	return parseRFC3164(s, line)
}

// versionPrefix returns the length of an RFC 5424 "VERSION SP" prefix, or 0.
func versionPrefix(s string) int {
	i := 0
	for i < len(s) && i < 3 && isDigit(s[i]) {
		i++
	}
	if i == 0 || s[0] == '0' || i >= len(s) || s[i] != ' ' {
		return 0
	}
	return i + 1
}

// parseRFC5424 parses "TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]".
func parseRFC5424(s string, line syslogLine) (syslogLine, bool) {
	var tok [5]string
	for i := range tok {
		var ok bool
		if tok[i], s, ok = token(s); !ok {
			return line, false
		}
	}
	if tok[0] != "-" {
		t, n := parseRFC3339(tok[0])
		if n != len(tok[0]) {
			return line, false
		}
		line.time = t
	}
	line.hostname = nilValue(tok[1])
	line.appname = nilValue(tok[2])
	sd := structuredDataLen(s)
	if sd == 0 {
		return line, false
	}
	s = s[sd:]
	switch {
	case s == "":
	case s[0] == ' ':
		line.message = strings.TrimPrefix(s[1:], "\ufeff")
	default:
		return line, false
	}
	return line, true
}

// token splits off a non-empty run of non-space characters followed by one space.
func token(s string) (string, string, bool) {
	i := strings.IndexByte(s, ' ')
	if i <= 0 {
		return "", s, false
	}
	return s[:i], s[i+1:], true
}

func nilValue(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// structuredDataLen returns the length of RFC 5424 STRUCTURED-DATA at the start of s ("-" or one or
// more [SD-ELEMENT]s, whose quoted values may hold escaped \" \\ \]), or 0 when there is none.
func structuredDataLen(s string) int {
	if strings.HasPrefix(s, "-") {
		return 1
	}
	i := 0
	for i < len(s) && s[i] == '[' {
		quoted := false
		i++
		for ; i < len(s); i++ {
			c := s[i]
			if quoted && c == '\\' {
				i++
				continue
			}
			if c == '"' {
				quoted = !quoted
			} else if c == ']' && !quoted {
				break
			}
		}
		if i >= len(s) {
			return 0
		}
		i++
	}
	return i
}

var monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseRFC3164 parses "TIMESTAMP [HOSTNAME] TAG: MSG" where TIMESTAMP is "Mmm dd hh:mm:ss" or RFC 3339
// and TAG is "program" or "program[pid]".
func parseRFC3164(s string, line syslogLine) (syslogLine, bool) {
	switch {
	case len(s) >= 16 && isMonth(s[:3]):
		if s[3] != ' ' || (s[4] != ' ' && !isDigit(s[4])) || !isDigit(s[5]) || s[6] != ' ' ||
			!isClock(s[7:15]) || s[15] != ' ' {
			return line, false
		}
		s = s[16:]
	case s != "" && isDigit(s[0]):
		ts, rest, ok := token(s)
		if !ok {
			return line, false
		}
		t, n := parseRFC3339(ts)
		if n != len(ts) {
			return line, false
		}
		line.time, s = t, rest
	default:
		return line, false
	}
	first, rest, ok := token(s)
	if !ok {
		return line, false
	}
	if !strings.HasSuffix(first, ":") {
		// first is the host; the tag follows.
		line.hostname = first
		if first, rest, ok = token(rest); !ok || !strings.HasSuffix(first, ":") {
			return line, false
		}
	}
	tag := first[:len(first)-1]
	if b := strings.IndexByte(tag, '['); b >= 0 {
		if !strings.HasSuffix(tag, "]") {
			return line, false
		}
		tag = tag[:b]
	}
	if tag == "" {
		return line, false
	}
	line.appname = tag
	line.message = rest
	return line, true
}

func isMonth(s string) bool {
	for _, m := range monthNames {
		if s == m {
			return true
		}
	}
	return false
}

// isClock reports whether s is "hh:mm:ss".
func isClock(s string) bool {
	return len(s) == 8 && isDigit(s[0]) && isDigit(s[1]) && s[2] == ':' && isDigit(s[3]) &&
		isDigit(s[4]) && s[5] == ':' && isDigit(s[6]) && isDigit(s[7])
}
