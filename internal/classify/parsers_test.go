package classify

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
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
	cases := []struct {
		name, msg string
		want      string // "" when the grammar does not give an address
		user      string
		result    grammarResult
	}{
		{"password", "Accepted password for alice from 203.0.113.7 port 52144 ssh2", "203.0.113.7", "alice", grammarOK},
		{"publickey with key", "Accepted publickey for alice from 203.0.113.7 port 22 ssh2: RSA SHA256:x", "203.0.113.7", "alice", grammarOK},
		{"no ssh2 suffix", "Accepted password for alice from 203.0.113.7 port 22", "203.0.113.7", "alice", grammarOK},
		{"two spaces before ssh2", "Accepted publickey for sftp from 1.1.12.1 port 800  ssh2", "1.1.12.1", "sftp", grammarOK},
		{"IPv6", "Accepted password for alice from 2001:db8::42 port 22 ssh2", "2001:db8::42", "alice", grammarOK},
		{"invalid user prefix", "Accepted none for invalid user bob from 203.0.113.7 port 22 ssh2", "203.0.113.7", "bob", grammarOK},
		{"user is an address", "Accepted password for 10.9.9.9 from 203.0.113.7 port 22 ssh2", "203.0.113.7", "10.9.9.9", grammarOK},
		{"user holds a from clause", "Accepted password for a from 10.9.9.9 port 1 from 203.0.113.7 port 22 ssh2", "203.0.113.7", "a from 10.9.9.9 port 1", grammarOK},
		{"prefix before Accepted", "sshd[4242]: Accepted password for alice from 203.0.113.7 port 22 ssh2", "203.0.113.7", "alice", grammarOK},
		{"host name", "Accepted password for alice from gw.example.com port 22 ssh2", "", "alice", grammarBadAddr},
		{"port not a number", "Accepted password for alice from 203.0.113.7 port x ssh2", "", "", grammarAbsent},
		{"port too long", "Accepted password for alice from 203.0.113.7 port 123456 ssh2", "", "", grammarAbsent},
		{"no port", "Accepted password for alice from 203.0.113.7", "", "", grammarAbsent},
		{"no for", "Accepted connection from 203.0.113.7 port 22", "", "", grammarAbsent},
		{"lower-case accepted", "accepted password for alice from 203.0.113.7 port 22 ssh2", "", "", grammarAbsent},
		{"failed", "Failed password for alice from 203.0.113.7 port 22 ssh2", "", "", grammarAbsent},
		{"empty", "", "", "", grammarAbsent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, user, res := sshdGrammar(tc.msg)
			assert.Equal(t, tc.result, res)
			assert.Equal(t, tc.user, user)
			got, ok := SSHDSource(tc.msg)
			assert.Equal(t, tc.want != "", ok)
			if tc.want != "" {
				assert.Equal(t, netip.MustParseAddr(tc.want), got)
				assert.Equal(t, got, a)
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
		{"2024-11-27T02:34:56+0100", ""},
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
