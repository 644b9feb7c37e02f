package classify

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Rules are the rule's tunables that decide what counts. A nil slice means the rule's default; an
// empty non-nil slice means none.
type Rules struct {
	// ExcludedResultTypes are sign-in ResultTypes that are not failures (default "0", "50125",
	// "50140"): such sign-ins are no failed sign-ins.
	ExcludedResultTypes []string
	// ExcludedIPs are addresses never counted (default 127.0.0.1/32 and ::1/128): sign-ins from them
	// are Kind SignIn, logons from them Unrelated.
	ExcludedIPs []netip.Prefix
	// LogonTypes are the Windows logon types that count (default 10, 7, 3), for 4624 logons and
	// 4625 failed logons.
	LogonTypes []int

	// Kinds are the kinds the running rules use. A part of the classifier that yields kinds no
	// running rule uses does not run (see part): the seed's rule alone leaves its records as they
	// were before those parts existed, at the same cost.
	Kinds []Kind
}

// DefaultRules returns the seed rule's values.
func DefaultRules() Rules {
	return Rules{
		ExcludedResultTypes: []string{"0", "50125", "50140"},
		ExcludedIPs: []netip.Prefix{
			netip.MustParsePrefix("127.0.0.1/32"),
			netip.MustParsePrefix("::1/128"),
		},
		LogonTypes: []int{10, 7, 3},
	}
}

// Classifier recognises the input shapes of the rule in log records. It holds no mutable state, so
// one Classifier may be used by any number of goroutines at once.
type Classifier struct {
	excludedResults []string
	excludedIPs     []netip.Prefix
	logonTypes      []int64
	logonTypeNames  []string // canonical decimal form of logonTypes, aliased into the column HostLogonType
	parts           uint64   // bit p set: part p runs
	dispatch        dispatch // the declarations of the parts that run
}

// New returns a Classifier for r; nil slices in r take the defaults (see Rules).
func New(r Rules) *Classifier {
	def := DefaultRules()
	if r.ExcludedResultTypes == nil {
		r.ExcludedResultTypes = def.ExcludedResultTypes
	}
	if r.ExcludedIPs == nil {
		r.ExcludedIPs = def.ExcludedIPs
	}
	if r.LogonTypes == nil {
		r.LogonTypes = def.LogonTypes
	}
	c := &Classifier{}
	for p, ks := range parts {
		for _, k := range ks {
			if slices.Contains(r.Kinds, k) {
				c.parts |= 1 << p
			}
		}
	}
	for _, rt := range r.ExcludedResultTypes {
		c.excludedResults = append(c.excludedResults, canonicalCodeString(rt))
	}
	for _, p := range r.ExcludedIPs {
		if p, ok := normalisePrefix(p); ok {
			c.excludedIPs = append(c.excludedIPs, p)
		}
	}
	for _, lt := range r.LogonTypes {
		c.logonTypes = append(c.logonTypes, int64(lt))
		c.logonTypeNames = append(c.logonTypeNames, strconv.Itoa(lt))
	}
	c.assemble()
	return c
}

// runs reports whether part p runs. (p&63 is p: the mask spares the compiler's code for a shift
// past 63 on the paths every sign-in and logon takes.)
func (c *Classifier) runs(p part) bool { return c.parts>>(p&63)&1 != 0 }

// input is where a record's fields may sit: its attributes, and its body when that is a map.
type input struct {
	attrs   pcommon.Map
	body    pcommon.Map
	hasBody bool
	// stamped records carry a LogRecord Timestamp, which the caller prefers: their schema time
	// fields are not parsed.
	stamped bool
}

// time reads a schema time field unless the record is stamped.
func (in *input) time(f field) int64 {
	if in.stamped {
		return 0
	}
	return f.time()
}

// each calls take for every attribute, then for every key of a map body.
func (in *input) each(take func(k string, v pcommon.Value)) {
	for k, v := range in.attrs.All() {
		take(k, v)
	}
	if in.hasBody {
		for k, v := range in.body.All() {
			take(k, v)
		}
	}
}

// Classify fills ev (reset first) from one record. It never panics on any input and never modifies
// the record. The strings in ev alias the record's values.
func (c *Classifier) Classify(rec plog.LogRecord, ev *Observation) {
	// Only a record that matches a shape gets the whole Observation cleared (clearing its columns
	// per record would be a tenth of the hot path); an unrelated one only gets its Kind set.
	ev.Kind = Unrelated
	in := input{attrs: rec.Attributes(), stamped: rec.Timestamp() != 0}
	s := &c.dispatch
	lengths, firsts := s.lengths, s.firsts
	d := &ev.d
	for k, v := range in.attrs.All() {
		if maybeDiscriminator(k, lengths, firsts) && s.isDiscriminator(k) {
			s.note(d, k, v)
		}
	}
	body := rec.Body()
	bodyType := body.Type()
	if bodyType == pcommon.ValueTypeMap {
		in.body, in.hasBody = body.Map(), true
		for k, v := range in.body.All() {
			if maybeDiscriminator(k, lengths, firsts) && s.isDiscriminator(k) {
				s.note(d, k, v)
			}
		}
	}
	if d.seen == 0 { // most records: no discriminator key, and a body no shape reads
		switch bodyType {
		case pcommon.ValueTypeStr:
			if str := body.Str(); str == "" || s.bodyFirst[str[0]] == 0 {
				return
			}
		case pcommon.ValueTypeBytes:
		default:
			return
		}
	}
	c.dispatchRecord(in, body, bodyType, ev)
	if d.seen != 0 {
		d.clear()
	}
}

// dispatchRecord hands a record whose discriminator keys are in ev.d to the first shape that takes
// it, else looks at its string or bytes body.
func (c *Classifier) dispatchRecord(in input, body pcommon.Value, bodyType pcommon.ValueType, ev *Observation) {
	s := &c.dispatch
	if seen := ev.d.seen; seen != 0 {
		for i := range s.shapes {
			sh := &s.shapes[i]
			if seen&sh.all == sh.all && (sh.any == 0 || seen&sh.any != 0) && sh.classify(c, in, reset(ev)) {
				return
			}
		}
	}
	switch bodyType {
	case pcommon.ValueTypeStr:
		if str := body.Str(); str != "" && s.bodyFirst[str[0]] != 0 {
			c.stringBody(str, reset(ev))
		}
	case pcommon.ValueTypeBytes:
		// JSON as the Kafka receiver's raw encoding delivers it; read in place, never copied.
		if str := bytesText(body.Bytes()); str != "" && s.bodyFirst[str[0]] == bodyJSON {
			c.jsonBody(trimLeadingSpace(str), reset(ev))
		}
	}
}

// reset clears what ev says of a record (not the discriminator keys Classify found in it), for a
// record that may match a shape.
func reset(ev *Observation) *Observation {
	ev.Kind, ev.Reject, ev.Addr, ev.Time, ev.InWrapper, ev.Repeat = Unrelated, "", netip.Addr{}, 0, false, 0
	ev.Cols = Columns{}
	return ev
}

// The Log Analytics shape: Sentinel's Type column names the table, and the table's file reads the row.
var keyType = declareKey("Type", always)

func init() {
	declareShape(shapeDecl{order: 10, part: always, all: []key{keyType}, classify: (*Classifier).sentinel})
}

// sentinel dispatches on a Log Analytics Type; false when the table is no running shape's.
func (c *Classifier) sentinel(in input, ev *Observation) bool {
	typ, ok := ev.d.value(keyType).str()
	if !ok {
		return false
	}
	tables := c.dispatch.tables
	for i := range tables { // the name as written, first: no case folding for the usual rows
		if t := &tables[i]; len(typ) == len(t.name) && typ == t.name {
			t.classify(c, in, ev)
			return true
		}
	}
	for i := range tables {
		if t := &tables[i]; strings.EqualFold(typ, t.name) {
			t.classify(c, in, ev)
			return true
		}
	}
	return false
}

// stringBody looks at a string body whose first byte a running shape may read: JSON, or a text
// line. Every other string body (most application logs) costs one table lookup.
func (c *Classifier) stringBody(s string, ev *Observation) {
	switch at := c.dispatch.bodyFirst[s[0]]; at {
	case 0:
	case bodyJSON:
		c.jsonBody(trimLeadingSpace(s), ev)
	default:
		c.dispatch.lines[at-1].classify(c, s, ev)
	}
}

// jsonBody looks at a JSON body (white space trimmed): the first declared marker it holds says
// whose it is, and whether it is one record or a wrapper of records. A JSON body with no marker
// costs one substring search per marker, and is never decoded.
func (c *Classifier) jsonBody(s string, ev *Observation) {
	if !strings.HasPrefix(s, "{") {
		return
	}
	if j := c.jsonOf(s); j != nil {
		if strings.Contains(s, j.wrapper) {
			ev.Kind = Wrapper
			return
		}
		j.one(c, s, ev)
	}
}

// jsonOf is the declaration whose marker a JSON body holds first, or nil.
func (c *Classifier) jsonOf(s string) *jsonDecl {
	for i := range c.dispatch.json {
		if j := &c.dispatch.json[i]; strings.Contains(s, j.marker) {
			return j
		}
	}
	return nil
}

// trimLeadingSpace drops leading ASCII white space (strings.TrimLeft builds its cut set per call).
func trimLeadingSpace(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n') {
		s = s[1:]
	}
	return s
}
