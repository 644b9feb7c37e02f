// Command inputs puts one tree's benchmark inputs into another tree of the repository, so that the
// benchmarks of two commits measure the same records. tools/bench/paired.sh runs it on the new side
// of a paired comparison:
//
//	inputs -from OLD_TREE -into NEW_TREE [-helpers signin,sshd,securityEvent,unrelated,accepted]
//
// The inputs are
//   - the realistic mix: the file of internal/loadmix (internal/loadgen before it was renamed) that
//     defines NewMix, copied whole, under the target's package name;
//   - the record builders of the root package's fixtures_test.go that the benchmarks call (the
//     helpers named by -helpers), each replaced by the source's, with its doc comment. A helper is
//     replaced only when both trees have it; imports the replaced helpers need are added, and
//     imports no longer used are dropped.
//
// Nothing else of the target tree changes. The benchmarks' records have been built by different
// code over time (by hand, then by internal/shapes), with other attributes and bodies; without the
// same inputs on both sides a comparison of two commits also compares two sets of records.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// defaultHelpers are the fixture builders the processor's benchmarks call (bench_test.go).
const defaultHelpers = "signin,sshd,securityEvent,unrelated,accepted"

func main() {
	from := flag.String("from", "", "the tree whose inputs are taken")
	into := flag.String("into", "", "the tree the inputs are put into")
	helpers := flag.String("helpers", defaultHelpers, "the fixtures_test.go helpers to replace, comma separated")
	flag.Parse()
	if *from == "" || *into == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: inputs -from TREE -into TREE [-helpers a,b,c]")
		os.Exit(2)
	}
	notes, err := transplant(*from, *into, strings.Split(*helpers, ","))
	for _, n := range notes {
		fmt.Println("inputs:", n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "inputs:", err)
		os.Exit(1)
	}
}

// transplant puts the inputs of tree from into tree into and says what it did.
func transplant(from, into string, helpers []string) ([]string, error) {
	var notes []string
	src, _, err := findMix(from)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	dst, pkg, err := findMix(into)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", into, err)
	}
	if err := copyMix(src, dst, pkg); err != nil {
		return nil, err
	}
	notes = append(notes, fmt.Sprintf("%s <- %s (package %s)", rel(into, dst), rel(from, src), pkg))

	fixtures := "fixtures_test.go"
	replaced, err := replaceHelpers(filepath.Join(from, fixtures), filepath.Join(into, fixtures), helpers)
	if err != nil {
		return notes, err
	}
	return append(notes, fmt.Sprintf("%s: replaced %s", fixtures, strings.Join(replaced, ", "))), nil
}

func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return r
	}
	return path
}

// mixDirs are where the realistic mix has lived, newest first.
var mixDirs = []string{"internal/loadmix", "internal/loadgen"}

// findMix returns the file of tree that defines the function NewMix, and its package name.
func findMix(tree string) (path, pkg string, err error) {
	for _, dir := range mixDirs {
		files, _ := filepath.Glob(filepath.Join(tree, dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.SkipObjectResolution)
			if err != nil {
				return "", "", err
			}
			for _, d := range file.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "NewMix" {
					return f, file.Name.Name, nil
				}
			}
		}
	}
	return "", "", errors.New("no file of " + strings.Join(mixDirs, " or ") + " defines NewMix")
}

// copyMix writes the source file src to dst with its package clause renamed to pkg.
func copyMix(src, dst, pkg string) error {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, src, nil, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return err
	}
	file.Name.Name = pkg
	var b bytes.Buffer
	if err := format.Node(&b, fset, file); err != nil {
		return err
	}
	return os.WriteFile(dst, b.Bytes(), 0o644)
}

// decl is a top-level function or method of a file: its name and its text with its doc comment.
type decl struct {
	start, end int // byte offsets
	text       string
}

// funcs returns the top-level functions and methods of src by name (methods by their own name).
func funcs(fset *token.FileSet, file *ast.File, src []byte) map[string]decl {
	out := map[string]decl{}
	for _, d := range file.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		start := fd.Pos()
		if fd.Doc != nil {
			start = fd.Doc.Pos()
		}
		s, e := fset.Position(start).Offset, fset.Position(fd.End()).Offset
		out[fd.Name.Name] = decl{start: s, end: e, text: string(src[s:e])}
	}
	return out
}

// replaceHelpers replaces, in the file into, each helper of names that both files define by the
// one of the file from, and fixes the imports. It returns the helpers it replaced.
func replaceHelpers(from, into string, names []string) ([]string, error) {
	fromSrc, err := os.ReadFile(from)
	if err != nil {
		return nil, err
	}
	intoSrc, err := os.ReadFile(into)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	fromFile, err := parser.ParseFile(fset, from, fromSrc, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	intoFile, err := parser.ParseFile(fset, into, intoSrc, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	have, want := funcs(fset, intoFile, intoSrc), funcs(fset, fromFile, fromSrc)
	var todo []decl
	var replaced []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		d, ok1 := have[n]
		s, ok2 := want[n]
		if n == "" || !ok1 || !ok2 {
			continue
		}
		todo = append(todo, decl{start: d.start, end: d.end, text: s.text})
		replaced = append(replaced, n)
	}
	if len(todo) == 0 {
		return nil, fmt.Errorf("no helper of %q is in both %s and %s", names, from, into)
	}
	slices.SortFunc(todo, func(a, b decl) int { return b.start - a.start }) // from the end: offsets stay valid
	out := intoSrc
	for _, d := range todo {
		out = slices.Concat(out[:d.start:d.start], []byte(d.text), out[d.end:])
	}
	out, err = fixImports(out, fromFile)
	if err != nil {
		return nil, err
	}
	return replaced, os.WriteFile(into, out, 0o644)
}

// importName is the name a file refers to an import by.
func importName(s *ast.ImportSpec) string {
	if s.Name != nil {
		return s.Name.Name
	}
	p, _ := strconv.Unquote(s.Path.Value)
	parts := strings.Split(p, "/")
	last := parts[len(parts)-1]
	if len(parts) > 1 && len(last) > 1 && last[0] == 'v' && strings.Trim(last[1:], "0123456789") == "" {
		last = parts[len(parts)-2] // a major version suffix
	}
	return last
}

// fixImports drops the imports of src that it no longer refers to and adds those of other that it
// refers to and lacks.
func fixImports(src []byte, other *ast.File) ([]byte, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	ast.Inspect(file, func(n ast.Node) bool {
		if s, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := s.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	have := map[string]bool{}
	var first *ast.GenDecl
	for _, d := range file.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.IMPORT {
			continue
		}
		if first == nil {
			first = g
		}
		g.Specs = slices.DeleteFunc(g.Specs, func(s ast.Spec) bool {
			is := s.(*ast.ImportSpec)
			n := importName(is)
			have[n] = true
			return n != "_" && n != "." && !used[n]
		})
	}
	for _, is := range other.Imports {
		n := importName(is)
		if used[n] && !have[n] {
			if first == nil {
				return nil, errors.New("the target file has no import declaration to add " + is.Path.Value + " to")
			}
			if !first.Lparen.IsValid() {
				first.Lparen = first.TokPos // one import without parentheses: it gets them
			}
			first.Specs = append(first.Specs, &ast.ImportSpec{Name: is.Name, Path: &ast.BasicLit{Kind: token.STRING, Value: is.Path.Value}})
			have[n] = true
		}
	}
	var b bytes.Buffer
	if err := format.Node(&b, fset, file); err != nil {
		return nil, err
	}
	return format.Source(b.Bytes())
}
