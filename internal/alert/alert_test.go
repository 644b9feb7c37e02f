package alert

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/codec"
	"github.com/secops-otel/aadhostlogincorrelation/internal/rules"
)

func sampleLogon() Logon {
	res := pcommon.NewResource()
	res.Attributes().PutStr("host.name", "web01")
	res.Attributes().PutInt("process.pid", 42)
	ev := classify.Event{
		Kind: classify.SecurityEventLogon, Source: classify.SecurityEvent, Addr: netip.MustParseAddr("2001:db8::7"),
		Computer: "dc01.contoso.com", Account: `CONTOSO\alice`, EventID: "4624", LogonType: "3",
		TargetUserName: "alice", TargetDomainName: "CONTOSO", LogonUser: "alice", ResourceID: "/subscriptions/0",
	}
	return NewLogon(&ev, 1_764_000_000_123_456_789, res)
}

func TestEncodingRoundTrip(t *testing.T) {
	l := sampleLogon()
	b, err := l.MarshalBinary()
	require.NoError(t, err)
	var got Logon
	require.NoError(t, got.UnmarshalBinary(b))
	assert.Equal(t, l.Event, got.Event)
	assert.Equal(t, l.Time, got.Time)
	assert.Equal(t, l.Resource.Attributes().AsRaw(), got.Resource.Attributes().AsRaw())
}

func TestEncodingRefusesDamage(t *testing.T) {
	l := sampleLogon()
	b, err := l.MarshalBinary()
	require.NoError(t, err)
	for i := range b {
		var got Logon
		assert.Error(t, got.UnmarshalBinary(b[:i]), "cut at %d", i)
	}
	b[0] = 99
	var got Logon
	assert.ErrorContains(t, got.UnmarshalBinary(b), "version")
}

func TestLongFieldsAreBounded(t *testing.T) {
	ev := classify.Event{Kind: classify.LinuxLogon, Addr: netip.MustParseAddr("203.0.113.7"),
		SyslogMessage: strings.Repeat("x", 1<<20)}
	l := NewLogon(&ev, 1, pcommon.Resource{})
	assert.LessOrEqual(t, len(l.SyslogMessage), maxFieldLen+len("…"))
	assert.True(t, strings.HasSuffix(l.SyslogMessage, "…"))
}

func FuzzUnmarshalLogon(f *testing.F) {
	l := sampleLogon()
	b, _ := l.MarshalBinary()
	f.Add(b)
	f.Add([]byte{encodingVersion})
	f.Add([]byte{encodingVersionKinded})
	for _, l := range secondRulePayloads() {
		b, _ := l.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got Logon
		if got.UnmarshalBinary(data) != nil {
			return
		}
		// Anything accepted encodes again, in the same format, and decodes to the same logon.
		b, err := got.MarshalBinary()
		if err != nil {
			t.Fatalf("accepted %x but cannot encode it: %v", data, err)
		}
		if b[0] != data[0] {
			t.Fatalf("format %d decoded, format %d encoded", data[0], b[0])
		}
		var again Logon
		if err := again.UnmarshalBinary(b); err != nil {
			t.Fatalf("re-encoded %x does not decode: %v", b, err)
		}
		if again.Event != got.Event || again.Time != got.Time {
			t.Fatalf("round trip changed the logon: %+v, then %+v", got.Event, again.Event)
		}
		p, host := got.Pack()
		if host != got.Computer || len(p.fields) != got.fieldsSize() {
			t.Fatalf("packed %d bytes, host %q; want %d, %q", len(p.fields), host, got.fieldsSize(), got.Computer)
		}
	})
}

func TestPackedRoundTrip(t *testing.T) {
	for _, l := range []Logon{sampleLogon(), NewLogon(&classify.Event{
		Kind: classify.LinuxLogon, Source: classify.Syslog, Addr: netip.MustParseAddr("203.0.113.7"),
		Computer: strings.Repeat("h", 300), SyslogMessage: "Accepted password for root", Facility: "auth",
	}, -5, pcommon.Resource{})} {
		p, host := l.Pack()
		assert.Equal(t, l.Computer, host)
		assert.Len(t, p.fields, l.fieldsSize(), "Pack sizes its buffer exactly")
		var got Logon
		require.NoError(t, p.Unpack(&got))
		assert.Equal(t, l.Event, got.Event)
		assert.Equal(t, l.Time, got.Time)
		assert.True(t, l.Resource == got.Resource, "the resource is shared, not an equal copy")

		// A checkpoint of a packed logon is the logon's own encoding.
		want, err := l.MarshalBinary()
		require.NoError(t, err)
		enc := ResourceEncodings{}
		for range 2 { // the second time from enc
			b, err := p.AppendEncoded(nil, enc)
			require.NoError(t, err)
			assert.Equal(t, want, b)
		}
		if l.Resource != (pcommon.Resource{}) {
			assert.Len(t, enc, 1, "the resource is encoded once")
		}
	}
	var got Logon
	assert.Error(t, Packed{}.Unpack(&got))
	_, err := Packed{}.AppendEncoded(nil, nil)
	assert.Error(t, err)
}

// TestUnmarshalPackedSharesResources: logons restored from a checkpoint share their resources again,
// instead of each holding a copy.
func TestUnmarshalPackedSharesResources(t *testing.T) {
	l := sampleLogon()
	b, err := l.MarshalBinary()
	require.NoError(t, err)
	other := sampleLogon()
	other.Resource.Attributes().PutStr("host.name", "web02")
	ob, err := other.MarshalBinary()
	require.NoError(t, err)

	rs := Resources{}
	p1, err := UnmarshalPacked(b, rs)
	require.NoError(t, err)
	p2, err := UnmarshalPacked(b, rs)
	require.NoError(t, err)
	p3, err := UnmarshalPacked(ob, rs)
	require.NoError(t, err)
	assert.True(t, p1.resource == p2.resource, "the same resource, shared (not an equal copy)")
	assert.False(t, p1.resource == p3.resource)
	assert.Len(t, rs, 2)

	var got Logon
	require.NoError(t, p3.Unpack(&got))
	assert.Equal(t, other.Event, got.Event)
	host, _ := got.Resource.Attributes().Get("host.name")
	assert.Equal(t, "web02", host.Str())

	_, err = UnmarshalPacked(b[:len(b)-1], rs)
	assert.Error(t, err)
}

// TestWindowsColumns: EventID is an int attribute, as the KQL's column, and Activity is what the
// classifier found; both survive a logon's encodings (a checkpoint's, Redis', a waiting logon's).
func TestWindowsColumns(t *testing.T) {
	const activity = "4624 - An account was successfully logged on."
	observed := time.Unix(1_764_000_100, 0)
	firing := Firing{Source: "SigninLogs", Count: 6, First: 1, Last: 2}
	attrs := func(l *Logon) map[string]any {
		lr := plog.NewLogRecord()
		Fill(lr, &rules.AADThenHost, l, firing, observed)
		return lr.Attributes().AsRaw()
	}
	for _, src := range []classify.LogonSource{classify.SecurityEvent, classify.WindowsEvent} {
		t.Run(src.String(), func(t *testing.T) {
			l := sampleLogon()
			l.Source, l.Activity = src, activity
			got := attrs(&l)
			assert.Equal(t, int64(4624), got["EventID"])
			assert.Equal(t, activity, got["Activity"])
			assert.Equal(t, src.String(), got["LogonSource"])

			b, err := l.MarshalBinary()
			require.NoError(t, err)
			var decoded Logon
			require.NoError(t, decoded.UnmarshalBinary(b))
			assert.Equal(t, got, attrs(&decoded), "from the binary encoding")

			p, _ := l.Pack()
			var unpacked Logon
			require.NoError(t, p.Unpack(&unpacked))
			assert.Equal(t, got, attrs(&unpacked), "from the packed form")
		})
	}

	linux := NewLogon(&classify.Event{Kind: classify.LinuxLogon, Source: classify.Syslog,
		Addr: netip.MustParseAddr("203.0.113.7"), SyslogMessage: "Accepted password for alice"}, 1, pcommon.Resource{})
	got := attrs(&linux)
	assert.NotContains(t, got, "EventID", "Syslog rows have no EventID")
	assert.NotContains(t, got, "Activity")
}

// sampleSigninSuccess and sampleHostFailure are the payloads the second rule keeps waiting.
func sampleSigninSuccess() Logon {
	res := pcommon.NewResource()
	res.Attributes().PutStr("cloud.provider", "azure")
	ev := classify.Event{
		Kind: classify.NonInteractiveSuccess, Addr: netip.MustParseAddr("203.0.113.7"),
		Table: classify.AADNonInteractiveUserSignInLogs, ResultType: "0", User: "alice@contoso.com",
		AppDisplayName: "Azure Portal", UserDisplayName: "Alice Example", ClientAppUsed: "Browser", Location: "IL",
	}
	return NewLogon(&ev, 1_764_000_000_123_456_789, res)
}

func sampleHostFailure(src classify.LogonSource) Logon {
	kind, _ := classify.KindOf("host_failure", src.String())
	ev := classify.Event{Kind: kind, Source: src, Addr: netip.MustParseAddr("2001:db8::9"), Repeat: 3}
	if src == classify.Syslog {
		ev.Computer, ev.Facility, ev.ProcessName, ev.LogonUser = "web01", "authpriv", "sshd", "root"
		ev.SyslogMessage = "message repeated 3 times: [ Failed password for root from 2001:db8::9 port 22 ssh2]"
	} else {
		ev.Computer, ev.EventID, ev.LogonType, ev.TargetUserName = "WS01", "4625", "3", "alice"
		ev.Activity = "4625 - An account failed to log on."
		ev.Repeat = 1
	}
	return NewLogon(&ev, -7, pcommon.Resource{})
}

// secondRulePayloads are a payload of every kind and source only the second rule keeps.
func secondRulePayloads() map[string]Logon {
	return map[string]Logon{
		"signin_success":              sampleSigninSuccess(),
		"host_failure/Syslog":         sampleHostFailure(classify.Syslog),
		"host_failure/SecurityEvent":  sampleHostFailure(classify.SecurityEvent),
		"host_failure/WindowsEvent":   sampleHostFailure(classify.WindowsEvent),
		"signin_success/no resource":  NewLogon(&classify.Event{Kind: classify.SigninLogsSuccess, Addr: netip.MustParseAddr("198.51.100.1")}, 0, pcommon.Resource{}),
		"host_failure/repeat of zero": NewLogon(&classify.Event{Kind: classify.FailedSyslogLogon, Addr: netip.MustParseAddr("198.51.100.1")}, 1, pcommon.Resource{}),
		"console_login_success":       sampleConsoleLogin(),
	}
}

// sampleConsoleLogin is the payload rule C keeps waiting: an AWS console login.
func sampleConsoleLogin() Logon {
	res := pcommon.NewResource()
	res.Attributes().PutStr("cloud.provider", "aws")
	ev := classify.Event{
		Kind: classify.ConsoleLoginSuccess, Addr: netip.MustParseAddr("2001:db8::7"),
		LoginResult: "Success", EventTypeName: "AwsConsoleSignIn", UserIdentityType: "IAMUser",
		UserIdentityUserName: "alice", AWSRegion: "eu-west-1", UserAgent: "Mozilla/5.0", MFAUsed: "No",
	}
	return NewLogon(&ev, 1_764_000_000_000_000_001, res)
}

// TestConsoleLoginColumns: rule C's alert projects the console login's columns; User is the user
// name, else the identity type.
func TestConsoleLoginColumns(t *testing.T) {
	l := sampleConsoleLogin()
	lr := plog.NewLogRecord()
	Fill(lr, &rules.AADThenAWSConsole, &l, Firing{Source: "SigninLogs", Count: 6}, time.Unix(0, 0))
	got := lr.Attributes().AsRaw()
	for k, v := range map[string]any{"LoginResult": "Success", "EventTypeName": "AwsConsoleSignIn", "UserIdentityType": "IAMUser",
		"User": "alice", "AWSRegion": "eu-west-1", "SourceIpAddress": "2001:db8::7", "UserAgent": "Mozilla/5.0", "MFAUsed": "No",
		"user.name": "alice", "SigninTable": "SigninLogs", "FailedSignInCount": int64(6)} {
		assert.Equal(t, v, got[k], k)
	}
	assert.NotContains(t, got, "host.name")
	l.UserIdentityUserName, l.UserIdentityType = "", "AssumedRole"
	Fill(lr, &rules.AADThenAWSConsole, &l, Firing{}, time.Unix(0, 0))
	user, _ := lr.Attributes().Get("User")
	assert.Equal(t, "AssumedRole", user.Str())
}

// TestSecondRulePayloadsRoundTrip: a successful sign-in or a failed host logon survives every
// encoding a waiting payload goes through (a checkpoint's or Redis' binary encoding, the packed form
// in memory) with its kind, table, repeat count and sign-in columns.
func TestSecondRulePayloadsRoundTrip(t *testing.T) {
	for name, l := range secondRulePayloads() {
		t.Run(name, func(t *testing.T) {
			b, err := l.MarshalBinary()
			require.NoError(t, err)
			assert.Equal(t, byte(encodingVersionKinded), b[0], "format 2")
			var got Logon
			require.NoError(t, got.UnmarshalBinary(b))
			assert.Equal(t, l.Event, got.Event)
			assert.Equal(t, l.Time, got.Time)
			if l.Resource != (pcommon.Resource{}) {
				assert.Equal(t, l.Resource.Attributes().AsRaw(), got.Resource.Attributes().AsRaw())
			}

			p, host := l.Pack()
			assert.Equal(t, l.Computer, host)
			assert.Len(t, p.fields, l.fieldsSize(), "Pack sizes its buffer exactly")
			var unpacked Logon
			require.NoError(t, p.Unpack(&unpacked))
			assert.Equal(t, l.Event, unpacked.Event)
			assert.Equal(t, l.Time, unpacked.Time)
			assert.True(t, l.Resource == unpacked.Resource)

			enc := ResourceEncodings{}
			for range 2 {
				e, err := p.AppendEncoded(nil, enc)
				require.NoError(t, err)
				assert.Equal(t, b, e, "a checkpoint of the packed form is the payload's own encoding")
			}
			restored, err := UnmarshalPacked(b, Resources{})
			require.NoError(t, err)
			var fromCheckpoint Logon
			require.NoError(t, restored.Unpack(&fromCheckpoint))
			assert.Equal(t, l.Event, fromCheckpoint.Event)

			for i := range b {
				var cut Logon
				assert.Error(t, cut.UnmarshalBinary(b[:i]), "cut at %d", i)
				_, err := UnmarshalPacked(b[:i], Resources{})
				assert.Error(t, err, "packed, cut at %d", i)
			}
			checkPackedAgainstDecoding(t, b)
		})
	}
}

// checkPackedAgainstDecoding: UnmarshalPacked, which checks the fields in place and copies them,
// accepts exactly what decoding and packing again accepts, and makes the same packed logon, for b
// and for b with any one byte changed.
func checkPackedAgainstDecoding(t *testing.T, b []byte) {
	t.Helper()
	slow := func(b []byte) (Packed, error) {
		var l Logon
		if err := l.unmarshal(b, nil); err != nil {
			return Packed{}, err
		}
		p, _ := l.Pack()
		return p, nil
	}
	for i := -1; i < len(b); i++ {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			d := bytes.Clone(b)
			if i >= 0 {
				d[i] ^= x
			}
			want, wantErr := slow(d)
			got, gotErr := UnmarshalPacked(d, nil)
			if (wantErr == nil) != (gotErr == nil) {
				t.Fatalf("byte %d ^ %#x: decoding says %v, UnmarshalPacked %v", i, x, wantErr, gotErr)
			}
			if wantErr == nil && want.fields != got.fields {
				t.Fatalf("byte %d ^ %#x: packed fields differ", i, x)
			}
		}
	}
}

// TestLogonEncodingUnchanged: host logons are still written in format 1, byte for byte as before
// format 2 existed, so that checkpoints and Redis entries written by either version read in both.
func TestLogonEncodingUnchanged(t *testing.T) {
	for _, l := range []Logon{sampleLogon(), NewLogon(&classify.Event{
		Kind: classify.LinuxLogon, Source: classify.Syslog, Addr: netip.MustParseAddr("203.0.113.7"),
		Computer: "web01", SyslogMessage: "Accepted password for root", Facility: "auth",
		// Columns of other kinds are not written in format 1 (the classifier never sets them on a logon).
		AppDisplayName: "x", Repeat: 4, Table: classify.AADNonInteractiveUserSignInLogs,
	}, 5, pcommon.Resource{})} {
		want := []byte{1, byte(l.Source)}
		want = binary.AppendVarint(want, l.Time)
		a16 := l.Addr.As16()
		want = append(want, a16[:]...)
		e := &l.Event
		for _, s := range []string{e.Computer, e.HostIP, e.SyslogMessage, e.Facility, e.ProcessName,
			e.Account, e.AccountType, e.Activity, e.EventID, e.LogonProcessName, e.LogonType,
			e.LogonTypeName, e.TargetUserSid, e.TargetUserName, e.TargetDomainName, e.ResourceID,
			e.User, e.Reject, e.ResultType, e.LogonUser} {
			want = codec.AppendString(want, s)
		}
		p, _ := l.Pack()
		assert.Equal(t, string(want), p.fields)
		b, err := l.MarshalBinary()
		require.NoError(t, err)
		assert.Equal(t, want, b[:len(want)])
	}
}

func TestFormat2RefusesWhatItCannotHold(t *testing.T) {
	l := sampleSigninSuccess()
	b, err := l.MarshalBinary()
	require.NoError(t, err)
	var got Logon
	// The numbers format 2 gave Unrelated, the two logons and Rejected, and one it never gave.
	for _, k := range []byte{0, 3, 4, 10, 200} {
		bad := append([]byte{}, b...)
		bad[1] = k
		assert.ErrorContains(t, got.UnmarshalBinary(bad), "kind", "kind %d", k)
	}
	bad := append([]byte{}, b...)
	bad[2] = 3
	assert.ErrorContains(t, got.UnmarshalBinary(bad), "source")
	bad = append([]byte{}, b...)
	bad[3] = 2
	assert.ErrorContains(t, got.UnmarshalBinary(bad), "table")
	bad = append([]byte{}, b...)
	bad[0] = 3
	assert.ErrorContains(t, got.UnmarshalBinary(bad), "version")
}

func TestSignInFieldsAreBounded(t *testing.T) {
	long := strings.Repeat("é", maxFieldLen)
	l := NewLogon(&classify.Event{Kind: classify.SigninLogsSuccess, Addr: netip.MustParseAddr("203.0.113.7"),
		AppDisplayName: long, UserDisplayName: long, ClientAppUsed: long, Location: long}, 1, pcommon.Resource{})
	for _, s := range []string{l.AppDisplayName, l.UserDisplayName, l.ClientAppUsed, l.Location} {
		assert.LessOrEqual(t, len(s), maxFieldLen+len("…"))
		assert.True(t, strings.HasSuffix(s, "…"))
		assert.True(t, utf8.ValidString(s), "cut on a character boundary")
	}
}
