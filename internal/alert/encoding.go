package alert

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/codec"
)

// The first byte of an encoded Logon is its format; a logon of another format is refused.
//
// Format 1 is a host logon (LinuxLogon, SecurityEventLogon or WindowsEventLogon, told apart by its
// source):
//
//	1, source, varint time, 16-byte address, the strings of fields()
//
// Format 2 is what the other rules keep waiting, a successful sign-in, a failed host logon or an AWS
// console login:
//
//	2, kind, source, table, varint time, 16-byte address, varint repeat, the strings of fields(),
//	the strings of signInFields(), and for a console login the strings of consoleFields()
//
// Logons are still written in format 1, byte for byte as before format 2 existed, so that
// checkpoints and shared state of either age keep reading each other's logons.
const (
	encodingVersion       = 1
	encodingVersionKinded = 2
	encodingLatestVersion = encodingVersionKinded
	encodingAddressLen    = 16
)

// Format 2 names a kind by the number it had before kinds were declared, and tells the tables and
// sources of a kind apart by its source and table bytes.
const (
	format2HostFailure   = 5
	format2SigninSuccess = 6
	format2ConsoleLogin  = 9
)

// format2Numbers are the numbers format 2 writes each kind with (0: a kind it does not hold), from
// the kinds' names once, so that a waiting success is not told apart by its name each time.
var format2Numbers = func() (n [classify.MaxKinds]byte) {
	for k := range classify.NumKinds() {
		switch classify.Kind(k).String() {
		case "host_failure":
			n[k] = format2HostFailure
		case "signin_success":
			n[k] = format2SigninSuccess
		case "console_login_success":
			n[k] = format2ConsoleLogin
		}
	}
	return n
}()

// format2Number is the number format 2 writes kind k with; false for a kind it does not hold.
func format2Number(k classify.Kind) (byte, bool) {
	if int(k) >= len(format2Numbers) {
		return 0, false
	}
	return format2Numbers[k], format2Numbers[k] != 0
}

// format2Kind is the kind of a format 2 number, source and table.
func format2Kind(n byte, src classify.LogonSource, t classify.Table) (classify.Kind, bool) {
	switch n {
	case format2HostFailure:
		return classify.KindOf("host_failure", src.String())
	case format2SigninSuccess:
		return classify.KindOf("signin_success", t.String())
	case format2ConsoleLogin:
		return classify.KindOf("console_login_success", "AWSCloudTrail")
	}
	return 0, false
}

// kinded reports whether the logon is one that format 2 encodes.
func (l *Logon) kinded() bool {
	_, ok := format2Number(l.Kind)
	return ok
}

// AppendBinary appends the logon's encoding to b: what a shared state (Redis) or a checkpoint
// keeps of a waiting logon.
func (l *Logon) AppendBinary(b []byte) ([]byte, error) {
	if !l.Addr.IsValid() {
		return nil, errors.New("logon without an address")
	}
	return appendResource(l.appendFields(b), l.Resource, nil)
}

// appendFields appends everything of the logon but its resource.
func (l *Logon) appendFields(b []byte) []byte {
	b = l.appendHeader(b)
	for _, s := range l.fields() {
		b = codec.AppendString(b, *s)
	}
	if l.kinded() {
		for _, s := range l.signInFields() {
			b = codec.AppendString(b, *s)
		}
	}
	if l.console() {
		for _, s := range l.consoleFields() {
			b = codec.AppendString(b, *s)
		}
	}
	return b
}

// headerSize is the length of appendHeader's encoding.
func (l *Logon) headerSize() int {
	if l.kinded() {
		return 4 + varintLen(l.Time) + encodingAddressLen + varintLen(int64(l.Repeat))
	}
	return 2 + varintLen(l.Time) + encodingAddressLen
}

// appendHeader appends what comes before the strings: the format, the fixed-size fields, the time and
// the address (and for format 2 the repeat count).
func (l *Logon) appendHeader(b []byte) []byte {
	kinded := l.kinded()
	if kinded {
		n, _ := format2Number(l.Kind)
		b = append(b, encodingVersionKinded, n, byte(l.Source), byte(l.Table))
	} else {
		b = append(b, encodingVersion, byte(l.Source))
	}
	b = binary.AppendVarint(b, l.Time)
	a16 := l.Addr.As16()
	b = append(b, a16[:]...)
	if kinded {
		b = binary.AppendVarint(b, int64(l.Repeat))
	}
	return b
}

// ResourceEncodings keeps the encodings of resources while logons are encoded, so that logons that
// share a resource encode it once.
type ResourceEncodings map[pcommon.Resource][]byte

// appendResource appends res as an OTLP ResourceLogs with its length (0 for none), reusing its
// encoding from enc when enc has it (enc may be nil).
func appendResource(b []byte, res pcommon.Resource, enc ResourceEncodings) ([]byte, error) {
	var raw []byte
	if res != (pcommon.Resource{}) {
		var ok bool
		if raw, ok = enc[res]; !ok {
			ld := plog.NewLogs()
			res.CopyTo(ld.ResourceLogs().AppendEmpty().Resource())
			var err error
			if raw, err = (&plog.ProtoMarshaler{}).MarshalLogs(ld); err != nil {
				return nil, err
			}
			if enc != nil {
				enc[res] = raw
			}
		}
	}
	b = binary.AppendUvarint(b, uint64(len(raw)))
	return append(b, raw...), nil
}

// MarshalBinary encodes the logon.
func (l *Logon) MarshalBinary() ([]byte, error) { return l.AppendBinary(nil) }

// UnmarshalBinary decodes a logon encoded by AppendBinary; it never panics on corrupt input.
func (l *Logon) UnmarshalBinary(b []byte) error { return l.unmarshal(b, nil) }

// Resources shares the resources of decoded logons: logons that came with the same resource share
// one copy of it again, as they did before they were encoded.
type Resources map[string]pcommon.Resource

// unmarshal decodes b into l, taking its resource from rs when rs has it (rs may be nil).
func (l *Logon) unmarshal(b []byte, rs Resources) error {
	d := codec.NewReader(b)
	if err := l.readFields(d); err != nil {
		return err
	}
	if n := d.Count(1); n > 0 {
		raw := d.Bytes(n)
		if d.Err() == nil {
			res, err := decodeResource(raw, rs)
			if err != nil {
				return err
			}
			l.Resource = res
		}
	}
	return l.finish(d)
}

// decodeResource decodes a resource encoded by appendResource, or takes it from rs (may be nil).
func decodeResource(raw []byte, rs Resources) (pcommon.Resource, error) {
	if res, ok := rs[string(raw)]; ok {
		return res, nil
	}
	ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(raw)
	if err != nil || ld.ResourceLogs().Len() != 1 {
		return pcommon.Resource{}, fmt.Errorf("logon resource: %v", err)
	}
	res := pcommon.NewResource()
	ld.ResourceLogs().At(0).Resource().CopyTo(res)
	if rs != nil {
		rs[string(raw)] = res
	}
	return res, nil
}

// readFields decodes what appendFields encoded into a zeroed l. The kind of a format 1 logon is left
// Unrelated, for finish to derive.
func (l *Logon) readFields(d *codec.Reader) error {
	v := d.Byte()
	if v != encodingVersion && v != encodingVersionKinded {
		return fmt.Errorf("logon encoding version %d, want %d to %d", v, encodingVersion, encodingLatestVersion)
	}
	*l = Logon{}
	var n byte
	if v == encodingVersionKinded {
		n = d.Byte()
		if _, ok := format2Kind(n, 0, 0); !ok {
			return fmt.Errorf("logon encoding: kind %d in format %d", n, v)
		}
	}
	l.Source = classify.LogonSource(d.Byte())
	if v == encodingVersionKinded {
		l.Table = classify.Table(d.Byte())
		l.Kind, _ = format2Kind(n, l.Source, l.Table)
	}
	l.Time = d.Varint()
	var a16 [encodingAddressLen]byte
	copy(a16[:], d.Bytes(encodingAddressLen))
	l.Addr = netip.AddrFrom16(a16).Unmap()
	if v == encodingVersionKinded {
		r := d.Varint()
		if r < math.MinInt32 || r > math.MaxInt32 {
			return fmt.Errorf("logon encoding: repeat %d", r)
		}
		l.Repeat = int(r)
	}
	for _, s := range l.fields() {
		*s = d.String()
	}
	if v == encodingVersionKinded {
		for _, s := range l.signInFields() {
			*s = d.String()
		}
	}
	if l.console() {
		for _, s := range l.consoleFields() {
			*s = d.String()
		}
	}
	return nil
}

// finish checks that d was read to its end without error and derives the kind of a format 1 logon.
func (l *Logon) finish(d *codec.Reader) error {
	if d.Err() != nil {
		return fmt.Errorf("logon encoding: %w", d.Err())
	}
	if d.Len() != 0 {
		return errors.New("logon encoding: trailing bytes")
	}
	if l.Source > classify.WindowsEvent {
		return fmt.Errorf("logon encoding: unknown source %d", l.Source)
	}
	if l.Table > classify.AADNonInteractiveUserSignInLogs {
		return fmt.Errorf("logon encoding: unknown table %d", l.Table)
	}
	if l.Kind == classify.Unrelated { // format 1
		l.Kind = [...]classify.Kind{classify.LinuxLogon, classify.SecurityEventLogon, classify.WindowsEventLogon}[l.Source]
	}
	return nil
}
