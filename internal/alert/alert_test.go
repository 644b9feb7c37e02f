package alert

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
)

func sampleLogon() Logon {
	res := pcommon.NewResource()
	res.Attributes().PutStr("host.name", "web01")
	res.Attributes().PutInt("process.pid", 42)
	ev := classify.Event{
		Kind: classify.WindowsLogon, Source: classify.SecurityEvent, Addr: netip.MustParseAddr("2001:db8::7"),
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

func TestKQLColumns(t *testing.T) {
	for _, tc := range []struct {
		computer, host string
		dot            int
		domain         string
	}{
		{"web01.contoso.com", "web01", 5, "contoso.com"},
		{"DC01", "DC01", -1, "DC01"},
		{"", "", -1, ""},
		{".x", "", 0, "x"},
	} {
		host, dot, domain := splitComputer(tc.computer)
		assert.Equal(t, []any{tc.host, tc.dot, tc.domain}, []any{host, dot, domain}, tc.computer)
	}
	assert.Equal(t, "Machine", accountType(`CONTOSO\WIN-FS01$`))
	assert.Equal(t, "User", accountType(`CONTOSO\alice`))
	assert.Equal(t, "", accountType(""))
}

func FuzzUnmarshalLogon(f *testing.F) {
	l := sampleLogon()
	b, _ := l.MarshalBinary()
	f.Add(b)
	f.Add([]byte{encodingVersion})
	f.Fuzz(func(t *testing.T, data []byte) {
		var got Logon
		if got.UnmarshalBinary(data) == nil {
			// Anything accepted encodes again.
			_, _ = got.MarshalBinary()
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
	firing := Firing{Table: "SigninLogs", Count: 6, First: 1, Last: 2}
	attrs := func(l *Logon) map[string]any {
		lr := plog.NewLogRecord()
		Fill(lr, l, firing, observed)
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
