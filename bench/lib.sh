# shellcheck shell=bash
# bench/lib.sh: helpers shared by the benchmarks, sourced after
# tests/e2e/lib.sh (scripts/bench.sh runs only bench/NN_*.sh).
#
#   now                 the time, seconds with nanoseconds
#   sub A B             A - B
#   best SECONDS...     the smallest
#   median NUMBERS...   the middle one (the mean of the two for an even count)
#   rate BYTES SECONDS  "N MB/s"
#   ratio OURS REF      REF / OURS as "0.00x" (times: > 1 means ours is faster)
#   goal VALUE GOAL min|max   ">= GOAL: met", "<= GOAL: NOT MET", ...
#   buckets FILE        "LE COUNT" lines of cdp-send's latency histogram
#                       (--prom FILE), cumulative
#   pct FILE P          the bound, in ms, of the first bucket holding the
#                       fraction P of the records

now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { print a - b }'; }
best() { printf '%s\n' "$@" | sort -g | head -n 1; }
median()
{
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f MB/s", b / s / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", b / a }'; }
goal() {
	awk -v r="$1" -v g="$2" -v t="$3" 'BEGIN {
		printf "%s %s: %s", (t == "min" ? ">=" : "<="), g,
		    ((t == "min" && r >= g) || (t == "max" && r <= g)) ? "met" : "NOT MET" }'
}

buckets()
{
	sed -n 's/^cdp_send_durable_latency_seconds_bucket{.*le="\([^"]*\)"} \([0-9]*\)$/\1 \2/p' "$1"
}

pct()
{
	buckets "$1" | awk -v p="$2" '{ le[NR] = $1; n[NR] = $2; total = $2 }
	END { for (i = 1; i <= NR; i++) if (n[i] >= p * total) {
		print (le[i] == "+Inf" ? "inf" : le[i] * 1000); exit } }'
}
