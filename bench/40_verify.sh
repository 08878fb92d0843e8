# 40_verify: cdp-verify's two checks.  Integrity: reading and validating a
# 1 GB journal of 1 MiB WRITE records, against cat(1) of it (goal 2 GB/s).
# Tree: cdp-verify --tree over a replayed tree of about 300 MB of mixed
# files, against xxhsum -H3 (XXH3) over the same files; cdp-verify reads
# the journal once (checking it, building the in-memory model of the tree
# and hashing the WRITE data) while a second thread reads and hashes the
# files, so it reads twice what xxhsum reads, on two cores.  All on tmpfs
# ($BENCH_TMP), best of 5.  Output
# format: scripts/bench.sh.
set -eu

mkb=$CDP_ROOT/tests/helpers/mkbaseline
[ -x "$mkb" ] || { echo "40_verify: $mkb is not built (make all)" >&2; exit 1; }
t=$BENCH_TMP
runs=5
export TMPDIR=$t

best()
{
	local b='' i s e
	for ((i = 0; i < runs; i++)); do
		s=$(date +%s.%N)
		"$@" >/dev/null
		e=$(date +%s.%N)
		b=$(echo "$e - $s" | bc -l | awk -v b="$b" '{ if (b == "" || $1 < b) print $1; else print b }')
	done
	echo "$b"
}

# Integrity: one 1000 MB file as a journal.
mkdir "$t/one"
head -c 1000000000 /dev/urandom >"$t/one/blob"
"$mkb" "$t/one" "$t/one.cdpj"
rm -rf "$t/one"
jbytes=$(stat -c %s "$t/one.cdpj")
ours=$(best cdp-verify -q "$t/one.cdpj")
ref=$(best cat "$t/one.cdpj")
rm -f "$t/one.cdpj"
awk -v b="$jbytes" -v o="$ours" -v r="$ref" 'BEGIN {
	printf "verify/integrity|validate every CRC and seq of a %.0f MB journal on tmpfs, speed vs cat (> 1: faster)|%.2f GB/s|cat: %.2f GB/s|%.2fx|>= 2 GB/s: %s\n",
	    b / 1e6, b / o / 1e9, b / r / 1e9, r / o, (b / o / 1e9 >= 2 ? "met" : "NOT MET")
}'

# Tree: mixed files.
python3 - "$t/src" <<'PY'
import os, random, sys
top = sys.argv[1]
rnd = random.Random(40)
for d in range(60):
    os.makedirs("%s/d%02d" % (top, d))
for i in range(3000):
    with open("%s/d%02d/f%04d" % (top, i % 60, i), "wb") as f:
        f.write(rnd.randbytes(rnd.randint(1024, 65536)))
for i in range(24):
    with open("%s/d%02d/big%02d" % (top, i, i), "wb") as f:
        f.write(rnd.randbytes(10 * 1000 * 1000))
PY
bytes=$(du -sb "$t/src" | cut -f1)
"$mkb" "$t/src" "$t/src.cdpj"
ours=$(best cdp-verify -q --tree "$t/src" "$t/src.cdpj")
ref=$(best sh -c "cd '$t/src' && find . -type f -print0 | xargs -0 xxhsum -H3")
awk -v b="$bytes" -v o="$ours" -v r="$ref" 'BEGIN {
	printf "verify/tree|prove a %.0f MB tree of mixed files equals its journal (integrity + model + compare), speed vs xxhsum -H3 of the files (> 1: faster)|%.2f GB/s (%.2f s)|xxhsum -H3: %.2f GB/s (%.2f s)|%.2fx|>= 0.8x xxhsum: %s\n",
	    b / 1e6, b / o / 1e9, o, b / r / 1e9, r, r / o, (r / o >= 0.8 ? "met" : "NOT MET")
}'
