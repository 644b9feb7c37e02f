package alert

import (
	"encoding/binary"
	"errors"
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
// Logons decoded with the same rs share their resources.
func UnmarshalPacked(b []byte, rs Resources) (Packed, error) {
	var l Logon
	if err := l.unmarshal(b, rs); err != nil {
		return Packed{}, err
	}
	p, _ := l.Pack()
	return p, nil
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
