package alert

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/secops-otel/aadhostlogincorrelation/internal/codec"
)

// Packed is a logon as it waits in memory: its fields encoded in one buffer that holds no pointers,
// and its resource, shared with the other logons of the resources it came in. A Logon holds some
// twenty strings, each its own allocation or a view into a whole record body, and the garbage
// collector visits every one of them on every cycle; a Packed is two objects, and the collector
// never looks inside the buffer.
type Packed struct {
	fields   string // appendFields' encoding; never modified, so it can be read as a string
	resource pcommon.Resource
}

// Pack encodes the logon for waiting. host is its Host, read from the encoding.
func (l *Logon) Pack() (p Packed, host string) {
	b, hostAt := l.appendFields(make([]byte, 0, l.fieldsSize()))
	// b is not reachable from anywhere else and never changes again.
	p = Packed{fields: unsafe.String(unsafe.SliceData(b), len(b)), resource: l.Resource}
	if hostAt >= 0 {
		host = p.fields[hostAt : hostAt+len(l.Host())]
	}
	return p, host
}

// Unpack decodes the logon into l; the error is only for a Packed that was not made by Pack.
func (p Packed) Unpack(l *Logon) error {
	d := codec.NewReader([]byte(p.fields))
	if err := l.readFields(d); err != nil {
		return err
	}
	if err := finish(d); err != nil {
		return err
	}
	l.Resource = p.resource
	return nil
}

// UnmarshalPacked decodes a logon encoded by AppendBinary (a checkpoint's) into its packed form.
// A packed logon is the encoding's own fields, so they are checked in place and copied once,
// without decoding the strings; only the resource is decoded (once per resource, through rs). A
// logon of format 2 is decoded and packed again, in today's format.
func UnmarshalPacked(b []byte, rs Resources) (Packed, error) {
	if len(b) > 0 && b[0] == formatLegacy {
		var l Logon
		if err := l.unmarshal(b, rs); err != nil {
			return Packed{}, err
		}
		p, _ := l.Pack()
		return p, nil
	}
	d := codec.NewReader(b)
	if err := skipFields(d); err != nil {
		return Packed{}, err
	}
	fields := b[:len(b)-d.Len()]
	var res pcommon.Resource
	if n := d.Count(1); n > 0 {
		raw := d.Bytes(n)
		if d.Err() == nil {
			var err error
			if res, err = decodeResource(raw, rs); err != nil {
				return Packed{}, err
			}
		}
	}
	if err := finish(d); err != nil {
		return Packed{}, err
	}
	return Packed{fields: string(fields), resource: res}, nil
}

// skipFields reads past what appendFields encoded, checking it as readFields does.
func skipFields(d *codec.Reader) error {
	v := d.Byte()
	_, columns, err := readHeader(d, v)
	if err != nil {
		return err
	}
	d.Varint()
	d.Bytes(encodingAddressLen)
	if v == formatNamed && int(d.Uvarint()) != columns && d.Err() == nil {
		return fmt.Errorf("logon encoding: not the %d columns of its kind", columns)
	}
	for range columns {
		d.Bytes(d.Count(1))
	}
	if d.Err() != nil {
		return fmt.Errorf("logon encoding: %w", d.Err())
	}
	return nil
}

// AppendEncoded appends the logon's encoding, the same as Logon.AppendBinary's. Logons encoded
// with the same enc encode a resource they share once.
func (p Packed) AppendEncoded(b []byte, enc ResourceEncodings) ([]byte, error) {
	if p.fields == "" {
		return nil, errors.New("empty packed logon")
	}
	return appendResource(append(b, p.fields...), p.resource, enc)
}

func varintLen(x int64) int {
	ux := uint64(x) << 1
	if x < 0 {
		ux = ^ux
	}
	return uvarintLen(ux)
}

func uvarintLen(x uint64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutUvarint(buf[:], x)
}
