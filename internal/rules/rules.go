// Package rules holds the correlation rules the processor can run. Each is a value: its Sentinel
// identity, the failure sources it counts (each on its own, as its KQL does), the successes it
// alerts on, the columns its alert projects from the success (its Projection), and its defaults.
// A rule of the same shape ("more than N failures of a source from an address, and a success from
// that address, within one window") is one more value in a file of its own; the engine
// (internal/window) knows rules only as numbers, and Compile turns the rules that run into its
// configuration.
package rules

import (
	"fmt"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
)

// Projection writes the columns of a rule's alert that come from the success that fired it: an
// observation of kind k with the columns c (in the order k's declaration lists them), from the
// address ip (normalised). It writes them as the rule's KQL projects them, and returns the alert's
// host.name and user.name ("" host: the success names none). A rule declares its own; rules that
// project the same row share one.
type Projection func(a pcommon.Map, k classify.Kind, c *classify.Columns, ip string) (host, user string)

// Rule is one correlation rule.
type Rule struct {
	ID         string // the Sentinel analytic rule id
	Short      string // a short name the configuration accepts besides the id
	Name       string
	Version    string // of this streaming implementation of the rule
	Reason     string // the alert's Reason column and body
	Severity   string
	Tactics    []string
	Techniques []string

	// Failures are the observation kinds the rule counts per address as failures, each on its own
	// (a kind is a failure source: its Source names it in the alert).
	Failures []classify.Kind
	// Successes are the observation kinds the rule alerts on.
	Successes []classify.Kind
	// Mergeable are the failure kinds that count_tables: together counts as one (none: the
	// setting does not apply to the rule).
	Mergeable []classify.Kind
	// Project writes the success's columns of the alert.
	Project Projection
	// FailureCount, FirstFailure and LastFailure name the alert's columns that say how many
	// failures fired it and when; FailureSource the column naming the source that crossed the
	// threshold.
	FailureSource, FailureCount, FirstFailure, LastFailure string
}

// All is every rule the processor can run, the seed first: each rule's file adds it (Register).
var All []*Rule

// Register adds a rule to All. Each rule's file calls it from an init function, so that a rule is
// its file alone: no list names it. The seed stays first whatever order the files register in.
func Register(r *Rule) {
	All = append(All, r)
	slices.SortStableFunc(All, func(a, b *Rule) int {
		if a == &AADThenHost {
			return -1
		}
		if b == &AADThenHost {
			return 1
		}
		return 0
	})
}

// Default is what runs when the configuration names no rule: the seed.
var Default = []*Rule{&AADThenHost}

// Find returns the rule of a Sentinel id or short name (case-insensitive).
func Find(name string) (*Rule, bool) {
	for _, r := range All {
		if strings.EqualFold(name, r.ID) || strings.EqualFold(name, r.Short) {
			return r, true
		}
	}
	return nil, false
}

// Names lists the accepted names, for error messages.
func Names() string {
	var out []string
	for _, r := range All {
		out = append(out, fmt.Sprintf("%s (%s)", r.Short, r.ID))
	}
	return strings.Join(out, ", ")
}
