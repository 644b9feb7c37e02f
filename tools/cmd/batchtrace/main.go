// Command batchtrace reads an execution trace in which each batch is a region "batch" and a
// checkpoint compaction a region "compaction" (go test -bench CheckpointTracked -args
// -checkpoint.trace=FILE writes one), and says where the batches' time went: running (of which GC
// mark assists), waiting for a CPU once runnable, blocked (by reason: a lock, a channel), in system
// calls, and how much of it overlapped a stop-the-world pause or a GC mark phase. Batches that
// overlap the compaction are told apart from the others (quiet). For the slowest it says what was
// blocking: the stack where the batch goroutine waited and which goroutines ran meanwhile; and for
// each long stop-the-world pause, which goroutines were still running into it.
//
//	batchtrace [-slowest 10] [-stacks] trace.out
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/exp/trace"
)

// span is an interval of the trace.
type span struct {
	from, to trace.Time
	name     string
}

func (s span) overlap(o span) time.Duration {
	f, t := max(s.from, o.from), min(s.to, o.to)
	if t <= f {
		return 0
	}
	return t.Sub(f)
}

// batch is one "batch" region and where its time went.
type batch struct {
	span
	running, assist, runnable, syscall time.Duration
	blocked                            map[string]time.Duration
	stw, gcMark                        time.Duration
	busy                               bool     // overlaps a compaction
	waits                              []string // long waits: where, and what ran meanwhile
}

// goroutine is what the reader tracks of one goroutine.
type goroutine struct {
	state  trace.GoState
	since  trace.Time
	reason string
	stack  string // where it last stopped running
	name   string // its outermost frame
	assist trace.Time
	inGC   bool
	runs   []span // when it ran
	batch  *batch // the batch region it is in
}

func main() {
	slowest := flag.Int("slowest", 10, "how many of the slowest batches to break down, per phase")
	stacks := flag.Bool("stacks", false, "print the stacks where the slowest batches waited")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: batchtrace [-slowest N] [-stacks] trace.out")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose
	r, err := trace.NewReader(f)
	if err != nil {
		log.Fatal(err)
	}

	gs := map[trace.GoID]*goroutine{}
	g := func(id trace.GoID) *goroutine {
		if gs[id] == nil {
			gs[id] = &goroutine{}
		}
		return gs[id]
	}
	var (
		stws, marks, compactions []span
		done                     []*batch
		stwOpen                             = map[string]trace.Time{}
		markOpen                 trace.Time = -1
		compactionOpen                      = map[trace.GoID]trace.Time{}
		pending                  []*batch   // batches that waited long: "ran meanwhile" is filled at the end
		pendingWait              []span
	)
	// account adds the time since gr's last transition to its batch.
	account := func(gr *goroutine, now trace.Time) {
		b := gr.batch
		if b == nil {
			return
		}
		from := max(gr.since, b.from)
		if now <= from {
			return
		}
		d := now.Sub(from)
		switch gr.state {
		case trace.GoRunning:
			b.running += d
		case trace.GoRunnable:
			b.runnable += d
		case trace.GoWaiting:
			b.blocked[gr.reason] += d
		case trace.GoSyscall:
			b.syscall += d
		}
		if gr.state != trace.GoRunning && gr.state != trace.GoNotExist && d > 2*time.Millisecond {
			what := map[trace.GoState]string{trace.GoRunnable: "waiting for a CPU", trace.GoWaiting: "blocked (" + gr.reason + ")",
				trace.GoSyscall: "in a system call"}[gr.state]
			b.waits = append(b.waits, fmt.Sprintf("%s %.2f ms, from %.2f ms into the batch, at\n%s", what, ms(d), ms(from.Sub(b.from)), gr.stack))
			pending = append(pending, b)
			pendingWait = append(pendingWait, span{from: from, to: now})
		}
	}
	addAssist := func(gr *goroutine, from, to trace.Time) {
		if b := gr.batch; b != nil && to > max(from, b.from) {
			b.assist += to.Sub(max(from, b.from))
		}
	}
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		now := ev.Time()
		switch ev.Kind() {
		case trace.EventStateTransition:
			st := ev.StateTransition()
			if st.Resource.Kind != trace.ResourceGoroutine {
				continue
			}
			gr := g(st.Resource.Goroutine())
			account(gr, now)
			from, to := st.Goroutine()
			if gr.name == "" && from == trace.GoRunning {
				// Its own stack (a goroutine's first transition carries its creator's): the
				// outermost frame is the function it runs.
				for fr := range ev.Stack().Frames() {
					gr.name = fr.Func
				}
			}
			if from == trace.GoRunning && to != trace.GoRunning {
				if n := len(gr.runs); n > 0 && gr.runs[n-1].to < 0 {
					gr.runs[n-1].to = now
				}
				gr.stack = ev.Stack().String()
			}
			if to == trace.GoRunning && (len(gr.runs) == 0 || gr.runs[len(gr.runs)-1].to >= 0) {
				gr.runs = append(gr.runs, span{from: now, to: -1})
			}
			if to == trace.GoSyscall {
				gr.stack = ev.Stack().String()
			}
			gr.state, gr.since, gr.reason = to, now, st.Reason
		case trace.EventRangeBegin, trace.EventRangeActive:
			name := ev.Range().Name
			switch {
			case strings.HasPrefix(name, "stop-the-world"):
				stwOpen[name] = now
			case name == "GC concurrent mark phase":
				markOpen = now
			case name == "GC mark assist" && ev.Range().Scope.Kind == trace.ResourceGoroutine:
				gr := g(ev.Goroutine())
				gr.assist, gr.inGC = now, true
			}
		case trace.EventRangeEnd:
			name := ev.Range().Name
			switch {
			case strings.HasPrefix(name, "stop-the-world"):
				if t, ok := stwOpen[name]; ok {
					stws = append(stws, span{from: t, to: now, name: strings.TrimPrefix(name, "stop-the-world ")})
					delete(stwOpen, name)
				}
			case name == "GC concurrent mark phase":
				if markOpen >= 0 {
					marks = append(marks, span{from: markOpen, to: now})
				}
				markOpen = -1
			case name == "GC mark assist" && ev.Range().Scope.Kind == trace.ResourceGoroutine:
				gr := g(ev.Goroutine())
				if gr.inGC {
					addAssist(gr, gr.assist, now)
				}
				gr.inGC = false
			}
		case trace.EventRegionBegin:
			gr := g(ev.Goroutine())
			switch ev.Region().Type {
			case "batch":
				account(gr, now)
				gr.since = now
				gr.batch = &batch{span: span{from: now}, blocked: map[string]time.Duration{}}
			case "compaction":
				compactionOpen[ev.Goroutine()] = now
			}
		case trace.EventRegionEnd:
			gr := g(ev.Goroutine())
			switch ev.Region().Type {
			case "batch":
				if b := gr.batch; b != nil {
					account(gr, now)
					gr.since = now
					if gr.inGC {
						addAssist(gr, gr.assist, now)
						gr.assist = now
					}
					b.to = now
					done = append(done, b)
				}
				gr.batch = nil
			case "compaction":
				compactions = append(compactions, span{from: compactionOpen[ev.Goroutine()], to: now})
			}
		}
	}
	if len(done) == 0 {
		log.Fatal("no region \"batch\" in the trace")
	}
	for _, b := range done {
		for _, c := range compactions {
			b.busy = b.busy || b.overlap(c) > 0
		}
		for _, s := range stws {
			b.stw += b.overlap(s)
		}
		for _, m := range marks {
			b.gcMark += b.overlap(m)
		}
	}
	// What ran while a batch waited long.
	for i, b := range pending {
		b.waits[countBefore(pending[:i], b)] += "  ran meanwhile: " + ran(gs, pendingWait[i]) + "\n"
	}

	for _, busy := range []bool{false, true} {
		var sel []*batch
		for _, b := range done {
			if b.busy == busy {
				sel = append(sel, b)
			}
		}
		if len(sel) == 0 {
			continue
		}
		report(sel, map[bool]string{false: "quiet", true: "during a compaction"}[busy], *slowest, *stacks)
	}
	fmt.Println("stop-the-world pauses over 1 ms, and the goroutines that ran into them:")
	var total time.Duration
	for _, s := range stws {
		total += s.to.Sub(s.from)
		if s.to.Sub(s.from) > time.Millisecond {
			fmt.Printf("  %s %.2f ms: %s\n", s.name, ms(s.to.Sub(s.from)), ran(gs, s))
		}
	}
	fmt.Printf("  %d pauses, %.2f ms in all\n", len(stws), ms(total))
	fmt.Printf("GC mark phases: %d", len(marks))
	for _, m := range marks {
		fmt.Printf(" %.0f", ms(m.to.Sub(m.from)))
	}
	fmt.Println(" ms")
	for _, c := range compactions {
		fmt.Printf("compaction: %.2f s\n", c.to.Sub(c.from).Seconds())
	}
}

// countBefore is how many times b occurs in bs: the index of b's next wait.
func countBefore(bs []*batch, b *batch) int {
	n := 0
	for _, o := range bs {
		if o == b {
			n++
		}
	}
	return n
}

// report prints the breakdown of the batches of one phase.
func report(sel []*batch, phase string, slowest int, stacks bool) {
	walls := make([]time.Duration, len(sel))
	var sum batch
	sum.blocked = map[string]time.Duration{}
	inMark := 0
	for i, b := range sel {
		walls[i] = b.to.Sub(b.from)
		sum.running += b.running
		sum.assist += b.assist
		sum.runnable += b.runnable
		sum.syscall += b.syscall
		sum.stw += b.stw
		for k, v := range b.blocked {
			sum.blocked[k] += v
		}
		if b.gcMark > 0 {
			inMark++
		}
	}
	slices.Sort(walls)
	n := float64(len(sel))
	fmt.Printf("%s: %d batches, p50 %.2f ms, p99 %.2f ms, max %.2f ms; %d overlap a GC mark phase\n", phase, len(sel),
		ms(walls[len(walls)/2]), ms(walls[len(walls)*99/100]), ms(walls[len(walls)-1]), inMark)
	fmt.Printf("  mean per batch: running %.3f ms (GC assists %.3f), waiting for a CPU %.3f, system calls %.3f, blocked %s; overlapping stop-the-world %.3f ms\n",
		ms(sum.running)/n, ms(sum.assist)/n, ms(sum.runnable)/n, ms(sum.syscall)/n, blockedString(sum.blocked, n), ms(sum.stw)/n)
	sort.Slice(sel, func(i, j int) bool { return sel[i].to.Sub(sel[i].from) > sel[j].to.Sub(sel[j].from) })
	fmt.Printf("  the %d slowest:\n", min(slowest, len(sel)))
	for _, b := range sel[:min(slowest, len(sel))] {
		fmt.Printf("    %.2f ms: running %.2f (GC assists %.2f), waiting for a CPU %.2f, system calls %.2f, blocked %s, stop-the-world %.2f, in a GC mark phase %.2f\n",
			ms(b.to.Sub(b.from)), ms(b.running), ms(b.assist), ms(b.runnable), ms(b.syscall), blockedString(b.blocked, 1), ms(b.stw), ms(b.gcMark))
		for _, w := range b.waits {
			if !stacks {
				w = firstAndLastLine(w)
			}
			fmt.Print(indent(w, "      "))
		}
	}
}

func blockedString(m map[string]time.Duration, n float64) string {
	if len(m) == 0 {
		return "0"
	}
	var parts []string
	for k, v := range m {
		if k == "" {
			k = "other"
		}
		parts = append(parts, fmt.Sprintf("%.3f (%s)", ms(v)/n, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// ran lists the goroutines that ran for more than half a millisecond during s.
func ran(gs map[trace.GoID]*goroutine, s span) string {
	var out []string
	for id, gr := range gs {
		var d time.Duration
		for _, r := range gr.runs {
			if r.to < 0 {
				r.to = s.to
			}
			d += r.overlap(s)
		}
		if d > 500*time.Microsecond {
			out = append(out, fmt.Sprintf("g%d %s %.2f ms", id, gr.name, ms(d)))
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "none for more than 0.5 ms"
	}
	return strings.Join(out, "; ")
}

func firstAndLastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	out := lines[0] + "\n"
	// The first frame of the stack: where it waited.
	if len(lines) > 2 {
		out += lines[1] + "\n"
	}
	if last := lines[len(lines)-1]; strings.HasPrefix(last, "  ran meanwhile") {
		out += last + "\n"
	}
	return out
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
