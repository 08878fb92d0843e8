# 30_replay: cdp-replay rebuilding a tree of mixed files (about 300 MB:
# 3000 small files of 1-64 KiB in 60 directories, 24 files of 10 MB,
# symbolic links) from a baseline journal of it, against tar -x of the same
# tree from a tar file.  Everything lives on tmpfs ($BENCH_TMP), so no disk
# is measured: this is the cost of the code, not of the device.  Best of 3
# runs each.  The issue asks for 1 GB; 300 MB keeps the benchmark within a
# minute here and the ratio is per byte.  Output format: scripts/bench.sh.
set -eu

mkb=$CDP_ROOT/tests/helpers/mkbaseline
[ -x "$mkb" ] || { echo "30_replay: $mkb is not built (make all)" >&2; exit 1; }
t=$BENCH_TMP
runs=3

python3 - "$t/src" <<'PY'
import os, random, sys
top = sys.argv[1]
rnd = random.Random(30)
for d in range(60):
    os.makedirs("%s/d%02d/sub" % (top, d))
for i in range(3000):
    p = "%s/d%02d/%sf%04d" % (top, i % 60, "sub/" if i % 3 == 0 else "", i)
    with open(p, "wb") as f:
        f.write(rnd.randbytes(rnd.randint(1024, 65536)))
for i in range(24):
    with open("%s/d%02d/big%02d" % (top, i, i), "wb") as f:
        f.write(rnd.randbytes(10 * 1000 * 1000))
for i in range(100):
    os.symlink("f%04d" % i, "%s/d%02d/l%03d" % (top, i % 60, i))
PY
bytes=$(du -sb "$t/src" | cut -f1)
tar -cf "$t/src.tar" -C "$t/src" .
"$mkb" "$t/src" "$t/src.cdpj"

# best CMD...: the best wall time in seconds of $runs runs of CMD into
# a fresh $t/out.
best()
{
	local b='' i s e
	for ((i = 0; i < runs; i++)); do
		rm -rf "$t/out" && mkdir "$t/out"
		sync
		s=$(date +%s.%N)
		"$@" >/dev/null
		e=$(date +%s.%N)
		b=$(echo "$e - $s" | bc -l | awk -v b="$b" '{ if (b == "" || $1 < b) print $1; else print b }')
	done
	echo "$b"
}

ours=$(best cdp-replay -C "$t/out" "$t/src.cdpj")
cdp-verify -q --tree "$t/out" "$t/src.cdpj" ||
    { echo "30_replay: replayed tree differs" >&2; exit 1; }
ref=$(best tar -xf "$t/src.tar" -C "$t/out")
awk -v b="$bytes" -v o="$ours" -v r="$ref" 'BEGIN {
	ratio = r / o
	printf "replay/tar|rebuild a %.0f MB tree of mixed files from a baseline journal on tmpfs, speed vs tar -x (> 1: faster)|%.2f GB/s (%.2f s)|tar -x: %.2f GB/s (%.2f s)|%.2fx|>= 0.8x tar: %s\n",
	    b / 1e6, b / o / 1e9, o, b / r / 1e9, r, ratio,
	    (ratio >= 0.8 ? "met" : "NOT MET")
}'
