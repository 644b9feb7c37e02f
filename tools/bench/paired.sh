#!/usr/bin/env bash
# Paired benchmark comparison of two commits of this repository, on one machine:
#
#   tools/bench/paired.sh [-o DIR] [-t BENCHTIME] [-i old|new|own] [-C] OLD NEW [ROUNDS]
#
# OLD and NEW are any commits (a hash, a branch, main~3); ROUNDS defaults to 10. What it does:
#
#  1. checks out OLD and NEW as two worktrees in a fresh temporary folder (the working copy is not
#     touched, and both worktrees are removed at the end);
#  2. puts the benchmark inputs of one side into the other (-i; by default OLD's into NEW): the
#     realistic mix (internal/loadmix, or internal/loadgen before it was renamed) and the record
#     builders of the root package's fixtures_test.go, with tools/bench/inputs. The benchmarks'
#     records have been built by different code over time; without this, two commits would also be
#     measured on two sets of records. The change is written to DIR/inputs.diff. -i own keeps each
#     side's own inputs;
#  3. builds each side's test binaries once (go test -c), for every package of PAIRED_BENCH;
#  4. runs ROUNDS rounds, each OLD then NEW, every benchmark once per round (-test.count 1), each
#     binary from its own package folder, with the load average read before and after each round;
#  5. summarises with benchstat (pinned by the Makefile, in .tools/bin), and the per-round ratio
#     NEW/OLD of each benchmark's sec/op (median, and in how many rounds NEW was slower);
#  6. unless -C: counts instructions with cachegrind (valgrind --tool=cachegrind --cache-sim=no),
#     which the machine's load does not change: each benchmark of PAIRED_CG run with
#     -test.benchtime 1000x and 3000x, the difference divided by 2000 (the set-up before the loop
#     cancels out; what the loop does untimed, such as building a batch, is counted). Under
#     cachegrind GOMAXPROCS=1 and GODEBUG=gcstoptheworld=1, so that the counts repeat: valgrind runs
#     one thread at a time, and with two Ps the idle one's spinning in the scheduler adds a varying
#     count (four times the whole count in one run of 200 batches); and a collection that marks
#     while the benchmark runs makes it pay write barriers by when the collection happens to fall
#     (one run of 1000 batches paid 250M instructions of bulkBarrierPreWrite that the run of 3000
#     did not). With the world stopped, a collection costs what its heap costs, and two runs of
#     1000 batches differ by less than 0.05%. It also writes, per benchmark, the instructions per
#     iteration of each function on both sides and their difference (cg_diff, cg_annotate; the
#     lines of inlined functions counted in the function they are inlined into).
#
# ROUNDS 0 skips the timed rounds: instruction counts only.
#
# Results go to DIR (default out/paired/OLD-NEW-TIME, in the git-ignored out/): old.txt and new.txt
# (raw benchmark output, all rounds), rounds/, load.txt, benchstat.txt, ratios.txt, cg/ and
# summary.txt, which holds all of it and is also printed at the end.
#
# Environment:
#   PAIRED_BENCH  what to run, as PKG=REGEX words (default: the processor's figures and the engine's
#                 heap per tracked IP; see below)
#   PAIRED_CG     the benchmarks to count instructions of, as PKG=NAME words
#   PAIRED_CG_N   the two iteration counts of the instruction counts (default "1000 3000")
#   BENCHSTAT     the benchstat binary (default .tools/bin/benchstat, installed when missing)
#   GO            the go command (default go)
set -euo pipefail
set -f # the benchmark regexes are split into words, never globbed

default_bench='.=^(BenchmarkUnrelated|BenchmarkFailures|BenchmarkLogons|BenchmarkMix|BenchmarkRealisticMix|BenchmarkAlertLatencyLone|BenchmarkAlertLatencyInBatch|BenchmarkHeapPerPendingLogon)$
./internal/window=^(BenchmarkHeapPerIPv4_1M|BenchmarkFailureTracked1M)$'
default_cg='.=BenchmarkUnrelated .=BenchmarkFailures .=BenchmarkMix .=BenchmarkRealisticMix .=BenchmarkAlertLatencyInBatch'

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
	exit 2
}

out= benchtime=1s inputs=old cachegrind=1
while getopts "o:t:i:Ch" opt; do
	case $opt in
	o) out=$OPTARG ;;
	t) benchtime=$OPTARG ;;
	i) inputs=$OPTARG ;;
	C) cachegrind=0 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[[ $# -eq 2 || $# -eq 3 ]] || usage
[[ $inputs == old || $inputs == new || $inputs == own ]] || usage
rounds=${3:-10}
GO=${GO:-go}
bench=${PAIRED_BENCH:-$default_bench}
cgspecs=${PAIRED_CG:-$default_cg}
read -r cg_lo cg_hi <<<"${PAIRED_CG_N:-1000 3000}"

root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
old=$(git -C "$root" rev-parse --verify "$1^{commit}")
new=$(git -C "$root" rev-parse --verify "$2^{commit}")
out=${out:-$root/out/paired/${old:0:7}-${new:0:7}-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out/rounds" "$out/cg"
out=$(cd "$out" && pwd)

benchstat=${BENCHSTAT:-$root/.tools/bin/benchstat}
if [[ ! -s $benchstat ]]; then
	version=$(sed -n 's/^BENCHSTAT_VERSION *:= *//p' "$root/Makefile")
	echo "installing benchstat $version into $(dirname "$benchstat")"
	mkdir -p "$(dirname "$benchstat")"
	GOBIN=$(cd "$(dirname "$benchstat")" && pwd) $GO install "golang.org/x/perf/cmd/benchstat@$version"
fi

tmp=$(mktemp -d -t paired.XXXXXX)
cleanup() {
	for side in old new; do
		[[ -d $tmp/$side ]] && git -C "$root" worktree remove --force "$tmp/$side" >/dev/null 2>&1
	done
	rm -rf "$tmp"
	git -C "$root" worktree prune
}
trap cleanup EXIT

loadavg() {
	if [[ -r /proc/loadavg ]]; then cut -d' ' -f1-3 /proc/loadavg; else uptime | sed 's/.*average[s]*: *//; s/,//g'; fi
}

log() { echo "paired: $*" >&2; }

{
	echo "old: $old $(git -C "$root" log -1 --format=%s "$old" | cut -c1-100)"
	echo "new: $new $(git -C "$root" log -1 --format=%s "$new" | cut -c1-100)"
	echo "go: $($GO version)"
	echo "cpus: $(getconf _NPROCESSORS_ONLN)"
	echo "inputs: $inputs; rounds: $rounds; benchtime: $benchtime"
} >"$out/about.txt"

# 1. The two worktrees.
for side in old new; do
	git -C "$root" worktree add --quiet --detach "$tmp/$side" "${!side}"
done

# 2. The same inputs on both sides.
if [[ $inputs != own ]]; then
	other=new
	[[ $inputs == new ]] && other=old
	$GO -C "$root/tools" build -o "$tmp/inputs" ./bench/inputs
	"$tmp/inputs" -from "$tmp/$inputs" -into "$tmp/$other" | tee -a "$out/about.txt" >&2
	git -C "$tmp/$other" diff >"$out/inputs.diff"
fi

# 3. The test binaries, built once. A package is named by its folder: . is root.
pkgname() { local p=${1#./}; p=${p//\//_}; [[ -z $p || $p == . ]] && p=root; echo "$p"; }
pkgs=$( (for spec in $bench $cgspecs; do echo "${spec%%=*}"; done) | sort -u)
for side in old new; do
	for pkg in $pkgs; do
		log "building $side $pkg"
		(cd "$tmp/$side" && $GO test -c -o "$tmp/bin/$side.$(pkgname "$pkg").test" "$pkg")
	done
done

# 4. The rounds, in turn.
: >"$out/old.txt"
: >"$out/new.txt"
echo "load average (1, 5, 15 min) before -> after each round" >"$out/load.txt"
for r in $(seq "$rounds"); do
	before=$(loadavg)
	for side in old new; do
		f=$out/rounds/$r.$side.txt
		: >"$f"
		for spec in $bench; do
			pkg=${spec%%=*} re=${spec#*=}
			log "round $r/$rounds $side $pkg"
			(cd "$tmp/$side/$pkg" && "$tmp/bin/$side.$(pkgname "$pkg").test" -test.run '^$' -test.bench "$re" \
				-test.benchmem -test.benchtime "$benchtime" -test.count 1) >>"$f"
		done
		cat "$f" >>"$out/$side.txt"
	done
	printf '%2d: %s -> %s\n' "$r" "$before" "$(loadavg)" >>"$out/load.txt"
done

# 5. benchstat and the per-round ratios.
if [[ $rounds == 0 ]]; then
	echo "no timed rounds" >"$out/benchstat.txt"
else
	"$benchstat" old="$out/old.txt" new="$out/new.txt" >"$out/benchstat.txt" 2>&1 || true
fi
{
	echo "per-round ratio new/old of sec/op: median, in how many rounds new was slower, the range; then each round"
	for r in $(seq "$rounds"); do
		for side in old new; do
			awk -v r="$r" -v side="$side" '
				/^pkg: / { pkg = $2; sub(/.*\//, "", pkg) }
				/^Benchmark/ { for (i = 3; i < NF; i++) if ($(i+1) == "ns/op") print pkg "." $1, r, side, $i }
			' "$out/rounds/$r.$side.txt"
		done
	done | awk '
		{ v[$1 " " $2 " " $3] = $4; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }; if ($2 > rounds) rounds = $2 }
		END {
			for (k = 1; k <= n; k++) {
				b = order[k]; m = 0; slower = 0; line = ""
				for (r = 1; r <= rounds; r++) {
					o = v[b " " r " old"]; w = v[b " " r " new"]
					if (o == "" || w == "" || o == 0) continue
					x[++m] = w / o; if (w > o) slower++; line = line sprintf(" %.2f", w / o)
				}
				if (m == 0) continue
				for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
				med = (m % 2) ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2
				printf "%-56s median %.2f  slower in %d of %d  (%.2f to %.2f):%s\n", b, med, slower, m, x[1], x[m], line
			}
		}'
} >"$out/ratios.txt"

# 6. Instruction counts.
cg_total() { sed -n 's/^summary: *//p' "$1"; }
if [[ $cachegrind == 1 ]] && ! command -v valgrind >/dev/null; then
	echo "valgrind is not installed: no instruction counts" >"$out/cg/table.txt"
	cachegrind=0
fi
if [[ $cachegrind == 1 ]]; then
	iters=$((cg_hi - cg_lo))
	for spec in $cgspecs; do
		pkg=${spec%%=*} name=${spec#*=}
		for side in old new; do
			for n in $cg_lo $cg_hi; do
				log "cachegrind $side $name ${n}x"
				(cd "$tmp/$side/$pkg" && GOMAXPROCS=1 GODEBUG=gcstoptheworld=1 valgrind --tool=cachegrind --cache-sim=no \
					--cachegrind-out-file="$out/cg/$side.$name.$n.out" \
					"$tmp/bin/$side.$(pkgname "$pkg").test" -test.run '^$' -test.bench "^$name\$" \
					-test.benchtime "${n}x" -test.count 1) >"$out/cg/$side.$name.$n.log" 2>&1
			done
			# Per function: the difference of the two runs, the worktree's folder taken off the
			# file names so both sides name a function alike.
			cg_diff --mod-filename="s#^\\Q$tmp/$side/\\E##" "$out/cg/$side.$name.$cg_lo.out" "$out/cg/$side.$name.$cg_hi.out" \
				>"$out/cg/$side.$name.diff.out" 2>/dev/null
			cg_annotate --threshold=0 --auto=no "$out/cg/$side.$name.diff.out" 2>/dev/null |
				awk '/^ *-?[0-9,]+ +\( *-?[0-9.]+%\) +[^ ]/ && !/PROGRAM TOTALS/ {
					n = $1; gsub(/,/, "", n); f = $0; sub(/^ *-?[0-9,]+ +\([^)]*\) +/, "", f); print n "\t" f }' \
				>"$out/cg/$side.$name.functions.tsv"
		done
		{
			printf '%s: instructions per iteration, by function (self, with what is inlined into it), old, new, new-old; |new-old| >= 1\n' "$name"
			awk -F'\t' -v it="$iters" '
				FNR == 1 { side++ }
				{
					f = $2; sub(/^[^:]*:/, "", f) # the file: an inlined function s lines are in its own file
					gsub(/\[go\.shape[^]]*\]/, "[...]", f)
					v[side, f] += $1; if (!(f in seen)) { seen[f] = 1; fn[++n] = f }
				}
				END {
					for (i = 1; i <= n; i++) {
						o = v[1, fn[i]] / it; w = v[2, fn[i]] / it
						if (w - o >= 1 || o - w >= 1) printf "%12.1f %12.1f %+11.1f  %s\n", o, w, w - o, fn[i]
					}
				}' "$out/cg/old.$name.functions.tsv" "$out/cg/new.$name.functions.tsv" | sort -k3,3gr
		} >"$out/cg/$name.functions.txt"
	done
	{
		printf '%-32s %14s %14s %8s\n' "instructions per iteration" old new new/old
		for spec in $cgspecs; do
			name=${spec#*=}
			o=$((($(cg_total "$out/cg/old.$name.$cg_hi.out") - $(cg_total "$out/cg/old.$name.$cg_lo.out")) / iters))
			w=$((($(cg_total "$out/cg/new.$name.$cg_hi.out") - $(cg_total "$out/cg/new.$name.$cg_lo.out")) / iters))
			printf '%-32s %14d %14d %8s\n' "$name" "$o" "$w" "$(awk -v o="$o" -v w="$w" 'BEGIN { printf "%.4f", w / o }')"
		done
		echo "(valgrind --tool=cachegrind --cache-sim=no, GOMAXPROCS=1 GODEBUG=gcstoptheworld=1, -test.benchtime ${cg_hi}x minus ${cg_lo}x, divided by $iters)"
	} >"$out/cg/table.txt"
fi

{
	cat "$out/about.txt"
	echo
	cat "$out/load.txt"
	echo
	cat "$out/benchstat.txt"
	echo
	cat "$out/ratios.txt"
	echo
	[[ -f $out/cg/table.txt ]] && cat "$out/cg/table.txt"
	echo
	echo "raw results, per-function instruction counts (cg/*.functions.txt): $out"
} >"$out/summary.txt"
cat "$out/summary.txt"
