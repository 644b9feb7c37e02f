package classify

import (
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestParseAddr(t *testing.T) {
	cases := []struct {
		in, want string // want "" means rejected
	}{
		{"203.0.113.7", "203.0.113.7"},
		{"  203.0.113.7\n", "203.0.113.7"},
		{"203.0.113.7:52144", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"::FFFF:cb00:7107", "203.0.113.7"},
		{"2001:db8::7", "2001:db8::7"},
		{"2001:0db8:0000:0000:0000:0000:0000:0007", "2001:db8::7"},
		{"[2001:db8::7]", "2001:db8::7"},
		{"[2001:db8::7]:443", "2001:db8::7"},
		{"[::ffff:203.0.113.7]:443", "203.0.113.7"},
		{"fe80::1%eth0", "fe80::1"},
		{"[fe80::1%12]:3389", "fe80::1"},
		{"127.0.0.1", "127.0.0.1"},
		{"::1", "::1"},
		{"", ""},
		{"-", ""},
		{"0.0.0.0", ""},
		{"::", ""},
		{"::ffff:0.0.0.0", ""},
		{"203.0.113.007", ""},
		{"203.0.113", ""},
		{"203.0.113.256", ""},
		{"203.0.113.7:", ""},
		{"203.0.113.7:99999", ""},
		{"203.0.113.7:http", ""},
		{"[2001:db8::7", ""},
		{"[2001:db8::7]x", ""},
		{"gw.example.com", ""},
		{"cafe.bad", ""},
		{"1.2.3.4%eth0", ""},
		{"UNKNOWN", ""},
		{"\xff\xfe", ""},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := ParseAddr(tc.in)
			if tc.want == "" {
				assert.False(t, ok, "got %v", got)
				return
			}
			assert.True(t, ok)
			assert.Equal(t, netip.MustParseAddr(tc.want), got)
		})
	}
}

func TestSSHDSource(t *testing.T) {
	const (
		cert = "Accepted publickey for alice from 203.0.113.7 port 52144 ssh2: ED25519-CERT SHA256:abc ID ops from 198.51.100.1 port 22 (serial 1) CA ED25519 SHA256:def"
		// A certificate whose free-text key ID is itself a whole sshd tail.
		rsaCert = "Accepted publickey for deploy from 203.0.113.7 port 40022 ssh2: RSA-CERT SHA256:Zm9v ID x from 198.51.100.1 port 22 ssh2 (serial 77) CA RSA SHA256:YmFy"
	)
	cases := []struct {
		name, msg string
		want      string // "" when the grammar does not give an address
		user      string
		result    grammarResult
	}{
		{"password", "Accepted password for alice from 203.0.113.7 port 52144 ssh2", "203.0.113.7", "alice", grammarOK},
		{"publickey with fingerprint", "Accepted publickey for alice from 203.0.113.7 port 22 ssh2: RSA SHA256:x", "203.0.113.7", "alice", grammarOK},
		{"ED25519 certificate", cert, "203.0.113.7", "alice", grammarOK},
		{"RSA certificate whose ID holds an sshd tail", rsaCert, "203.0.113.7", "deploy", grammarOK},
		{"keyboard-interactive/pam", "Accepted keyboard-interactive/pam for alice from 203.0.113.7 port 22 ssh2", "203.0.113.7", "alice", grammarOK},
		{"gssapi-with-mic", "Accepted gssapi-with-mic for alice from 203.0.113.7 port 22 ssh2: alice@EXAMPLE.COM", "203.0.113.7", "alice", grammarOK},
		{"hostbased", "Accepted hostbased for alice from 203.0.113.7 port 22 ssh2: ED25519 SHA256:abc, client user \"alice\", client host \"gw from 198.51.100.1 port 22\"", "203.0.113.7", "alice", grammarOK},
		{"none for an empty user", "Accepted none for  from 203.0.113.7 port 22 ssh2", "203.0.113.7", "", grammarOK},
		{"no ssh2 suffix", "Accepted password for alice from 203.0.113.7 port 22", "203.0.113.7", "alice", grammarOK},
		{"two spaces before ssh2", "Accepted publickey for sftp from 1.1.12.1 port 800  ssh2", "1.1.12.1", "sftp", grammarOK},
		{"line end left on the message", "Accepted password for alice from 203.0.113.7 port 22 ssh2\r\n", "203.0.113.7", "alice", grammarOK},
		{"IPv6 compressed", "Accepted password for alice from 2001:db8::42 port 22 ssh2", "2001:db8::42", "alice", grammarOK},
		{"IPv6 full", "Accepted password for alice from 2001:0db8:0000:0000:0000:0000:0000:0042 port 22 ssh2", "2001:db8::42", "alice", grammarOK},
		{"IPv4-mapped IPv6", "Accepted password for alice from ::ffff:203.0.113.7 port 22 ssh2", "203.0.113.7", "alice", grammarOK},
		{"invalid user prefix", "Accepted none for invalid user bob from 203.0.113.7 port 22 ssh2", "203.0.113.7", "bob", grammarOK},
		{"user is an address", "Accepted password for 198.51.100.1 from 203.0.113.7 port 22 ssh2", "203.0.113.7", "198.51.100.1", grammarOK},
		{"user holds a from clause", "Accepted password for a from 10.9.9.9 port 1 from 203.0.113.7 port 22 ssh2", "203.0.113.7", "a from 10.9.9.9 port 1", grammarOK},
		{"user holds a whole tail", "Accepted password for a from 10.9.9.9 port 1 ssh2 b from 203.0.113.7 port 22 ssh2", "203.0.113.7", "a from 10.9.9.9 port 1 ssh2 b", grammarOK},
		{"user with spaces", "Accepted password for invalid user a b  c from 203.0.113.7 port 22 ssh2", "203.0.113.7", "a b  c", grammarOK},
		// The ambiguity that remains: a user name holding " from <a> port <n> ssh2: " is read as ending
		// before it. Only the user name can do this, never what follows ssh2.
		{"user holds a tail and a colon", "Accepted password for invalid user a from 10.9.9.9 port 1 ssh2: from 203.0.113.7 port 22 ssh2", "10.9.9.9", "a", grammarOK},
		{"tag prefix", "sshd[4242]: Accepted password for alice from 203.0.113.7 port 22 ssh2", "203.0.113.7", "alice", grammarOK},
		{"sshd-session tag prefix", "sshd-session[4242]: Accepted publickey for alice from 203.0.113.7 port 22 ssh2: ED25519 SHA256:x", "203.0.113.7", "alice", grammarOK},
		{"host name", "Accepted password for alice from gw.example.com port 22 ssh2", "", "alice", grammarBadAddr},
		{"UNKNOWN address, tail in the extra", "Accepted publickey for alice from UNKNOWN port 65535 ssh2: ED25519-CERT SHA256:abc ID x from 198.51.100.1 port 22 ssh2", "", "alice", grammarBadAddr},
		{"port not a number", "Accepted password for alice from 203.0.113.7 port x ssh2", "", "", grammarAbsent},
		{"port too long", "Accepted password for alice from 203.0.113.7 port 123456 ssh2", "", "", grammarAbsent},
		{"no port", "Accepted password for alice from 203.0.113.7", "", "", grammarAbsent},
		{"other text after the port", "Accepted password for alice from 203.0.113.7 port 22 via 198.51.100.1", "", "", grammarAbsent},
		{"ssh2 followed by text", "Accepted password for alice from 203.0.113.7 port 22 ssh2x", "", "", grammarAbsent},
		{"no for", "Accepted connection from 203.0.113.7 port 22", "", "", grammarAbsent},
		{"Accepted not first", "Connection Accepted password for alice from 203.0.113.7 port 22 ssh2", "", "", grammarAbsent},
		{"lower-case accepted", "accepted password for alice from 203.0.113.7 port 22 ssh2", "", "", grammarAbsent},
		{"failed is not accepted", "Failed password for alice from 203.0.113.7 port 22 ssh2", "203.0.113.7", "alice", grammarOK},
		{"postponed with [preauth]", "Postponed keyboard-interactive/pam for alice from 203.0.113.7 port 22 ssh2 [preauth]", "203.0.113.7", "alice", grammarOK},
		{"[preauth] then more", "Postponed keyboard-interactive/pam for alice from 203.0.113.7 port 22 ssh2 [preauth] x", "", "", grammarAbsent},
		{"empty", "", "", "", grammarAbsent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, res := parseSSHD(tc.msg)
			assert.Equal(t, tc.result, res)
			assert.Equal(t, tc.user, l.user)
			got, ok := SSHDSource(tc.msg)
			accepted := l.outcome == sshdAccepted
			assert.Equal(t, tc.want != "" && accepted, ok)
			if tc.want != "" {
				assert.Equal(t, netip.MustParseAddr(tc.want), l.addr)
				if accepted {
					assert.Equal(t, l.addr, got)
				}
			}
		})
	}
}

func TestParseSSHDParts(t *testing.T) {
	cases := []struct {
		msg     string
		outcome sshdOutcome
		method  string
		invalid bool
	}{
		{"Accepted publickey for alice from 203.0.113.7 port 22 ssh2: ED25519 SHA256:x", sshdAccepted, "publickey", false},
		{"Failed keyboard-interactive/pam for invalid user x from 203.0.113.7 port 22 ssh2", sshdFailed, "keyboard-interactive/pam", true},
		{"Postponed keyboard-interactive/pam for alice from 203.0.113.7 port 22 ssh2 [preauth]", sshdPostponed, "keyboard-interactive/pam", false},
		{"Partial publickey for alice from 203.0.113.7 port 22 ssh2: ED25519 SHA256:x", sshdPartial, "publickey", false},
		{"Invalid user x from 203.0.113.7 port 22", sshdInvalidUser, "", true},
		{"sshd-session[9]: Accepted gssapi-with-mic for alice from 203.0.113.7 port 22 ssh2", sshdAccepted, "gssapi-with-mic", false},
	}
	for _, tc := range cases {
		l, res := parseSSHD(tc.msg)
		assert.Equal(t, grammarOK, res, tc.msg)
		assert.Equal(t, tc.outcome, l.outcome, tc.msg)
		assert.Equal(t, tc.method, l.method, tc.msg)
		assert.Equal(t, tc.invalid, l.invalid, tc.msg)
	}
}

func TestSSHDFailure(t *testing.T) {
	cases := []struct {
		name, msg string
		want      string // "" when it is not a failure with an address
		user      string
	}{
		{"password", "Failed password for alice from 203.0.113.7 port 52144 ssh2", "203.0.113.7", "alice"},
		{"invalid user", "Failed password for invalid user admin from 203.0.113.7 port 52144 ssh2", "203.0.113.7", "admin"},
		{"none for invalid user", "Failed none for invalid user admin from 2001:db8::7 port 1 ssh2", "2001:db8::7", "admin"},
		{"publickey with fingerprint", "Failed publickey for root from 203.0.113.7 port 22 ssh2: ECDSA SHA256:abc", "203.0.113.7", "root"},
		{"certificate ID holds a tail", "Failed publickey for root from 203.0.113.7 port 22 ssh2: ED25519-CERT SHA256:a ID x from 198.51.100.1 port 2 ssh2 (serial 1) CA ED25519 SHA256:b", "203.0.113.7", "root"},
		{"keyboard-interactive/pam", "Failed keyboard-interactive/pam for invalid user x from 203.0.113.7 port 22 ssh2", "203.0.113.7", "x"},
		{"user name that is an address", "Failed password for invalid user 198.51.100.1 from 203.0.113.7 port 22 ssh2", "203.0.113.7", "198.51.100.1"},
		{"user name holding a tail", "Failed password for invalid user a from 198.51.100.1 port 2 ssh2 from 203.0.113.7 port 22 ssh2", "203.0.113.7", "a from 198.51.100.1 port 2 ssh2"},
		{"empty user", "Failed none for invalid user  from 203.0.113.7 port 22 ssh2", "203.0.113.7", ""},
		{"Invalid user line", "Invalid user admin from 203.0.113.7 port 41234", "203.0.113.7", "admin"},
		{"Invalid user line, IPv6", "Invalid user admin from 2001:db8::7 port 41234", "2001:db8::7", "admin"},
		{"Invalid user line before OpenSSH 7.5", "Invalid user admin from 203.0.113.7", "203.0.113.7", "admin"},
		{"Invalid user line, empty user", "Invalid user  from 203.0.113.7 port 1", "203.0.113.7", ""},
		{"Invalid user line, user holding a from clause", "Invalid user a from 198.51.100.1 b from 203.0.113.7 port 1", "203.0.113.7", "a from 198.51.100.1 b"},
		{"Invalid user line with a tag", "sshd[77]: Invalid user admin from 203.0.113.7 port 41234", "203.0.113.7", "admin"},
		{"Invalid user line with ssh2 is not the grammar", "Invalid user admin from 203.0.113.7 port 41234 ssh2", "", ""},
		{"accepted", "Accepted password for alice from 203.0.113.7 port 22 ssh2", "", ""},
		{"postponed", "Postponed keyboard-interactive/pam for alice from 203.0.113.7 port 22 ssh2 [preauth]", "", ""},
		{"partial", "Partial publickey for alice from 203.0.113.7 port 22 ssh2: ED25519 SHA256:x", "", ""},
		{"host name", "Failed password for alice from gw.example.com port 22 ssh2", "", ""},
		{"not sshd", "pam_unix(sshd:auth): authentication failure; rhost=203.0.113.7 user=alice", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, user, ok := SSHDFailure(tc.msg)
			assert.Equal(t, tc.want != "", ok)
			if tc.want != "" {
				assert.Equal(t, netip.MustParseAddr(tc.want), addr)
				assert.Equal(t, tc.user, user)
			}
		})
	}
}

func TestFirstIPv4(t *testing.T) {
	cases := []struct{ in, want string }{
		{"from 203.0.113.7 port 22", "203.0.113.7"},
		{"user 10.9.9.9 from 203.0.113.7", "10.9.9.9"},
		{"1234.5.6.7", "234.5.6.7"},
		{"1.2.3.4567", "1.2.3.456"},
		{"1.2.3", ""},
		{"1..2.3.4", "2.3.4"[:0]},
		{"v1.2.3.4.5", "1.2.3.4"},
		{"999.999.999.999", "999.999.999.999"},
		{"", ""},
	}
	for _, tc := range cases {
		got, ok := firstIPv4(tc.in)
		assert.Equal(t, tc.want != "", ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestHasTerm(t *testing.T) {
	cases := []struct {
		s    string
		want bool
	}{
		{"Accepted password", true},
		{"accepted", true},
		{"ACCEPTED", true},
		{"x Accepted", true},
		{"(Accepted)", true},
		{"Accepted_x", true},
		{"NotAccepted", false},
		{"Accepteds", false},
		{"Accepted1", false},
		{"1Accepted", false},
		{"éAccepted", false},
		{"Accepted\xff", true},
		{"Accepte", false},
		{"", false},
		{"NotAccepted but Accepted later", true},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, hasTerm(tc.s, "accepted"), "%q", tc.s)
	}
}

func TestParseTime(t *testing.T) {
	cases := []struct {
		in   string
		want string // RFC 3339 in UTC; "" for 0
	}{
		{"2024-11-27T02:34:56Z", "2024-11-27T02:34:56Z"},
		{"2024-11-27T02:34:56.789Z", "2024-11-27T02:34:56.789Z"},
		{"2019-03-12T16:02:15.5522137+00:00", "2019-03-12T16:02:15.5522137Z"},
		{"2024-11-27T03:34:56+01:00", "2024-11-27T02:34:56Z"},
		{"2024-11-26T21:34:56.5-05:00", "2024-11-27T02:34:56.5Z"},
		{"2024-11-27 02:34:56", "2024-11-27T02:34:56Z"},
		{"4/28/2021, 2:08:45.221 PM", "2021-04-28T14:08:45.221Z"},
		{"10/18/2024, 9:29:21.125 AM", "2024-10-18T09:29:21.125Z"},
		{"10/18/2024, 12:00:00.000 AM", "2024-10-18T00:00:00Z"},
		{"10/18/2024, 12:30:00 PM", "2024-10-18T12:30:00Z"},
		{"1732674896", "2024-11-27T02:34:56Z"},
		{"1732674896123", "2024-11-27T02:34:56.123Z"},
		{"1732674896123456", "2024-11-27T02:34:56.123456Z"},
		{"1732674896123456789", "2024-11-27T02:34:56.123456789Z"},
		{"45804.23612", ""},
		{"2024-13-27T02:34:56Z", ""},
		{"2024-11-27T02:34:56+0100", "2024-11-27T01:34:56Z"},
		{"2024-05-01T10:00:00+0530", "2024-05-01T04:30:00Z"},
		{"2024-05-01T10:00:00-0800", "2024-05-01T18:00:00Z"},
		{"2024-05-01T10:00:00.25-0800", "2024-05-01T18:00:00.25Z"},
		{"2024-05-01 10:00:00+0530", "2024-05-01T04:30:00Z"},
		{"2024-05-01T10:00:00+05:30", "2024-05-01T04:30:00Z"},
		{"2024-05-01T10:00:00.123456789-08:00", "2024-05-01T18:00:00.123456789Z"},
		{"2024-05-01T10:00:00.5z", "2024-05-01T10:00:00.5Z"},
		{"2024-05-01T10:00:00+0000", "2024-05-01T10:00:00Z"},
		{"2024-05-01T10:00:00+05:3", ""},
		{"2024-05-01T10:00:00+053", ""},
		{"2024-05-01T10:00:00+05", ""},
		{"2024-05-01T10:00:00+", ""},
		{"2024-05-01T10:00:00+05300", ""},
		{"2024-05-01T10:00:00+05:300", ""},
		{"2024-05-01T10:00:00+0560", ""},
		{"2024-05-01T10:00:00+2400", ""},
		{"2024-05-01T10:00:00+05;30", ""},
		{"2024-05-01T10:00:00+-530", ""},
		{"2024-05-01T10:00:00Z+0530", ""},
		{"2024-11-27T02:34:56Z trailing", ""},
		{"13/28/2021, 2:08:45 PM", ""},
		{"4/28/2021, 2:08:45 XM", ""},
		{"yesterday", ""},
		{"", ""},
	}
	for _, tc := range cases {
		want := int64(0)
		if tc.want != "" {
			want = mustTime(t, tc.want)
		}
		assert.Equal(t, want, parseTime(tc.in), tc.in)
	}
}

// TestTimesOutsideNanosecondRange: a stated time int64 nanoseconds cannot hold saturates, so that it
// is judged from the future (after the range) or late (before it), never taken as "no time" and so
// as now.
func TestTimesOutsideNanosecondRange(t *testing.T) {
	const after, before = int64(math.MaxInt64), int64(math.MinInt64)
	text := []struct {
		in   string
		want int64
	}{
		{"9999-12-31T23:59:59.9999999Z", after},
		{"9999-12-31T23:59:59.999999999+00:00", after},
		{"2300-01-01T00:00:00Z", after},
		{"2262-04-11T23:47:16.854775807Z", math.MaxInt64}, // the last time that fits
		{"2262-04-11T23:47:16.854775808Z", after},
		{"2262-04-11T23:47:16.854775807-0001", after}, // fits in its zone, not in UTC
		{"2262-04-12 00:00:00", after},
		{"12/31/9999, 11:59:59 PM", after},
		{"1677-09-21T00:12:43.145224193Z", math.MinInt64 + 1},
		{"1677-09-21T00:12:43.145224192Z", math.MinInt64}, // the first time that fits
		{"1677-09-21T00:12:43.145224191Z", before},
		{"1677-09-21T00:12:43.145224192+00:01", before}, // fits in its zone, not in UTC
		{"1600-01-01T00:00:00Z", before},
		{"0001-01-01T00:00:00Z", before},
		{"0000-01-01T00:00:00+0000", before},
		{"1/1/1000, 1:00:00 AM", before},
		{"9999999999", after},           // seconds in 2286
		{"9223372036.9", after},         // seconds whose fraction passes the end
		{"99999999999999", after},       // milliseconds in 5138
		{"9999999999999999", after},     // microseconds in 2286
		{"9223372036854775808", after},  // one nanosecond more than an int64
		{"99999999999999999999", after}, // twenty digits
		{"9223372036.5", 9223372036500000000},
		{"9223372036854775807", math.MaxInt64},
		{"2262-01-01T00:00:00Z", mustTimeUTC(t, "2262-01-01T00:00:00Z")}, // in range, refused before
	}
	for _, tc := range text {
		assert.Equal(t, tc.want, parseTime(tc.in), tc.in)
	}

	values := []struct {
		name string
		v    pcommon.Value
		want int64
	}{
		{"int seconds in 2286", pcommon.NewValueInt(9_999_999_999), after},
		{"int milliseconds in 5138", pcommon.NewValueInt(99_999_999_999_999), after},
		{"int microseconds in 2286", pcommon.NewValueInt(9_999_999_999_999_999), after},
		{"int largest", pcommon.NewValueInt(math.MaxInt64), math.MaxInt64},
		{"int seconds in range", pcommon.NewValueInt(1_732_674_896), 1_732_674_896_000_000_000},
		{"double seconds in 2286", pcommon.NewValueDouble(9_999_999_999.5), after},
		{"double milliseconds in 5138", pcommon.NewValueDouble(99_999_999_999_999), after},
		{"double 1e19 nanoseconds", pcommon.NewValueDouble(1e19), after},
		{"double 2^63", pcommon.NewValueDouble(math.MaxInt64), after},
		{"double 1e300", pcommon.NewValueDouble(1e300), after},
		{"double seconds in range", pcommon.NewValueDouble(1_732_674_896.5), 1_732_674_896_500_000_000},
		{"double milliseconds in range", pcommon.NewValueDouble(1_732_674_896_123), 1_732_674_896_123_000_000},
		{"double +Inf is no time", pcommon.NewValueDouble(math.Inf(1)), 0},
		{"double NaN is no time", pcommon.NewValueDouble(math.NaN()), 0},
		{"text year 9999", pcommon.NewValueStr("9999-12-31T23:59:59Z"), after},
		{"text year 1", pcommon.NewValueStr("0001-01-01T00:00:00Z"), before},
	}
	for _, tc := range values {
		assert.Equal(t, tc.want, eventTime(tc.v), tc.name)
	}
}

// mustTimeUTC parses an RFC 3339 time with the standard library, for expectations that should not
// depend on the parser under test.
func mustTimeUTC(tb testing.TB, s string) int64 {
	tb.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatalf("bad test time %q: %v", s, err)
	}
	return tm.UnixNano()
}

func TestParseSyslogLine(t *testing.T) {
	cases := []struct {
		in                 string
		ok                 bool
		facility           int
		host, app, message string
	}{
		{"<38>Nov 27 02:34:56 web01 sshd[4242]: hello world", true, 4, "web01", "sshd", "hello world"},
		{"<38>Nov  7 02:34:56 web01 CRON: x", true, 4, "web01", "CRON", "x"},
		{"Nov 27 02:34:56 web01 sshd[4242]: hello", true, -1, "web01", "sshd", "hello"},
		{"<86>1 2024-11-27T02:34:56Z web01 sshd 4242 - - hello", true, 10, "web01", "sshd", "hello"},
		{"<86>1 - - - - - -", true, 10, "", "", ""},
		{"<86>1 - web01 sshd - - [a b=\"]\"] hi", true, 10, "web01", "sshd", "hi"},
		{"<86>1 - web01 sshd - - [a b=\"\\\"]\"][c] hi", true, 10, "web01", "sshd", "hi"},
		{"<86>1 bad-time web01 sshd - - - hi", false, 0, "", "", ""},
		{"<86>1 - web01 sshd - - x hi", false, 0, "", "", ""},
		{"<86>1 - web01", false, 0, "", "", ""},
		{"<192>Nov 27 02:34:56 web01 sshd: x", false, 0, "", "", ""},
		{"<38>Foo 27 02:34:56 web01 sshd: x", false, 0, "", "", ""},
		{"<38>Nov 27 02:34:56 web01 sshd[4242 x", false, 0, "", "", ""},
		{"<38>Nov 27 02:34:56 web01 [4242]: x", false, 0, "", "", ""},
		{"<38>Nov 27 02:34:56 web01 no-tag here", false, 0, "", "", ""},
		{"<38", false, 0, "", "", ""},
		{"<>", false, 0, "", "", ""},
	}
	for _, tc := range cases {
		got, ok := parseSyslogLine(tc.in)
		if !assert.Equal(t, tc.ok, ok, tc.in) || !ok {
			continue
		}
		assert.Equal(t, tc.facility, got.facility, tc.in)
		assert.Equal(t, tc.host, got.hostname, tc.in)
		assert.Equal(t, tc.app, got.appname, tc.in)
		assert.Equal(t, tc.message, got.message, tc.in)
	}
}
