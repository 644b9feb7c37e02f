package alert

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/codec"
)

// encodingVersion is the first byte of an encoded Logon; a logon of another version is refused.
const encodingVersion = 1

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
	b = append(b, encodingVersion, byte(l.Source))
	b = binary.AppendVarint(b, l.Time)
	a16 := l.Addr.As16()
	b = append(b, a16[:]...)
	for _, s := range l.fields() {
		b = codec.AppendString(b, *s)
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
			res, ok := rs[string(raw)]
			if !ok {
				ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(raw)
				if err != nil || ld.ResourceLogs().Len() != 1 {
					return fmt.Errorf("logon resource: %v", err)
				}
				res = pcommon.NewResource()
				ld.ResourceLogs().At(0).Resource().CopyTo(res)
				if rs != nil {
					rs[string(raw)] = res
				}
			}
			l.Resource = res
		}
	}
	return l.finish(d)
}

// readFields decodes what appendFields encoded into a zeroed l.
func (l *Logon) readFields(d *codec.Reader) error {
	if v := d.Byte(); v != encodingVersion {
		return fmt.Errorf("logon encoding version %d, want %d", v, encodingVersion)
	}
	*l = Logon{}
	l.Source = classify.LogonSource(d.Byte())
	l.Time = d.Varint()
	var a16 [16]byte
	copy(a16[:], d.Bytes(16))
	l.Addr = netip.AddrFrom16(a16).Unmap()
	for _, s := range l.fields() {
		*s = d.String()
	}
	return nil
}

// finish checks that d was read to its end without error and derives the logon's kind.
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
	l.Kind = classify.LinuxLogon
	if l.Source != classify.Syslog {
		l.Kind = classify.WindowsLogon
	}
	return nil
}
