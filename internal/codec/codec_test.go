package codec

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReader(t *testing.T) {
	b := AppendString(nil, "alice")
	b = binary.AppendVarint(b, -42)
	b = append(b, 7)
	r := NewReader(b)
	assert.Equal(t, "alice", r.String())
	assert.Equal(t, int64(-42), r.Varint())
	assert.Equal(t, byte(7), r.Byte())
	assert.NoError(t, r.Err())
	assert.Equal(t, 0, r.Len())
	r.Byte()
	assert.ErrorIs(t, r.Err(), ErrTruncated)
}

func TestCountRefusesWhatTheInputCannotHold(t *testing.T) {
	b := binary.AppendUvarint(nil, 1<<40) // a corrupt length
	b = append(b, 1, 2, 3)
	r := NewReader(b)
	assert.Equal(t, 0, r.Count(1))
	assert.ErrorIs(t, r.Err(), ErrTruncated)
	assert.Nil(t, r.Bytes(1), "a failed reader stays failed")

	r = NewReader(append(binary.AppendUvarint(nil, 2), 1, 2, 3, 4))
	assert.Equal(t, 0, r.Count(3), "two items of three bytes do not fit in four")
}

// TestReaderRefusesLongFormVarints: a varint padded with a continuation byte ending in zero decodes
// to the same value in encoding/binary, but no writer makes it; refusing it keeps one encoding per
// value (the checkpoint's in-place checks rely on that).
func TestReaderRefusesLongFormVarints(t *testing.T) {
	for name, read := range map[string]func(*Reader){
		"Varint":  func(r *Reader) { r.Varint() },
		"Uvarint": func(r *Reader) { r.Uvarint() },
		"Count":   func(r *Reader) { r.Count(1) },
	} {
		r := NewReader([]byte{0x85, 0x00, 1, 2, 3, 4, 5}) // 5 written in two bytes
		read(r)
		assert.ErrorIs(t, r.Err(), ErrTruncated, name)
		r = NewReader([]byte{0x00, 1, 2, 3})
		read(r)
		assert.NoError(t, r.Err(), "%s: zero is one zero byte", name)
	}
}
