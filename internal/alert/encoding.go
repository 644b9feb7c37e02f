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

// The first byte of an encoded Logon is its format; a logon of another format is refused. Every
// format holds the kind, the time, the address and the kind's columns; nothing in it is particular
// to a kind but what the kind's declaration says.
//
// Format 3 names the kind, and is what every kind is written in unless the kind says otherwise:
//
//	3, the kind's name and source (strings), varint time, 16-byte address, uvarint n, n strings
//	(the kind's columns, n of them)
//
// Format 1 is what the seed's host logons have always been written in, and still are, byte for
// byte, so that checkpoints and shared state of either age keep reading each other's logons. It
// names the kind by the byte its declaration gives (classify.KindSpec.Format1Code), and the number
// of columns is the kind's:
//
//	1, code, varint time, 16-byte address, the kind's columns
//
// Format 2 is only read: what waiting successes of rules B, C and D were written in before kinds
// were declared (legacy.go).
//
// A string is a uvarint length and its bytes; the resource follows (see appendResource).
const (
	formatCompact      = 1
	formatLegacy       = 2
	formatNamed        = 3
	encodingAddressLen = 16
)

// AppendBinary appends the logon's encoding to b: what a shared state (Redis) or a checkpoint
// keeps of a waiting logon.
func (l *Logon) AppendBinary(b []byte) ([]byte, error) {
	if !l.Addr.IsValid() {
		return nil, errors.New("logon without an address")
	}
	b, _ = l.appendFields(b)
	return appendResource(b, l.Resource, nil)
}

// appendFields appends everything of the logon but its resource, and says where in b the text of
// the host column starts (-1: the kind has none).
func (l *Logon) appendFields(b []byte) ([]byte, int) {
	b = l.appendHeader(b)
	hostAt, host := -1, l.Kind.Host()
	for i := range l.columns() {
		if i == host {
			hostAt = len(b) + uvarintLen(uint64(len(l.Cols[i])))
		}
		b = codec.AppendString(b, l.Cols[i])
	}
	return b, hostAt
}

// fieldsSize is the length of appendFields' encoding, so that Pack allocates it once and exactly.
func (l *Logon) fieldsSize() int {
	n := l.headerSize()
	for _, s := range l.Cols[:l.columns()] {
		n += uvarintLen(uint64(len(s))) + len(s)
	}
	return n
}

// headerSize is the length of appendHeader's encoding.
func (l *Logon) headerSize() int {
	n := varintLen(l.Time) + encodingAddressLen
	if _, compact := l.Kind.Format1(); compact {
		return 2 + n
	}
	name, source := l.Kind.String(), l.Kind.Source()
	return 1 + uvarintLen(uint64(len(name))) + len(name) + uvarintLen(uint64(len(source))) + len(source) +
		n + uvarintLen(uint64(l.columns()))
}

// appendHeader appends what comes before the columns.
func (l *Logon) appendHeader(b []byte) []byte {
	code, compact := l.Kind.Format1()
	if compact {
		b = append(b, formatCompact, code)
	} else {
		b = append(b, formatNamed)
		b = codec.AppendString(b, l.Kind.String())
		b = codec.AppendString(b, l.Kind.Source())
	}
	b = binary.AppendVarint(b, l.Time)
	a16 := l.Addr.As16()
	b = append(b, a16[:]...)
	if !compact {
		b = binary.AppendUvarint(b, uint64(l.columns()))
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

// UnmarshalBinary decodes a logon encoded by AppendBinary, or in format 2; it never panics on
// corrupt input.
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
	return finish(d)
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

// readFields decodes what appendFields encoded (or a format 2 logon) into l.
func (l *Logon) readFields(d *codec.Reader) error {
	*l = Logon{}
	v := d.Byte()
	if v == formatLegacy {
		return l.readLegacy(d)
	}
	kind, columns, err := readHeader(d, v)
	if err != nil {
		return err
	}
	l.Kind = kind
	l.Time = d.Varint()
	var a16 [encodingAddressLen]byte
	copy(a16[:], d.Bytes(encodingAddressLen))
	l.Addr = netip.AddrFrom16(a16).Unmap()
	if v == formatNamed && int(d.Uvarint()) != columns && d.Err() == nil {
		return fmt.Errorf("logon encoding: not the %d columns of a %#v", columns, kind)
	}
	for i := range columns {
		l.Cols[i] = d.String()
	}
	return nil
}

// readHeader reads the kind of a format 1 or 3 logon (format byte v read), and returns it with the
// number of its columns.
func readHeader(d *codec.Reader, v byte) (classify.Kind, int, error) {
	var kind classify.Kind
	switch v {
	case formatCompact:
		code := d.Byte()
		var ok bool
		if kind, ok = classify.KindOfFormat1(code); !ok && d.Err() == nil {
			return 0, 0, fmt.Errorf("logon encoding: unknown source %d", code)
		}
	case formatNamed:
		name, source := d.String(), d.String()
		var ok bool
		if kind, ok = classify.KindOf(name, source); !ok && d.Err() == nil {
			return 0, 0, fmt.Errorf("logon encoding: unknown kind %s of %q", name, source)
		}
	default:
		return 0, 0, fmt.Errorf("logon encoding version %d, want %d to %d", v, formatCompact, formatNamed)
	}
	return kind, min(len(kind.Columns()), classify.MaxColumns), nil
}

// finish checks that d was read to its end without error.
func finish(d *codec.Reader) error {
	if d.Err() != nil {
		return fmt.Errorf("logon encoding: %w", d.Err())
	}
	if d.Len() != 0 {
		return errors.New("logon encoding: trailing bytes")
	}
	return nil
}
