package classify

import (
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Bounds on one wrapper, so that a hostile message costs a counted rejection, not unbounded work.
const (
	// MaxWrapperBytes is the longest wrapper text (string or bytes body) that is decoded. An Event
	// Hubs message is at most 1 MiB (the premium tier's limit), a log file a few MiB.
	MaxWrapperBytes = 64 << 20
	// MaxWrapperRecords is how many elements of a map-body wrapper are read.
	MaxWrapperRecords = 1 << 20
)

// mapWrapper reports whether a records field is a wrapper's array: an array whose first object has
// the key (an application's own "records" array is not a wrapper, and costs no rejections).
func mapWrapper(records field, key string) bool {
	if records.v.Type() != pcommon.ValueTypeSlice {
		return false
	}
	s := records.v.Slice()
	for i := 0; i < s.Len(); i++ {
		if r := s.At(i); r.Type() == pcommon.ValueTypeMap {
			_, ok := r.Map().Get(key)
			return ok
		}
	}
	return false
}

// bytesText reads a bytes value as text in place; the text is only read while the record is.
// pcommon.ByteSlice hands its bytes out only as a copy (AsRaw), and a wrapper of megabytes would be
// copied twice per record (Classify and Unwrap): a ByteSlice is a pointer to its slice and a state
// pointer, and the slice is read through the first. TestBytesTextInPlace holds this against the
// pdata version in use.
func bytesText(bs pcommon.ByteSlice) string {
	if bs.Len() == 0 {
		return ""
	}
	b := **(**[]byte)(unsafe.Pointer(&bs))
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Unwrap classifies the records inside a record that Classify found to be a Wrapper, calling yield
// once per element with ev filled (reset first): each by its kind, an element of another category
// or event Unrelated, and an element that is no record Rejected. A wrapper that cannot be read
// yields one Rejected. ev is only valid during the call; the strings in it alias the record's
// values or strings decoded for this call. The record is never modified. Which wrappers there are,
// and how their records are read, the files of their shapes declare (declareJSON,
// declareWrapper).
func (c *Classifier) Unwrap(rec plog.LogRecord, ev *Observation, yield func(*Observation)) {
	body := rec.Body()
	switch body.Type() {
	case pcommon.ValueTypeStr:
		c.unwrapJSON(trimLeadingSpace(body.Str()), ev, yield)
		return
	case pcommon.ValueTypeBytes:
		c.unwrapJSON(trimLeadingSpace(bytesText(body.Bytes())), ev, yield)
		return
	}
	for _, m := range []pcommon.Map{rec.Attributes(), body.Map()} {
		if m == (pcommon.Map{}) {
			continue
		}
		for i := range c.dispatch.wrappers {
			w := &c.dispatch.wrappers[i]
			if v, ok := m.Get(w.key); ok {
				c.unwrapMap(v, ev, w.element, yield)
				return
			}
		}
	}
	rejectInto(ev, RejectBadWrapper, yield)
}

// rejectInto yields one rejection for reason.
func rejectInto(ev *Observation, reason string, yield func(*Observation)) {
	reset(ev)
	ev.Kind, ev.Reject = Rejected, reason
	yield(ev)
}

// unwrapMap classifies the elements of a wrapper that arrived as a map (a JSON parse upstream), each
// with element.
func (c *Classifier) unwrapMap(v pcommon.Value, ev *Observation, element func(*Classifier, pcommon.Map, *Observation), yield func(*Observation)) {
	if v.Type() != pcommon.ValueTypeSlice {
		rejectInto(ev, RejectBadWrapper, yield)
		return
	}
	records := v.Slice()
	for i := 0; i < records.Len(); i++ {
		if i == MaxWrapperRecords {
			rejectInto(ev, RejectWrapperTooLarge, yield)
			return
		}
		reset(ev)
		if r := records.At(i); r.Type() == pcommon.ValueTypeMap {
			element(c, r.Map(), ev)
		} else {
			ev.Kind, ev.Reject = Rejected, RejectBadWrappedRecord
		}
		ev.InWrapper = true
		yield(ev)
	}
}

// unwrapJSON classifies the elements of a wrapper given as JSON text, by the declaration whose
// marker it holds.
func (c *Classifier) unwrapJSON(s string, ev *Observation, yield func(*Observation)) {
	if len(s) > MaxWrapperBytes {
		rejectInto(ev, RejectWrapperTooLarge, yield)
		return
	}
	j := c.jsonOf(s)
	if j == nil {
		rejectInto(ev, RejectBadWrapper, yield)
		return
	}
	j.unwrap(c, s, ev, yield)
}
