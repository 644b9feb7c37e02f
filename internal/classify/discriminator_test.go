package classify

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMaybeDiscriminator holds the inlined first test of a key against the keys the classifier
// looks for: with every part running, every declared key passes it and common keys of application
// logs do not; with the seed alone, the keys of the parts that do not run are not looked for (a
// part that does not run costs nothing), and note finds every key that runs.
func TestMaybeDiscriminator(t *testing.T) {
	all, seed := New(Rules{Kinds: allKinds()}), New(Rules{})
	for _, k := range keyDecls {
		s := &all.dispatch
		assert.True(t, maybeDiscriminator(k.name, s.lengths, s.firsts) && s.isDiscriminator(k.name), "%q, every part running", k.name)
		var d discriminators
		s.note(&d, k.name, pcommonStr(k.name))
		assert.True(t, d.has(k.key), "note finds %q", k.name)

		s = &seed.dispatch
		d = discriminators{}
		s.note(&d, k.name, pcommonStr(k.name))
		assert.Equal(t, k.part == always, d.has(k.key), "%q with the seed alone", k.name)
	}
	for _, k := range []string{"", "http.method", "http.status_code", "url.path", "service.name", "trace_id", "Xtra", "\xff\xff\xff\xff"} {
		s := &all.dispatch
		if k != "" && maybeDiscriminator(k, s.lengths, s.firsts) && s.isDiscriminator(k) {
			var d discriminators
			s.note(&d, k, pcommonStr(k))
			assert.Zero(t, d.seen, "%q is no key", k)
		}
	}
	for _, k := range []string{"http.method", "url.path", "trace_id"} {
		s := &all.dispatch
		assert.False(t, maybeDiscriminator(k, s.lengths, s.firsts) && s.isDiscriminator(k), "%q", k)
	}
	// The seed alone does not look at a key only the console logins read.
	s := &seed.dispatch
	assert.False(t, maybeDiscriminator("eventSource", s.lengths, s.firsts) && s.isDiscriminator("eventSource"), "eventSource, the seed alone")
}

// TestDeclarationsAreConsistent: every declared key is read by some shape of its part, aliases
// share a slot, and the shapes of one order are of one file (their order decides between them).
func TestDeclarationsAreConsistent(t *testing.T) {
	names := map[string]bool{}
	for _, k := range keyDecls {
		require.False(t, names[k.name], "key %q declared twice", k.name)
		names[k.name] = true
	}
	orders := map[int]bool{}
	for _, s := range shapeDecls {
		require.False(t, orders[s.order], "two shapes of order %d", s.order)
		orders[s.order] = true
		for _, k := range slices.Concat(s.all, s.any) {
			require.Less(t, int(k.bit), len(keyDecls))
			require.Equal(t, s.part, keyDecls[k.bit].part, "a shape reads a key of another part")
		}
	}
}
