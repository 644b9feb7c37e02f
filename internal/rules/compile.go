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
			if !r.Together || !slices.Contains(r.Mergeable, f) {
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
	p.Engine.RuleSet = p.Fingerprint()
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

// Fingerprint names the running rules and the sources each of their counters counts, so that what
// outlives the process (a checkpoint, the shared state in Redis) is read back only under the same
// rules: the numbers alone (thresholds, windows, counter indexes) do not tell rule C from the seed,
// nor rule D from the seed counting both tables together. It is "" for the seed alone, whose state
// was written before rules had names and keeps being read.
func (p *Plan) Fingerprint() string {
	if len(p.Rules) == 1 && p.Rules[0].Rule == &AADThenHost {
		return ""
	}
	var b strings.Builder
	for i, r := range p.Rules {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(r.ID)
		for j, c := range p.Engine.Rules[i].Counters {
			b.WriteByte(",:"[min(j, 1)])
			b.WriteString(p.CounterName(c))
		}
	}
	return b.String()
}
