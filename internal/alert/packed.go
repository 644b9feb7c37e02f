package alert

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
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

// Pack encodes the logon for waiting. host is its Computer, read from the encoding.
func (l *Logon) Pack() (p Packed, host string) {
	b := l.appendFields(make([]byte, 0, l.fieldsSize()))
	// b is not reachable from anywhere else and never changes again.
	p = Packed{fields: unsafe.String(unsafe.SliceData(b), len(b)), resource: l.Resource}
	// Computer is the first string, right after the header.
	at := l.headerSize() + uvarintLen(uint64(len(l.Computer)))
	return p, p.fields[at : at+len(l.Computer)]
}

// fieldsSize is the length of appendFields' encoding, so that Pack allocates it once and exactly.
func (l *Logon) fieldsSize() int {
	n := l.headerSize()
	for _, s := range l.fields() {
		n += uvarintLen(uint64(len(*s))) + len(*s)
	}
	if l.kinded() {
		for _, s := range l.signInFields() {
			n += uvarintLen(uint64(len(*s))) + len(*s)
		}
	}
	if l.console() {
		for _, s := range l.consoleFields() {
			n += uvarintLen(uint64(len(*s))) + len(*s)
		}
	}
	return n
}

// Unpack decodes the logon into l; the error is only for a Packed that was not made by Pack.
func (p Packed) Unpack(l *Logon) error {
	d := codec.NewReader([]byte(p.fields))
	if err := l.readFields(d); err != nil {
		return err
	}
	if err := l.finish(d); err != nil {
		return err
	}
	l.Resource = p.resource
	return nil
}

// UnmarshalPacked decodes a logon encoded by AppendBinary (a checkpoint's) into its packed form.
// A packed logon is the encoding's own fields, so they are checked in place and copied once,
// without decoding the strings; only the resource is decoded (once per resource, through rs).
func UnmarshalPacked(b []byte, rs Resources) (Packed, error) {
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
	if d.Err() != nil {
		return Packed{}, fmt.Errorf("logon encoding: %w", d.Err())
	}
	if d.Len() != 0 {
		return Packed{}, errors.New("logon encoding: trailing bytes")
	}
	return Packed{fields: string(fields), resource: res}, nil
}

// skipFields reads past what appendFields encoded, checking it as readFields and finish do.
func skipFields(d *codec.Reader) error {
	v := d.Byte()
	if v != encodingVersion && v != encodingVersionKinded {
		return fmt.Errorf("logon encoding version %d, want %d to %d", v, encodingVersion, encodingLatestVersion)
	}
	strings := len((*Logon).fields(&Logon{}))
	if v == encodingVersionKinded {
		// The same kinds, and the same columns per kind, as readFields.
		var k Logon
		n := d.Byte()
		if _, ok := format2Kind(n, 0, 0); !ok {
			return fmt.Errorf("logon encoding: kind %d in format %d", n, v)
		}
		strings += len(k.signInFields())
		if n == format2ConsoleLogin {
			strings += len(k.consoleFields())
		}
	}
	if src := classify.LogonSource(d.Byte()); src > classify.WindowsEvent {
		return fmt.Errorf("logon encoding: unknown source %d", src)
	}
	if v == encodingVersionKinded {
		if tb := classify.Table(d.Byte()); tb > classify.AADNonInteractiveUserSignInLogs {
			return fmt.Errorf("logon encoding: unknown table %d", tb)
		}
	}
	d.Varint()
	d.Bytes(encodingAddressLen)
	if v == encodingVersionKinded {
		if r := d.Varint(); r < math.MinInt32 || r > math.MaxInt32 {
			return fmt.Errorf("logon encoding: repeat %d", r)
		}
	}
	for range strings {
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
