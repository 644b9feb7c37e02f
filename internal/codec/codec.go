// Package codec reads the compact binary encodings the state is saved in (checkpoints, Redis):
// varints and length-prefixed bytes, remembering the first error instead of panicking, and
// refusing lengths the input cannot hold before anything is allocated.
package codec

import (
	"encoding/binary"
	"errors"
)

// ErrTruncated is the error of a Reader that ran out of input or met a length it cannot hold.
var ErrTruncated = errors.New("truncated")

// AppendString appends s with its length.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Reader decodes b from the front.
type Reader struct {
	b   []byte
	err error
}

// NewReader returns a reader of b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err is the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// Len is how many bytes are left.
func (r *Reader) Len() int { return len(r.b) }

func (r *Reader) fail() {
	if r.err == nil {
		r.err = ErrTruncated
	}
	r.b = nil
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// Bytes reads n bytes; the result aliases the input.
func (r *Reader) Bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.fail()
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// Varint reads a signed varint.
func (r *Reader) Varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 || !canonical(r.b, n) {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || !canonical(r.b, n) {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Count reads a length whose items take at least minSize bytes each, refusing a length the
// remaining input cannot hold (so a corrupt length cannot make the caller allocate or loop long).
func (r *Reader) Count(minSize int) int {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || !canonical(r.b, n) || minSize < 1 || v > uint64(len(r.b)-n)/uint64(minSize) {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

// String reads a string written by AppendString.
func (r *Reader) String() string { return string(r.Bytes(r.Count(1))) }

// canonical reports whether the n-byte varint at the start of b is in its shortest form, the only
// form encoding/binary writes: a longer one ends in a zero byte. Refusing the others keeps one
// encoding per value, so that a reader that checks bytes in place (without decoding and encoding
// again) accepts exactly what a decoding reader does.
func canonical(b []byte, n int) bool { return n == 1 || b[n-1] != 0 }
