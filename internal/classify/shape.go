package classify

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// How the classifier tells shapes apart, declared by the files of the shapes. Each classifier file
// declares, next to the code that reads its records:
//
//   - the discriminator keys its shapes look for (declareKey, declareFlag, declareAlias): the few
//     keys whose presence, or value, tells a record of the shape from every other record;
//   - its shapes of structured records (declareShape): which of those keys a record must have, and
//     the function that classifies it;
//   - the Log Analytics tables it reads (declareTable): Sentinel's Type column names them;
//   - what it reads in a string or bytes body: JSON with a marker in it (declareJSON), or a text
//     line starting with one of some bytes (declareLine);
//   - the wrappers of records it reads (declareWrapper), which Unwrap opens.
//
// Each declaration belongs to a part (see part), or to always for the seed's. Files declare in
// their init functions (package variables are initialised before any of them runs: nothing in this
// package may call New from a variable's initialiser). New assembles the
// declarations of the parts that run, in their declared order, into the Classifier: the key masks
// a record's keys are first tested against, the shapes in order, the tables, the JSON markers and
// the first bytes of a body that may matter. A part that does not run costs nothing: its keys are
// not even looked at.

// always is the part of the seed's shapes, which always run.
const always part = 255

// maxKeys bounds the discriminator keys (a bit each), and maxSlots the values of them a record
// keeps (a key read for its presence alone keeps none).
const (
	maxKeys  = 32
	maxSlots = 10
)

// key is a discriminator key, as a file declared it: its presence bit, and the slot its value is
// kept in (-1 for a key read for its presence alone).
type key struct {
	bit  uint8
	slot int8
}

// keyDecl is a declared key.
type keyDecl struct {
	name string
	part part
	key  key
}

// Declarations, in the order the files make them; New keeps those of the parts that run.
var (
	keyDecls     []keyDecl
	slots        int
	shapeDecls   []shapeDecl
	tableDecls   []tableDecl
	jsonDecls    []jsonDecl
	lineDecls    []lineDecl
	wrapperDecls []wrapperDecl
)

// declareKey declares a discriminator key whose value its shapes read.
func declareKey(name string, p part) key {
	if slots == maxSlots {
		panic("classify: more than maxSlots discriminator values")
	}
	slots++
	return addKey(name, p, int8(slots-1))
}

// declareFlag declares a discriminator key whose presence alone its shapes read.
func declareFlag(name string, p part) key { return addKey(name, p, -1) }

// declareAlias declares another spelling of key of: a key of its own (its presence is its own),
// whose value goes to of's slot. The first value found of either is the slot's.
func declareAlias(name string, of key, p part) key { return addKey(name, p, of.slot) }

func addKey(name string, p part, slot int8) key {
	if len(keyDecls) == maxKeys {
		panic("classify: more than maxKeys discriminator keys")
	}
	if name == "" || len(name) >= 64 || name[0] < 'A' || name[0]-'A' >= 64 {
		panic(fmt.Sprintf("classify: discriminator key %q: 1 to 63 bytes, starting with a letter", name))
	}
	k := key{bit: uint8(len(keyDecls)), slot: slot}
	keyDecls = append(keyDecls, keyDecl{name, p, k})
	return k
}

// discriminators are the discriminator keys found in one pass over a record: which ones, and the
// first value of each that keeps one.
type discriminators struct {
	seen  uint32 // bit k.bit: key k found
	slots uint32 // bit k.slot: a value of key k (or an alias) kept
	vals  [maxSlots]field
}

// has reports whether the record has key k.
func (d *discriminators) has(k key) bool { return d.seen>>(k.bit&31)&1 != 0 }

// value is the value of key k (and its aliases) found first; the zero field when none was.
func (d *discriminators) value(k key) field {
	if k.slot < 0 {
		return field{}
	}
	return d.vals[k.slot%maxSlots]
}

// clear forgets what was found, touching only the values that were kept.
func (d *discriminators) clear() {
	for s := d.slots; s != 0; s &= s - 1 {
		d.vals[bits.TrailingZeros32(s)%maxSlots] = field{}
	}
	d.seen, d.slots = 0, 0
}

// shapeDecl is a shape of structured records: one whose record has every key of all and, when any
// has keys, one of those. classify is given a record of the shape, with ev reset, and says whether
// the record was the shape's (whatever it made of it): if not, the next shape in order is tried.
// Shapes are tried in the order of their numbers.
type shapeDecl struct {
	order    int
	part     part
	all, any []key
	classify func(c *Classifier, in input, ev *Observation) bool
}

func declareShape(s shapeDecl) { shapeDecls = append(shapeDecls, s) }

// tableDecl is a Log Analytics table (Sentinel's Type column, compared without case) and how to
// classify its rows.
type tableDecl struct {
	name     string
	part     part
	classify func(c *Classifier, in input, ev *Observation)
}

func declareTable(t tableDecl) { tableDecls = append(tableDecls, t) }

// jsonDecl is what a JSON body (a string, or bytes) of a shape holds: marker is a substring every
// such body has, and the JSON decoder never sees a body without one; a body that also has wrapper
// is a wrapper of records (Classify says Wrapper, unwrap yields them), any other is one record
// (one classifies it). Markers are tried in the order of their numbers.
type jsonDecl struct {
	order           int
	part            part
	marker, wrapper string
	one             func(c *Classifier, s string, ev *Observation)
	unwrap          func(c *Classifier, s string, ev *Observation, yield func(*Observation))
}

func declareJSON(j jsonDecl) { jsonDecls = append(jsonDecls, j) }

// lineDecl is a text line in a string body that starts with one of the bytes of first (and is no
// JSON), and how to classify it.
type lineDecl struct {
	part     part
	first    string
	classify func(c *Classifier, s string, ev *Observation)
}

func declareLine(l lineDecl) { lineDecls = append(lineDecls, l) }

// wrapperDecl is a wrapper of records that arrives as a map (a JSON parse upstream): the key that
// holds its array of records, and how to classify one of them. Keys are looked for in the order of
// their numbers.
type wrapperDecl struct {
	order   int
	key     string
	part    part
	element func(c *Classifier, m pcommon.Map, ev *Observation)
}

func declareWrapper(w wrapperDecl) { wrapperDecls = append(wrapperDecls, w) }

// keyEntry is a key a Classifier looks for, with its first byte (compared before the whole name:
// most keys of a length are told apart by it without a call).
type keyEntry struct {
	first byte
	key   key
	name  string
}

// shape is a shapeDecl as a Classifier tries it.
type shape struct {
	all, any uint32
	classify func(c *Classifier, in input, ev *Observation) bool
}

// dispatch is what New assembles of the declarations of the parts that run.
type dispatch struct {
	// lengths has bit n set when some key is n bytes long, firsts bit b-'A' when some key starts
	// with byte b: the inlined first test of every key of every record, on two words the loop
	// keeps in registers. byLength[n] has bit b-'A' set when some key n bytes long starts with b:
	// the second test, of the few keys that pass the first.
	lengths, firsts uint64
	byLength        [64]uint64
	keys            [64][]keyEntry // by length
	shapes          []shape
	tables          []tableDecl
	json            []jsonDecl
	wrappers        []wrapperDecl
	// bodyFirst says, for the first byte of a string body, what may read it: 0 nothing, jsonBody
	// JSON, or 1 + the index in lines of the line that does.
	bodyFirst [256]uint8
	lines     []lineDecl
}

// bodyJSON marks in shapes.bodyFirst the bytes a JSON body may start with.
const bodyJSON = 255

// assemble fills c.dispatch with the declarations of the parts that run.
func (c *Classifier) assemble() {
	on := func(p part) bool { return p == always || c.runs(p) }
	s := &c.dispatch
	for _, k := range keyDecls {
		if on(k.part) {
			s.lengths |= 1 << len(k.name)
			s.firsts |= 1 << (k.name[0] - 'A')
			s.byLength[len(k.name)] |= 1 << (k.name[0] - 'A')
			s.keys[len(k.name)] = append(s.keys[len(k.name)], keyEntry{k.name[0], k.key, k.name})
		}
	}
	mask := func(ks []key) (m uint32) {
		for _, k := range ks {
			m |= 1 << k.bit
		}
		return m
	}
	decls := slices.Clone(shapeDecls)
	slices.SortStableFunc(decls, func(a, b shapeDecl) int { return cmp.Compare(a.order, b.order) })
	for _, d := range decls {
		if on(d.part) {
			s.shapes = append(s.shapes, shape{all: mask(d.all), any: mask(d.any), classify: d.classify})
		}
	}
	for _, t := range tableDecls {
		if on(t.part) {
			s.tables = append(s.tables, t)
		}
	}
	for _, j := range jsonDecls {
		if on(j.part) {
			s.json = append(s.json, j)
		}
	}
	slices.SortStableFunc(s.json, func(a, b jsonDecl) int { return cmp.Compare(a.order, b.order) })
	if len(s.json) > 0 {
		for _, b := range []byte("{ \t\r\n") {
			s.bodyFirst[b] = bodyJSON
		}
	}
	for _, l := range lineDecls {
		if on(l.part) {
			s.lines = append(s.lines, l)
			for _, b := range []byte(l.first) {
				if s.bodyFirst[b] == 0 {
					s.bodyFirst[b] = uint8(len(s.lines))
				}
			}
		}
	}
	for _, w := range wrapperDecls {
		if on(w.part) {
			s.wrappers = append(s.wrappers, w)
		}
	}
	slices.SortStableFunc(s.wrappers, func(a, b wrapperDecl) int { return cmp.Compare(a.order, b.order) })
}

// maybeDiscriminator is the inlined first test of every key: whether some discriminator key has its
// length and some its first byte (an application's "http.method" is as long as some other shape's
// key).
func maybeDiscriminator(k string, lengths, firsts uint64) bool {
	return len(k) < 64 && lengths&(uint64(1)<<len(k)) != 0 &&
		k[0]-'A' < 64 && firsts&(uint64(1)<<(k[0]-'A')) != 0
}

// isDiscriminator is the second test, of a key that passed the first: whether some discriminator
// key has its length and its first byte.
func (s *dispatch) isDiscriminator(k string) bool {
	return s.byLength[len(k)&63]&(uint64(1)<<((k[0]-'A')&63)) != 0
}

// note records k when it is a discriminator key of the Classifier.
func (s *dispatch) note(d *discriminators, k string, v pcommon.Value) {
	es, c0 := s.keys[len(k)&63], k[0]
	for i := range es {
		if e := &es[i]; e.first == c0 && e.name == k {
			d.seen |= 1 << (e.key.bit & 31)
			if slot := e.key.slot; slot >= 0 && d.slots>>(slot&31)&1 == 0 {
				d.vals[slot%maxSlots] = field{v}
				d.slots |= 1 << (slot & 31)
			}
			return
		}
	}
}
