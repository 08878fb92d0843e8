# 20_tap: what cdp-tap costs the program it taps, and how fast it writes.
#
#  fio/4k-randwrite  fio --ioengine=psync --rw=randwrite --bs=4k on a
#                    64 MiB file beneath the tapped directory, IOPS under
#                    cdp-tap -o FILE against the same run without it (both
#                    on the scratch disk, journal beside the data); goal
#                    >= 0.8x.  Best of 2 runs of 4 s each.
#  seq/1MiB          dd bs=1M of 1000 MiB into a file beneath the tapped
#                    directory, journal to tmpfs: journal GB/s over the
#                    whole run (start of the command to STREAM_END); goal
#                    >= 1.5 GB/s.  The same dd without cdp-tap is the
#                    reference.
#  rss               the largest resident set of cdp-tap (and the tapped
#                    dd) while journaling 4000 MiB; goal <= 64 MiB.
# Output format: see scripts/bench.sh.
set -eu

command -v fio >/dev/null || { echo "20_tap: fio is not installed" >&2; exit 1; }
mkdir -p d

# fio_iops [cdp-tap ARGS --]: IOPS of one fio run (terse field 49).
fio_iops()
{
	"$@" fio --name=rw --ioengine=psync --rw=randwrite --bs=4k --size=64m \
	    --filename=d/fio.data --runtime=4 --time_based=1 \
	    --output-format=terse | awk -F';' '{ print $49 }'
}

best_iops()
{
	local best=0 i v
	for i in 1 2; do
		v=$(fio_iops "$@")
		[ "${v%.*}" -gt "$best" ] && best=${v%.*}
	done
	echo "$best"
}

native=$(best_iops)
tapped=$(best_iops cdp-tap -C . -o fio.cdpj --)
rm -f fio.cdpj d/fio.data
ratio=$(awk -v a="$tapped" -v b="$native" 'BEGIN { printf "%.2f", a / b }')
met=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.8) ? "met" : "NOT MET" }')
echo "fio/4k-randwrite|fio psync 4k random writes, IOPS under cdp-tap -o FILE (more is better)|$tapped IOPS|native: $native IOPS|${ratio}x|>= 0.8x: $met"

# Sequential 1 MiB writes: journal bytes per second of wall time.
mib=1000
mkdir -p "$BENCH_TMP/d"
now() { date +%s.%N; }
t0=$(now)
dd if=/dev/zero of="$BENCH_TMP/d/seq.bin" bs=1M count=$mib 2>/dev/null
t1=$(now)
rm -f "$BENCH_TMP/d/seq.bin"
ref=$(awk -v n=$mib -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", n * 1048576 / (b - a) / 1e9 }')
best=0
for i in 1 2; do
	t0=$(now)
	cdp-tap -C "$BENCH_TMP/d" -o "$BENCH_TMP/seq.cdpj" -- \
	    dd if=/dev/zero of=seq.bin bs=1M count=$mib 2>/dev/null
	t1=$(now)
	bytes=$(stat -c %s "$BENCH_TMP/seq.cdpj")
	rm -f "$BENCH_TMP/seq.cdpj" "$BENCH_TMP/d/seq.bin"
	gbs=$(awk -v n="$bytes" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", n / (b - a) / 1e9 }')
	best=$(awk -v a="$gbs" -v b="$best" 'BEGIN { print (a > b) ? a : b }')
done
ratio=$(awk -v a="$best" -v b="$ref" 'BEGIN { printf "%.2f", a / b }')
met=$(awk -v r="$best" 'BEGIN { print (r >= 1.5) ? "met" : "NOT MET" }')
echo "seq/1MiB|dd bs=1M of $mib MiB under cdp-tap, journal GB/s to tmpfs (more is better)|$best GB/s|dd alone: $ref GB/s|${ratio}x|>= 1.5 GB/s: $met"

# Memory: the largest RSS among cdp-tap and what it waited for.
rss=$(python3 - "$BENCH_TMP" <<'PY'
import resource, subprocess, sys, os
tmp = sys.argv[1]
subprocess.run(["cdp-tap", "-C", tmp + "/d", "-o", "/dev/null", "--",
                "dd", "if=/dev/zero", "of=big.bin", "bs=1M", "count=4000"],
               check=True, stderr=subprocess.DEVNULL)
os.unlink(tmp + "/d/big.bin")
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
PY
)
met=$(awk -v r="$rss" 'BEGIN { print (r <= 64) ? "met" : "NOT MET" }')
echo "rss|largest resident set of cdp-tap while 4000 MiB go through it (less is better)|$rss MiB|-|-|<= 64 MiB: $met"
