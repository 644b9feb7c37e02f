package shapes

import (
	"strconv"
)

// SSHD is a message of OpenSSH's authentication grammar:
//
//	<Event> <method>[/<submethod>] for [invalid user ]<user> from <addr> port <n> ssh2[: <extra>]
//
// The zero value is "Accepted password for alice from 203.0.113.7 port 52144 ssh2".
type SSHD struct {
	// Event is Accepted (zero), Failed, Postponed or Partial.
	Event string
	// Method is password (zero), publickey, keyboard-interactive/pam, hostbased, gssapi-with-mic...
	Method string
	// User is the account (zero: User).
	User string
	// InvalidUser writes "invalid user" before it: the account does not exist.
	InvalidUser bool
	// Addr is the source address as written (zero: Addr).
	Addr string
	// Port is the source port (zero: 52144).
	Port int
	// Extra follows "ssh2: ": a key's type and fingerprint, a certificate's ID, a client host.
	Extra string
}

// String is the message.
func (s SSHD) String() string {
	user := or(s.User, User)
	if s.InvalidUser {
		user = "invalid user " + user
	}
	msg := or(s.Event, "Accepted") + " " + or(s.Method, "password") + " for " + user + " from " + or(s.Addr, Addr) +
		" port " + port(s.Port) + " ssh2"
	if s.Extra != "" {
		msg += ": " + s.Extra
	}
	return msg
}

func port(p int) string {
	if p == 0 {
		p = 52144
	}
	return strconv.Itoa(p)
}

// AcceptedPassword is sshd's message for user's accepted password from addr.
func AcceptedPassword(user, addr string) string {
	return SSHD{User: user, Addr: addr}.String()
}

// FailedPassword is sshd's message for user's failed password from addr.
func FailedPassword(user, addr string) string {
	return SSHD{Event: "Failed", User: user, Addr: addr}.String()
}

// InvalidUser is sshd's message when a client names an account that does not exist (before any
// password): "Invalid user <user> from <addr> port <n>".
func InvalidUser(user, addr string, p int) string {
	return "Invalid user " + user + " from " + addr + " port " + port(p)
}

// ConnectionFrom is sshd's VERBOSE message for a new connection: a connection, not a logon.
func ConnectionFrom(addr string, p int, local string) string {
	return "Connection from " + addr + " port " + port(p) + " on " + local + " port 22"
}

// Repeated is rsyslog's line standing for n identical messages in a row.
func Repeated(n int, msg string) string {
	return "message repeated " + strconv.Itoa(n) + " times: [ " + msg + "]"
}

// ConnectionClosed is sshd's message when a client goes away before it authenticated; who is
// "authenticating user <user>" or "invalid user <user>".
func ConnectionClosed(who, addr string, p int) string {
	return "Connection closed by " + who + " " + addr + " port " + port(p) + " [preauth]"
}

// ReceivedDisconnect is sshd's message when the client disconnects; reason is "disconnected by
// user", or "Bye Bye [preauth]" before authentication.
func ReceivedDisconnect(addr string, p int, reason string) string {
	return "Received disconnect from " + addr + " port " + port(p) + ":11: " + reason
}

// Disconnected is sshd's message at the end of a connection of user; preauth marks one that never
// authenticated, where user is "invalid user <user>" or "authenticating user <user>".
func Disconnected(user, addr string, p int, preauth bool) string {
	msg := "Disconnected from user " + user + " " + addr + " port " + port(p)
	if preauth {
		msg = "Disconnected from " + user + " " + addr + " port " + port(p) + " [preauth]"
	}
	return msg
}

// PAMAuthFailure is pam_unix's message for a failed password of the sshd service; user may be
// empty (an unknown account).
func PAMAuthFailure(addr, user string) string {
	msg := "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=" + addr
	if user != "" {
		msg += "  user=" + user
	}
	return msg
}

// PAMUnknownUser is pam_unix's message when the sshd service checks the password of an account that
// does not exist.
func PAMUnknownUser() string { return "pam_unix(sshd:auth): check pass; user unknown" }

// SessionOpened is pam_unix's message when service opens a session for user (uid) by by (byUID).
func SessionOpened(service, user string, uid int, by string, byUID int) string {
	return "pam_unix(" + service + ":session): session opened for user " + user + "(uid=" + strconv.Itoa(uid) + ") by " +
		by + "(uid=" + strconv.Itoa(byUID) + ")"
}

// SessionClosed is pam_unix's message when service closes user's session.
func SessionClosed(service, user string) string {
	return "pam_unix(" + service + ":session): session closed for user " + user
}

// SudoCommand is sudo's log line for user running command as root from a terminal.
func SudoCommand(user, command string) string {
	return pad8(user) + " : TTY=pts/0 ; PWD=/home/" + user + " ; USER=root ; COMMAND=" + command
}

// pad8 right-aligns s in eight columns, as sudo writes the user.
func pad8(s string) string {
	for len(s) < 8 {
		s = " " + s
	}
	return s
}
