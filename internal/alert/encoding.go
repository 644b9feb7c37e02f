package alert

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
)

// encodingVersion is the first byte of an encoded Logon; a logon of another version is refused.
const encodingVersion = 1

// AppendBinary appends the logon's encoding to b: what a shared state (Redis) or a checkpoint
// keeps of a waiting logon.
func (l *Logon) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, encodingVersion, byte(l.Source))
	b = binary.AppendVarint(b, l.Time)
	a16 := l.Addr.As16()
	if !l.Addr.IsValid() {
		return nil, errors.New("logon without an address")
	}
	b = append(b, a16[:]...)
	for _, s := range l.fields() {
		b = binary.AppendUvarint(b, uint64(len(*s)))
		b = append(b, *s...)
	}
	var res []byte
	if l.Resource != (pcommon.Resource{}) {
		ld := plog.NewLogs()
		l.Resource.CopyTo(ld.ResourceLogs().AppendEmpty().Resource())
		var err error
		if res, err = (&plog.ProtoMarshaler{}).MarshalLogs(ld); err != nil {
			return nil, err
		}
	}
	b = binary.AppendUvarint(b, uint64(len(res)))
	return append(b, res...), nil
}

// MarshalBinary encodes the logon.
func (l *Logon) MarshalBinary() ([]byte, error) { return l.AppendBinary(nil) }

// UnmarshalBinary decodes a logon encoded by AppendBinary; it never panics on corrupt input.
func (l *Logon) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	if v := d.byte(); v != encodingVersion {
		return fmt.Errorf("logon encoding version %d, want %d", v, encodingVersion)
	}
	*l = Logon{}
	l.Source = classify.LogonSource(d.byte())
	l.Time = d.varint()
	var a16 [16]byte
	copy(a16[:], d.bytes(16))
	l.Addr = netip.AddrFrom16(a16).Unmap()
	for _, s := range l.fields() {
		*s = string(d.bytes(int(d.uvarint())))
	}
	if n := d.uvarint(); n > 0 {
		raw := d.bytes(int(n))
		if d.err == nil {
			ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(raw)
			if err != nil || ld.ResourceLogs().Len() != 1 {
				return fmt.Errorf("logon resource: %v", err)
			}
			l.Resource = pcommon.NewResource()
			ld.ResourceLogs().At(0).Resource().CopyTo(l.Resource)
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("trailing bytes")
	}
	if d.err != nil {
		return fmt.Errorf("logon encoding: %w", d.err)
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

// decoder reads what AppendBinary wrote, remembering the first error instead of panicking.
type decoder struct {
	b   []byte
	err error
}

var errShort = errors.New("truncated")

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.err = errShort
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || len(d.b) < n {
		d.err = errShort
		d.b = nil
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	if v > uint64(len(d.b)) {
		// No length can exceed what is left; refuse it before anything is allocated.
		d.err = errShort
		return 0
	}
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}
