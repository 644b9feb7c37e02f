package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// write creates the files of a tree under dir.
func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// An old tree (the mix in internal/loadgen, helpers that build records by hand) and a new one (the
// mix in internal/loadmix, helpers that call a shapes package): the new tree gets the old mix under
// its own package name and the old helpers, keeps its other helpers, and its imports follow.
const oldFixtures = `package root

import (
	"strings"
	"time"
)

// signin is the old sign-in.
func (b *batch) signin(ip string, t time.Time) *batch {
	b.put("old-signin " + strings.ToUpper(ip))
	return b
}

func accepted(user string) string { return "Accepted password for " + user }

// onlyOld is not in the new tree: it is not copied.
func onlyOld() {}
`

const newFixtures = `package root

import (
	"time"

	"example.com/repo/internal/shapes"
)

type batch struct{ recs []string }

func (b *batch) put(s string) { b.recs = append(b.recs, s) }

// signin is the new sign-in.
func (b *batch) signin(ip string, t time.Time) *batch {
	b.put(shapes.SignIn(ip, t))
	return b
}

// keep stays.
func keep() time.Duration { return time.Second }

func accepted(user string) string { return shapes.Accepted(user) }
`

func TestTransplant(t *testing.T) {
	old, cur := t.TempDir(), t.TempDir()
	write(t, old, map[string]string{
		"fixtures_test.go":           oldFixtures,
		"internal/loadgen/mix.go":    "// Package loadgen is old.\npackage loadgen\n\nfunc NewMix() int { return 1 }\n",
		"internal/loadgen/send.go":   "package loadgen\n\nfunc Send() {}\n",
		"internal/loadgen/x_test.go": "package loadgen\n\nfunc NewMix() {}\n",
	})
	write(t, cur, map[string]string{
		"fixtures_test.go":          newFixtures,
		"internal/loadmix/other.go": "package loadmix\n\nfunc Other() {}\n",
		"internal/loadmix/mix.go":   "package loadmix\n\nfunc NewMix() int { return 2 }\n",
	})

	notes, err := transplant(old, cur, strings.Split(defaultHelpers+",keep,onlyOld", ","))
	require.NoError(t, err)
	require.Equal(t, []string{
		"internal/loadmix/mix.go <- internal/loadgen/mix.go (package loadmix)",
		"fixtures_test.go: replaced signin, accepted",
	}, notes)

	require.Equal(t, "// Package loadgen is old.\npackage loadmix\n\nfunc NewMix() int { return 1 }\n", read(t, filepath.Join(cur, "internal/loadmix/mix.go")))
	require.Equal(t, "package loadmix\n\nfunc Other() {}\n", read(t, filepath.Join(cur, "internal/loadmix/other.go")))
	require.Equal(t, `package root

import (
	"strings"
	"time"
)

type batch struct{ recs []string }

func (b *batch) put(s string) { b.recs = append(b.recs, s) }

// signin is the old sign-in.
func (b *batch) signin(ip string, t time.Time) *batch {
	b.put("old-signin " + strings.ToUpper(ip))
	return b
}

// keep stays.
func keep() time.Duration { return time.Second }

func accepted(user string) string { return "Accepted password for " + user }
`, read(t, filepath.Join(cur, "fixtures_test.go")))
}

// With the same inputs on both sides nothing changes: the harness can always transplant.
func TestTransplantSameInputsChangesNothing(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	files := map[string]string{
		"fixtures_test.go":        newFixtures,
		"internal/loadmix/mix.go": "package loadmix\n\nfunc NewMix() int { return 2 }\n",
	}
	write(t, a, files)
	write(t, b, files)
	_, err := transplant(a, b, strings.Split(defaultHelpers, ","))
	require.NoError(t, err)
	for name, text := range files {
		require.Equal(t, text, read(t, filepath.Join(b, name)), name)
	}
}

func TestTransplantErrors(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	write(t, a, map[string]string{"fixtures_test.go": newFixtures, "internal/loadmix/mix.go": "package loadmix\n\nfunc NewMix() {}\n"})
	write(t, b, map[string]string{"fixtures_test.go": newFixtures})
	_, err := transplant(a, b, []string{"signin"})
	require.ErrorContains(t, err, "defines NewMix")

	write(t, b, map[string]string{"internal/loadmix/mix.go": "package loadmix\n\nfunc NewMix() {}\n"})
	_, err = transplant(a, b, []string{"nosuchhelper"})
	require.ErrorContains(t, err, "no helper")
}

func TestImportName(t *testing.T) {
	for path, want := range map[string]string{
		`"time"`: "time",
		`"go.opentelemetry.io/collector/pdata/pcommon"`: "pcommon",
		`"math/rand/v2"`:   "rand",
		`"example.com/v2"`: "example.com",
	} {
		f := "package p\nimport " + path + "\n"
		got := importNameOf(t, f)
		require.Equal(t, want, got, path)
	}
}

func importNameOf(t *testing.T, src string) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.ImportsOnly)
	require.NoError(t, err)
	return importName(f.Imports[0])
}
