package rules

import (
	"slices"
	"strings"
	"time"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
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

// Plan is how a set of running rules maps onto the engine: which counters an observation of each
// kind feeds as a failure, and which rules it is a success of. A kind may be both, for different
// rules: observations are role-neutral, the rules give them their roles.
type Plan struct {
	Rules []Running
	// Engine holds the rules as the engine runs them (bounds are the caller's).
	Engine window.Config
	// Counters[c] are the kinds counter c counts.
	Counters [][]classify.Kind
	// FailureCounters[k] are the counters an observation of kind k goes to as a failure (none: no
	// rule counts it).
	FailureCounters [classify.MaxKinds][]int
	// SuccessRules[k] are the indexes in Rules of the rules an observation of kind k is a success
	// of (none: no rule takes it).
	SuccessRules [classify.MaxKinds][]int
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
		var groups [][]classify.Kind
		if r.Together && len(r.Mergeable) > 0 {
			groups = append(groups, r.Mergeable)
		}
		for _, f := range r.Failures {
			if !r.Together || !slices.Contains(r.Mergeable, f) {
				groups = append(groups, []classify.Kind{f})
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

// CounterName names counter c as alerts do: its kind's source (a Sentinel table), or the sources
// counted together joined by "+".
func (p *Plan) CounterName(c int) string { return sourceNames(p.Counters[c]) }

func sourceNames(g []classify.Kind) string {
	names := make([]string, len(g))
	for i, k := range g {
		names[i] = k.Source()
	}
	return strings.Join(names, "+")
}

// Counts reports whether any running rule counts observations of kind k as failures.
func (p *Plan) Counts(k classify.Kind) bool { return len(p.FailureCounters[k]) > 0 }

// Takes reports whether any running rule alerts on observations of kind k.
func (p *Plan) Takes(k classify.Kind) bool { return len(p.SuccessRules[k]) > 0 }

// Kinds lists the kinds the running rules use, as failures or as successes: what the classifier
// is asked for.
func (p *Plan) Kinds() []classify.Kind {
	var ks []classify.Kind
	for k := range classify.NumKinds() {
		if p.Counts(classify.Kind(k)) || p.Takes(classify.Kind(k)) {
			ks = append(ks, classify.Kind(k))
		}
	}
	return ks
}

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
