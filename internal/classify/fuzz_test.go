package classify

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// FuzzClassify starts from every real shape and replaces one field (chosen by pick) with a fuzzed
// string, int, double, map or slice, adds a fuzzed attribute, and for string-body shapes fuzzes the
// body itself. Classify must not panic, must leave the record as it was, and must return a
// consistent Observation, with the second rule's switches off and on; and the switches may only turn what
// was Unrelated into a FailedSyslogLogon (or a Rejected one), and a SignIn into a SigninLogsSuccess.
func FuzzClassify(f *testing.F) {
	for i := range shapeTemplates {
		f.Add(uint8(i), uint8(0), uint8(0), "", srcIP, "", int64(4624), 50126.0)
		f.Add(uint8(i), uint8(3), uint8(1), "Type", "SigninLogs", acceptedPw, int64(4), 3.0)
	}
	f.Add(shapeIndex("diagnostic JSON body"), uint8(0), uint8(8), "", diagSignInJSON, "", int64(0), 0.0)
	f.Add(shapeIndex("raw rfc5424"), uint8(0), uint8(8), "log.file.name", "<86>1 - web01 sshd - - [x y=\"\\]\"] "+acceptedPw, "auth.log", int64(0), 0.0)
	f.Add(shapeIndex("raw auth.log"), uint8(0), uint8(8), "log.file.name", "Nov 27 02:34:56 web01 sshd[4242]: "+acceptedPw, "secure", int64(0), 0.0)
	f.Add(shapeIndex("sentinel syslog"), uint8(7), uint8(0), "", "Accepted password for 10.9.9.9 from ::ffff:203.0.113.7 port 22 ssh2", "", int64(0), 0.0)
	f.Add(shapeIndex("securityevent"), uint8(5), uint8(0), "", "::ffff:203.0.113.7", "", int64(0), 0.0)
	f.Add(shapeIndex("securityevent 4625"), uint8(0), uint8(1), "", "", "", int64(4625), 0.0)
	f.Add(shapeIndex("sentinel syslog failure"), uint8(7), uint8(0), "", "message repeated 7 times: [ Invalid user x from ::ffff:10.0.0.1 port 1]", "", int64(0), 0.0)
	f.Add(shapeIndex("sentinel syslog failure"), uint8(7), uint8(0), "", "Connection from 203.0.113.7 port 1 on 10.0.0.4 port 22", "", int64(0), 0.0)
	f.Add(shapeIndex("raw auth.log repeated failure"), uint8(0), uint8(8), "log.file.name",
		"Nov 27 02:34:56 web01 login[7]: message repeated 2 times: [ "+failedLogin+"]", "secure", int64(0), 0.0)
	f.Add(shapeIndex("diagnostic JSON success"), uint8(0), uint8(8), "", strings.Replace(diagSignInSuccessJSON, `"0"`, "50140.0", 1), "", int64(0), 0.0)
	f.Add(shapeIndex("sentinel sign-in success"), uint8(0), uint8(3), "", "countryOrRegion", "Location", int64(0), 0.0)

	// A rejected sign-in whose projected columns the switches read.
	f.Add(uint8(4), uint8(']'), uint8(0), "", "0", "", int64(4574), 50099.0)

	c, on := New(Rules{}), New(Rules{Kinds: ruleBKinds})
	f.Fuzz(func(t *testing.T, shape, pick, kind uint8, key, s1, s2 string, n int64, d float64) {
		tpl := shapeTemplates[int(shape)%len(shapeTemplates)]
		attrs, body := tpl.build()

		// Replace one field, in the attributes or in a map body.
		type target struct {
			m    map[string]any
			path []string
		}
		var targets []target
		for _, p := range paths(attrs, nil) {
			targets = append(targets, target{attrs, p})
		}
		if m, ok := body.(map[string]any); ok {
			for _, p := range paths(m, nil) {
				targets = append(targets, target{m, p})
			}
		}
		if len(targets) > 0 {
			tg := targets[int(pick)%len(targets)]
			var v any
			switch kind % 6 {
			case 0:
				v = s1
			case 1:
				v = n
			case 2:
				v = d
			case 3:
				v = map[string]any{s1: s2, "errorCode": n, "id": d}
			case 4:
				v = []any{s1, n, map[string]any{s2: s1}}
			case 5:
				v = []byte(s1)
			}
			setPath(tg.m, tg.path, v)
		}
		if key != "" {
			attrs[key] = s2
		}
		if _, isString := body.(string); isString && kind&8 != 0 {
			body = s1
		}
		rec := newRecord(t, attrs, body)
		off := classifyUnchanged(t, c, rec)
		checkInvariants(t, c, off)
		ev := classifyUnchanged(t, on, rec)
		checkInvariants(t, on, ev)
		checkSwitchesOnlyAdd(t, off, ev)
	})
}

// checkSwitchesOnlyAdd holds between what a record is with the second rule's switches off (off) and
// on (on): the switches make nothing of the first rule's different, and add only their own kinds.
func checkSwitchesOnlyAdd(t *testing.T, off, on Observation) {
	t.Helper()
	// A rejected sign-in keeps the columns read before it was given up on, in a sign-in's places.
	withoutProjection := func(ev Observation) Observation {
		if ev.Kind == Rejected || slices.Equal(ev.Kind.Columns(), signInColumns) {
			ev.Cols[SignInAppDisplayName], ev.Cols[SignInUserDisplayName], ev.Cols[SignInClientAppUsed], ev.Cols[SignInLocation] = "", "", "", ""
		}
		return ev
	}
	switch off.Kind {
	case Unrelated:
		switch on.Kind {
		case Unrelated, FailedSyslogLogon, FailedSecurityEventLogon, FailedWindowsEventLogon:
		case Rejected:
			if on.Reject != RejectBadAddress && on.Reject != RejectBadLogonType {
				t.Fatalf("an unrelated record rejected for %q with the switches on", on.Reject)
			}
		default:
			t.Fatalf("an unrelated record is %v with the switches on: %+v", on.Kind, on)
		}
	case SignIn:
		if on.Kind != SignIn && on.Kind != SigninLogsSuccess && on.Kind != NonInteractiveSuccess {
			t.Fatalf("a sign-in is %v with the switches on", on.Kind)
		}
		on.Kind = SignIn
		if withoutProjection(on) != off {
			t.Fatalf("the switches changed a sign-in:\n%+v\n%+v", off, on)
		}
	default:
		if withoutProjection(on) != withoutProjection(off) {
			t.Fatalf("the switches changed a %v:\n%+v\n%+v", off.Kind, off, on)
		}
	}
}

// FuzzHostFailureLine runs fuzzed auth messages through the failed-logon path: the one-pass filter
// must agree with the filter written term by term, and a counted line must name the address the
// OpenSSH grammar (or, outside it, the first IPv4 address) gives.
func FuzzHostFailureLine(f *testing.F) {
	for _, lc := range linuxCases {
		f.Add(lc.msg, uint8(0))
	}
	f.Add("message repeated 3 times: [ Failed password for x from 10.0.0.1 port 1 ssh2]", uint8(1))
	f.Add("from \xe4\xb8\xad[preauth]\xff", uint8(2))
	f.Add("sshd[1]: Starting session: shell for a from 1.2.3.4 port 2 id 3", uint8(3))
	on := New(Rules{Kinds: hostFailureKinds})
	f.Fuzz(func(t *testing.T, msg string, shape uint8) {
		if got, want := failedLogonTerms(msg), referenceFailedLogonTerms(msg); got != want {
			t.Fatalf("failedLogonTerms(%q) = %v, term by term %v", msg, got, want)
		}
		inner, n := unwrapRepeated(msg)
		if n < 1 || n > 999_999_999 || !strings.Contains(msg, inner) || (n > 1 && !strings.Contains(msg, "message repeated")) {
			t.Fatalf("unwrapRepeated(%q) = %q, %d", msg, inner, n)
		}
		_ = sshdSessionLine(msg)

		shapes := linuxShapes()
		attrs, body := shapes[int(shape)%len(shapes)].build(msg)
		if attrs == nil {
			attrs = map[string]any{}
		}
		ev := classifyUnchanged(t, on, newRecord(t, attrs, body))
		checkInvariants(t, on, ev)
		if ev.Kind != FailedSyslogLogon || ev.Cols[HostSyslogMessage] != msg {
			return // a raw line's parser may have cut the message otherwise
		}
		if n != ev.Repeat {
			t.Fatalf("%q: repeat %d, want %d", msg, ev.Repeat, n)
		}
		if a, user, ok := SSHDFailure(inner); ok {
			if a != ev.Addr || user != ev.Cols[HostLogonUser] {
				t.Fatalf("%q: %v %q, the grammar says %v %q", msg, ev.Addr, ev.Cols[HostLogonUser], a, user)
			}
			return
		}
		if _, r := parseSSHD(inner); r == grammarAbsent {
			text, _ := firstIPv4(inner)
			if a, ok := ParseAddr(text); !ok || a != ev.Addr || ev.Cols[HostLogonUser] != "" {
				t.Fatalf("%q: %v, the first IPv4 is %q", msg, ev.Addr, text)
			}
			return
		}
		t.Fatalf("%q: counted though the grammar reads no failure in it", msg)
	})
}

// FuzzSSHDSource checks that the parser never panics, that what it returns is a normalised address,
// that no text after "ssh2" can redirect the source of a well-formed line, and that no user name can
// either unless it holds " from " (the grammar's one residual ambiguity).
func FuzzSSHDSource(f *testing.F) {
	f.Add("Accepted password for alice from 203.0.113.7 port 52144 ssh2", "alice", "")
	f.Add("Accepted publickey for bob from 2001:db8::1 port 22 ssh2: RSA SHA256:x", "10.9.9.9", "RSA SHA256:x")
	f.Add("Accepted keyboard-interactive/pam for invalid user x from ::ffff:10.0.0.1 port 1", "x from 6.6.6.6 port 22 ssh2", "")
	f.Add("Accepted password for  from  port  ssh2", " from ", " from ")
	f.Add("Failed password for invalid user a from 6.6.6.6 port 1 ssh2: b from 203.0.113.7 port 2 ssh2", "",
		"ED25519-CERT SHA256:abc ID ops from 198.51.100.1 port 22 ssh2 (serial 1) CA ED25519 SHA256:def")
	f.Add("Invalid user admin from 203.0.113.7 port 41234", "a\nb", "\n from 6.6.6.6 port 22 ssh2")
	f.Fuzz(func(t *testing.T, msg, user, extra string) {
		for _, m := range []string{msg, "sshd[1]: " + msg} {
			if a, ok := SSHDSource(m); ok {
				if !a.IsValid() || a.Is4In6() || a.IsUnspecified() || a.Zone() != "" {
					t.Fatalf("SSHDSource(%q) = %v", m, a)
				}
				if !strings.Contains(m, "Accepted ") || !strings.Contains(m, " port ") {
					t.Fatalf("SSHDSource(%q) accepted a message outside the grammar", m)
				}
			}
			if a, _, ok := SSHDFailure(m); ok && (!a.IsValid() || a.Is4In6() || a.IsUnspecified() || a.Zone() != "") {
				t.Fatalf("SSHDFailure(%q) = %v", m, a)
			}
		}
		_, _ = firstIPv4(msg)
		_ = hasTerm(msg, "accepted")

		want := netip.MustParseAddr("203.0.113.7")
		line := "Accepted publickey for alice from 203.0.113.7 port 22 ssh2: " + extra
		if a, ok := SSHDSource(line); !ok || a != want {
			t.Fatalf("extra text %q redirected the source: %v %v", extra, a, ok)
		}
		if strings.Contains(user, " from ") {
			return
		}
		line = "Accepted password for " + user + " from 203.0.113.7 port 22 ssh2: " + extra
		if a, ok := SSHDSource(line); !ok || a != want {
			t.Fatalf("user %q redirected the source: %v %v", user, a, ok)
		}
		line = "Failed password for invalid user " + user + " from 203.0.113.7 port 22 ssh2"
		if a, u, ok := SSHDFailure(line); !ok || a != want || u != user {
			t.Fatalf("user %q redirected the failure: %v %q %v", user, a, u, ok)
		}
	})
}

// FuzzParseAddr checks that ParseAddr never panics and returns only normalised addresses that parse
// back to themselves.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "::ffff:203.0.113.7", "[2001:db8::1]:443", "fe80::1%eth0",
		"203.0.113.7:22", "0.0.0.0", "::", "01.2.3.4", "-", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := ParseAddr(s)
		if !ok {
			return
		}
		if !a.IsValid() || a.Is4In6() || a.IsUnspecified() || a.Zone() != "" {
			t.Fatalf("ParseAddr(%q) = %v", s, a)
		}
		if b, ok := ParseAddr(a.String()); !ok || b != a {
			t.Fatalf("ParseAddr(%q) = %v does not round-trip (%v, %v)", s, a, b, ok)
		}
	})
}

// shapeIndex finds a template by name for a seed.
func shapeIndex(name string) uint8 {
	for i, s := range shapeTemplates {
		if s.name == name {
			return uint8(i)
		}
	}
	panic("no shape template " + name)
}
