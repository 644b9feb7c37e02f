package rules

import (
	"slices"
	"strings"
	"time"

	"github.com/secops-otel/aadhostlogincorrelation/internal/window"
)

// Running is a rule with the settings it runs with.
type Running struct {
	*Rule
	Threshold int
	Window    time.Duration
	Suppress  time.Duration
	// Together counts the rule's Mergeable sources as one (count_tables: together).
	Together bool
}

// Plan is how a set of running rules maps onto the engine: which counters each failure feeds and
// which rules each success is a success of.
type Plan struct {
	Rules []Running
	// Engine holds the rules as the engine runs them (bounds are the caller's).
	Engine window.Config
	// Counters[c] are the failure sources counter c counts.
	Counters [][]Failure
	// FailureCounters[f] are the counters a failure of source f goes to (none: no rule counts it).
	FailureCounters [NumFailures][]int
	// SuccessRules[s] are the indexes in Rules of the rules a success of kind s is a success of.
	SuccessRules [NumSuccesses][]int
}

// Compile plans rules. A counter is shared by rules that count the same sources with the same
// threshold and window: such failures are kept once.
func Compile(rules []Running) Plan {
	p := Plan{Rules: rules}
	type counterKey struct {
		sources   string
		threshold int
		window    time.Duration
	}
	ids := map[counterKey]int{}
	for i, r := range rules {
		var groups [][]Failure
		if r.Together && len(r.Mergeable) > 0 {
			groups = append(groups, r.Mergeable)
		}
		for _, f := range r.Failures {
			if !(r.Together && slices.Contains(r.Mergeable, f)) {
				groups = append(groups, []Failure{f})
			}
		}
		er := window.Rule{Threshold: r.Threshold, Window: int64(r.Window), Suppress: int64(r.Suppress)}
		for _, g := range groups {
			k := counterKey{sourceNames(g), r.Threshold, r.Window}
			id, ok := ids[k]
			if !ok {
				id = len(p.Counters)
				ids[k] = id
				p.Counters = append(p.Counters, g)
				for _, f := range g {
					p.FailureCounters[f] = append(p.FailureCounters[f], id)
				}
			}
			er.Counters = append(er.Counters, id)
		}
		p.Engine.Rules = append(p.Engine.Rules, er)
		for _, s := range r.Successes {
			p.SuccessRules[s] = append(p.SuccessRules[s], i)
		}
	}
	return p
}

// CounterName names counter c as alerts do: its source's table, or the tables counted together
// joined by "+".
func (p *Plan) CounterName(c int) string { return sourceNames(p.Counters[c]) }

func sourceNames(g []Failure) string {
	names := make([]string, len(g))
	for i, f := range g {
		names[i] = f.String()
	}
	return strings.Join(names, "+")
}

// Counts reports whether any running rule counts failures of f.
func (p *Plan) Counts(f Failure) bool { return len(p.FailureCounters[f]) > 0 }

// Takes reports whether any running rule alerts on successes of s.
func (p *Plan) Takes(s Success) bool { return len(p.SuccessRules[s]) > 0 }
