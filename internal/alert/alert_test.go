package alert

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"slices"
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

// logonOf is a payload of kind k with the columns of cols (by name), as Set makes it.
func logonOf(t testing.TB, k classify.Kind, addr string, when int64, res pcommon.Resource, cols map[string]string) Logon {
	t.Helper()
	ev := classify.Observation{Kind: k, Addr: netip.MustParseAddr(addr)}
	for name, v := range cols {
		i := slices.Index(k.Columns(), name)
		require.GreaterOrEqual(t, i, 0, "%#v has no column %s", k, name)
		ev.Cols[i] = v
	}
	return NewLogon(&ev, when, res)
}

func sampleLogon(t testing.TB) Logon {
	res := pcommon.NewResource()
	res.Attributes().PutStr("host.name", "web01")
	res.Attributes().PutInt("process.pid", 42)
	return logonOf(t, classify.SecurityEventLogon, "2001:db8::7", 1_764_000_000_123_456_789, res, map[string]string{
		"Computer": "dc01.contoso.com", "Account": `CONTOSO\alice`, "EventID": "4624", "LogonType": "3",
		"TargetUserName": "alice", "TargetDomainName": "CONTOSO", "LogonUser": "alice", "ResourceID": "/subscriptions/0",
	})
}

// sampleSigninSuccess is what rules B and D keep waiting: a successful sign-in, in format 3.
func sampleSigninSuccess(t testing.TB) Logon {
	res := pcommon.NewResource()
	res.Attributes().PutStr("cloud.provider", "azure")
	return logonOf(t, classify.NonInteractiveSuccess, "203.0.113.7", 1_764_000_000_123_456_789, res, map[string]string{
		"UserPrincipalName": "alice@contoso.com", "ResultType": "0", "AppDisplayName": "Azure Portal",
		"UserDisplayName": "Alice Example", "ClientAppUsed": "Browser", "Location": "IL",
	})
}

// payloads are a payload of every kind the classifier declares (each with a value in every column
// it has), and of a few corner cases.
func payloads(t testing.TB) map[string]Logon {
	out := map[string]Logon{
		"seed logon":                 sampleLogon(t),
		"sign-in success":            sampleSigninSuccess(t),
		"sign-in success/no columns": logonOf(t, classify.SigninLogsSuccess, "198.51.100.1", 0, pcommon.Resource{}, nil),
		"linux logon/negative time":  logonOf(t, classify.LinuxLogon, "203.0.113.7", -5, pcommon.Resource{}, map[string]string{"SyslogMessage": "Accepted password for root"}),
	}
	for k := range classify.NumKinds() {
		kind := classify.Kind(k)
		cols := map[string]string{}
		for i, name := range kind.Columns() {
			if name != "" {
				cols[name] = strings.Repeat("x", i) + "é" + name
			}
		}
		out["every column/"+kind.GoString()] = logonOf(t, kind, "2001:db8::42", int64(k)*1e9, pcommon.Resource{}, cols)
	}
	return out
}

func TestEncodingRoundTrip(t *testing.T) {
	for name, l := range payloads(t) {
		t.Run(name, func(t *testing.T) {
			b, err := l.MarshalBinary()
			require.NoError(t, err)
			var got Logon
			require.NoError(t, got.UnmarshalBinary(b))
			assertSame(t, l, got)
			if l.Resource != (pcommon.Resource{}) {
				assert.Equal(t, l.Resource.Attributes().AsRaw(), got.Resource.Attributes().AsRaw())
			}
			want := byte(formatNamed)
			if _, compact := l.Kind.Format1(); compact {
				want = formatCompact
			}
			assert.Equal(t, want, b[0], "the format")

			p, host := l.Pack()
			assert.Equal(t, l.Host(), host)
			assert.Len(t, p.fields, l.fieldsSize(), "Pack sizes its buffer exactly")
			var unpacked Logon
			require.NoError(t, p.Unpack(&unpacked))
			assertSame(t, l, unpacked)
			assert.True(t, l.Resource == unpacked.Resource, "the resource is shared, not an equal copy")

			// A checkpoint of a packed logon is the logon's own encoding.
			enc := ResourceEncodings{}
			for range 2 { // the second time from enc
				e, err := p.AppendEncoded(nil, enc)
				require.NoError(t, err)
				assert.Equal(t, b, e)
			}
			restored, err := UnmarshalPacked(b, Resources{})
			require.NoError(t, err)
			var fromCheckpoint Logon
			require.NoError(t, restored.Unpack(&fromCheckpoint))
			assertSame(t, l, fromCheckpoint)

			for i := range b {
				var cut Logon
				assert.Error(t, cut.UnmarshalBinary(b[:i]), "cut at %d", i)
				_, err := UnmarshalPacked(b[:i], Resources{})
				assert.Error(t, err, "packed, cut at %d", i)
			}
			checkPackedAgainstDecoding(t, b)
		})
	}
	var got Logon
	assert.Error(t, Packed{}.Unpack(&got))
	_, err := Packed{}.AppendEncoded(nil, nil)
	assert.Error(t, err)
	_, err = (&Logon{}).MarshalBinary()
	assert.Error(t, err, "no address")
}

// assertSame: two logons hold the same kind, address, time and columns.
func assertSame(t *testing.T, want, got Logon) {
	t.Helper()
	assert.Equal(t, want.Kind, got.Kind)
	assert.Equal(t, want.Addr, got.Addr)
	assert.Equal(t, want.Time, got.Time)
	assert.Equal(t, want.Cols, got.Cols)
}

func TestEncodingRefusesDamage(t *testing.T) {
	l := sampleSigninSuccess(t)
	b, err := l.MarshalBinary()
	require.NoError(t, err)
	var got Logon
	bad := bytes.Clone(b)
	bad[0] = 99
	assert.ErrorContains(t, got.UnmarshalBinary(bad), "version")
	// Another number of columns than the kind's.
	name, source := l.Kind.String(), l.Kind.Source()
	at := 1 + 1 + len(name) + 1 + len(source) + varintLen(l.Time) + encodingAddressLen
	require.Equal(t, byte(len(l.Kind.Columns())), b[at])
	bad = bytes.Clone(b)
	bad[at]--
	assert.ErrorContains(t, got.UnmarshalBinary(bad), "columns")
	// A kind no file declares.
	bad = bytes.Replace(bytes.Clone(b), []byte("signin_success"), []byte("signin_sucxess"), 1)
	assert.ErrorContains(t, got.UnmarshalBinary(bad), "unknown kind")
	_, err = UnmarshalPacked(bad, nil)
	assert.ErrorContains(t, err, "unknown kind")
	// A format 1 code no kind has.
	seed := sampleLogon(t)
	b, err = seed.MarshalBinary()
	require.NoError(t, err)
	b[1] = 3
	assert.ErrorContains(t, got.UnmarshalBinary(b), "source")
}

func TestLongFieldsAreBounded(t *testing.T) {
	long := strings.Repeat("é", maxFieldLen)
	for k := range classify.NumKinds() {
		kind := classify.Kind(k)
		ev := classify.Observation{Kind: kind, Addr: netip.MustParseAddr("203.0.113.7")}
		for i := range ev.Cols {
			ev.Cols[i] = long
		}
		l := NewLogon(&ev, 1, pcommon.Resource{})
		for i, s := range l.Cols {
			if i >= len(kind.Columns()) {
				assert.Empty(t, s, "%#v: column %d is none of the kind's", kind, i)
				continue
			}
			assert.LessOrEqual(t, len(s), maxFieldLen+len("…"))
			assert.True(t, strings.HasSuffix(s, "…"))
			assert.True(t, utf8.ValidString(s), "cut on a character boundary")
		}
	}
}

func FuzzUnmarshalLogon(f *testing.F) {
	for _, l := range payloads(f) {
		b, _ := l.MarshalBinary()
		f.Add(b)
	}
	for _, g := range legacyGolden {
		b, _ := hex.DecodeString(g.hex)
		f.Add(b)
	}
	f.Add([]byte{formatCompact})
	f.Add([]byte{formatLegacy})
	f.Add([]byte{formatNamed})
	f.Fuzz(func(t *testing.T, data []byte) {
		var got Logon
		if got.UnmarshalBinary(data) != nil {
			return
		}
		// Anything accepted encodes again, in today's format of its kind (format 2 is read
		// only), and decodes to the same logon; and a packed form of it is what a checkpoint holds.
		b, err := got.MarshalBinary()
		if err != nil {
			t.Fatalf("accepted %x but cannot encode it: %v", data, err)
		}
		if data[0] != formatLegacy && b[0] != data[0] {
			t.Fatalf("format %d decoded, format %d encoded", data[0], b[0])
		}
		var again Logon
		if err := again.UnmarshalBinary(b); err != nil {
			t.Fatalf("re-encoded %x does not decode: %v", b, err)
		}
		if again.Kind != got.Kind || again.Addr != got.Addr || again.Time != got.Time || again.Cols != got.Cols {
			t.Fatalf("round trip changed the logon: %+v, then %+v", got, again)
		}
		p, host := got.Pack()
		if host != got.Host() || len(p.fields) != got.fieldsSize() {
			t.Fatalf("packed %d bytes, host %q; want %d, %q", len(p.fields), host, got.fieldsSize(), got.Host())
		}
		if data[0] != formatLegacy && !bytes.Equal([]byte(p.fields), b[:len(p.fields)]) {
			t.Fatalf("packed %x, encoded %x", p.fields, b)
		}
	})
}

// TestUnmarshalPackedSharesResources: logons restored from a checkpoint share their resources again,
// instead of each holding a copy.
func TestUnmarshalPackedSharesResources(t *testing.T) {
	l := sampleLogon(t)
	b, err := l.MarshalBinary()
	require.NoError(t, err)
	other := sampleLogon(t)
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
	assertSame(t, other, got)
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
	for _, kind := range []classify.Kind{classify.SecurityEventLogon, classify.WindowsEventLogon} {
		t.Run(kind.Source(), func(t *testing.T) {
			l := sampleLogon(t)
			l.Kind, l.Cols[classify.HostActivity] = kind, activity
			got := attrs(&l)
			assert.Equal(t, int64(4624), got["EventID"])
			assert.Equal(t, activity, got["Activity"])
			assert.Equal(t, kind.Source(), got["LogonSource"])

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

	linux := logonOf(t, classify.LinuxLogon, "203.0.113.7", 1, pcommon.Resource{}, map[string]string{"SyslogMessage": "Accepted password for alice"})
	got := attrs(&linux)
	assert.NotContains(t, got, "EventID", "Syslog rows have no EventID")
	assert.NotContains(t, got, "Activity")
	assert.Equal(t, "Syslog", got["LogonSource"])
}

// TestSignInColumns: rules B and D's alert projects the successful sign-in's columns and its table.
func TestSignInColumns(t *testing.T) {
	l := sampleSigninSuccess(t)
	lr := plog.NewLogRecord()
	Fill(lr, &rules.HostThenAAD, &l, Firing{Source: "Syslog", Count: 6}, time.Unix(0, 0))
	got := lr.Attributes().AsRaw()
	for k, v := range map[string]any{"Type": "AADNonInteractiveUserSignInLogs", "UserPrincipalName": "alice@contoso.com",
		"IPAddress": "203.0.113.7", "ResultType": "0", "AppDisplayName": "Azure Portal", "UserDisplayName": "Alice Example",
		"ClientAppUsed": "Browser", "Location": "IL", "AccountCustomEntity": "alice@contoso.com", "user.name": "alice@contoso.com",
		"FailedLogonSource": "Syslog", "FailedLogonCount": int64(6)} {
		assert.Equal(t, v, got[k], k)
	}
	assert.NotContains(t, got, "host.name")
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
// kinds were declared (the source byte, then twenty strings of which the seventeenth to nineteenth
// are always empty), so that checkpoints and Redis entries written by either version read in both.
func TestLogonEncodingUnchanged(t *testing.T) {
	for _, l := range []Logon{sampleLogon(t), logonOf(t, classify.LinuxLogon, "203.0.113.7", 5, pcommon.Resource{}, map[string]string{
		"Computer": "web01", "SyslogMessage": "Accepted password for root", "Facility": "auth",
	})} {
		source := map[classify.Kind]byte{classify.LinuxLogon: 0, classify.SecurityEventLogon: 1, classify.WindowsEventLogon: 2}[l.Kind]
		want := []byte{1, source}
		want = binary.AppendVarint(want, l.Time)
		a16 := l.Addr.As16()
		want = append(want, a16[:]...)
		c := &l.Cols
		for _, s := range []string{c[classify.HostComputer], c[classify.HostIP], c[classify.HostSyslogMessage],
			c[classify.HostFacility], c[classify.HostProcessName], c[classify.HostAccount], c[classify.HostAccountType],
			c[classify.HostActivity], c[classify.HostEventID], c[classify.HostLogonProcessName], c[classify.HostLogonType],
			c[classify.HostLogonTypeName], c[classify.HostTargetUserSid], c[classify.HostTargetUserName],
			c[classify.HostTargetDomainName], c[classify.HostResourceID], "", "", "", c[classify.HostLogonUser]} {
			want = codec.AppendString(want, s)
		}
		p, _ := l.Pack()
		assert.Equal(t, string(want), p.fields)
		b, err := l.MarshalBinary()
		require.NoError(t, err)
		assert.Equal(t, want, b[:len(want)])
	}
	// What the release before declared kinds wrote for a Windows logon with its resource.
	golden, err := hex.DecodeString("0101aab4aef2eda9fefa3020010db800000000000000000000000710646330312e636f6e746f736f2e636f6d000000000d434f4e544f534f5c616c69636500000434363234000133000005616c69636507434f4e544f534f102f737562736372697074696f6e732f3000000005616c6963651f0a1d0a1b0a1912070a05617a7572650a0e636c6f75642e70726f7669646572")
	require.NoError(t, err)
	var got Logon
	require.NoError(t, got.UnmarshalBinary(golden))
	assert.Equal(t, classify.SecurityEventLogon, got.Kind)
	assert.Equal(t, "dc01.contoso.com", got.Host())
	assert.Equal(t, `CONTOSO\alice`, got.Cols[classify.HostAccount])
	assert.Equal(t, "/subscriptions/0", got.Cols[classify.HostResourceID])
	again, err := got.MarshalBinary()
	require.NoError(t, err)
	assert.Equal(t, golden, again, "written again byte for byte")
}

// legacyGolden are format 2 payloads the release before declared kinds wrote (rules B, C and D's
// waiting successes, and a failed host logon), with the kind and the columns each must decode to.
var legacyGolden = []struct {
	name, hex    string
	kind, source string
	cols         map[string]string
	resource     bool
}{
	{
		name: "sign-in success", kind: "signin_success", source: "AADNonInteractiveUserSignInLogs", resource: true,
		hex: "02060001aab4aef2eda9fefa3000000000000000000000ffffcb007107000000000000000000000000000000000011616c69636540636f6e746f736f2e636f6d000130000c417a75726520506f7274616c0d416c696365204578616d706c650742726f7773657202494c1f0a1d0a1b0a1912070a05617a7572650a0e636c6f75642e70726f7669646572",
		cols: map[string]string{"UserPrincipalName": "alice@contoso.com", "ResultType": "0", "AppDisplayName": "Azure Portal",
			"UserDisplayName": "Alice Example", "ClientAppUsed": "Browser", "Location": "IL"},
	},
	{
		name: "console login", kind: "console_login_success", source: "AWSCloudTrail",
		hex: "020900008280d0fceca9fefa3020010db800000000000000000000000700000000000000000000000000000000000000000000000000075375636365737310417773436f6e736f6c655369676e496e0749414d5573657205616c6963650965752d776573742d310b4d6f7a696c6c612f352e30024e6f00",
		cols: map[string]string{"LoginResult": "Success", "EventTypeName": "AwsConsoleSignIn", "UserIdentityType": "IAMUser",
			"UserIdentityUserName": "alice", "AWSRegion": "eu-west-1", "UserAgent": "Mozilla/5.0", "MFAUsed": "No"},
	},
	{
		name: "failed host logon", kind: "host_failure", source: "WindowsEvent",
		hex:  "020502000d20010db80000000000000000000000090204575330310000000000002334363235202d20416e206163636f756e74206661696c656420746f206c6f67206f6e2e0434363235000133000005616c6963650000000000000000000000",
		cols: map[string]string{"Computer": "WS01", "EventID": "4625", "LogonType": "3", "TargetUserName": "alice", "Activity": "4625 - An account failed to log on."},
	},
}

// TestLegacyFormat2: waiting successes the release before declared kinds wrote in format 2 are read
// (as a logon, and packed from a checkpoint) into today's kind of the same name and source, with
// their columns; they are written again in format 3. A kind no source of this build declares is
// refused, as any unknown kind is.
func TestLegacyFormat2(t *testing.T) {
	for _, g := range legacyGolden {
		t.Run(g.name, func(t *testing.T) {
			b, err := hex.DecodeString(g.hex)
			require.NoError(t, err)
			require.Equal(t, byte(formatLegacy), b[0])
			var got Logon
			kind, declared := classify.KindOf(g.kind, g.source)
			if !declared {
				assert.ErrorContains(t, got.UnmarshalBinary(b), "no source declares")
				_, err := UnmarshalPacked(b, nil)
				assert.ErrorContains(t, err, "no source declares")
				return
			}
			require.NoError(t, got.UnmarshalBinary(b))
			assert.Equal(t, kind, got.Kind)
			for i, name := range kind.Columns() {
				assert.Equal(t, g.cols[name], got.Cols[i], name)
			}
			assert.Equal(t, g.resource, got.Resource != (pcommon.Resource{}))

			p, err := UnmarshalPacked(b, Resources{})
			require.NoError(t, err)
			var unpacked Logon
			require.NoError(t, p.Unpack(&unpacked))
			assertSame(t, got, unpacked)
			again, err := p.AppendEncoded(nil, nil)
			require.NoError(t, err)
			assert.Equal(t, byte(formatNamed), again[0], "written again in format 3")
			var decoded Logon
			require.NoError(t, decoded.UnmarshalBinary(again))
			assertSame(t, got, decoded)

			for i := range b {
				var cut Logon
				assert.Error(t, cut.UnmarshalBinary(b[:i]), "cut at %d", i)
			}
			checkPackedAgainstDecoding(t, b)
		})
	}
}

func TestLegacyFormat2RefusesWhatItCannotHold(t *testing.T) {
	b, err := hex.DecodeString(legacyGolden[0].hex)
	require.NoError(t, err)
	var got Logon
	// The numbers format 2 gave Unrelated, the two logons and Rejected, and one it never gave.
	for _, k := range []byte{0, 3, 4, 10, 200} {
		bad := bytes.Clone(b)
		bad[1] = k
		assert.ErrorContains(t, got.UnmarshalBinary(bad), "kind", "kind %d", k)
	}
	bad := bytes.Clone(b)
	bad[2] = 3
	assert.ErrorContains(t, got.UnmarshalBinary(bad), "source")
	bad = bytes.Clone(b)
	bad[3] = 2
	assert.ErrorContains(t, got.UnmarshalBinary(bad), "table")
}
