# 20_tap: what cdp-tap costs the program it taps, and how fast it writes.
#
# Every ratio compares two measurements taken in this run, interleaved
# round by round (tapped, then the reference, then tapped...), so that a
# machine shared with other work slows both alike; each side is the best
# of its rounds.
#
#  fio/4k-randwrite  fio --ioengine=psync --rw=randwrite --bs=4k on a
#                    64 MiB file beneath the tapped directory, IOPS under
#                    cdp-tap -o FILE against fio alone (both on the scratch
#                    disk, journal beside the data); goal >= 0.8x.  Best of
#                    3 rounds of 3 s each.
#  seq/1MiB          dd bs=1M of 1000 MiB into a file beneath the tapped
#                    directory, journal to a file on tmpfs: journal bytes
#                    per second of wall time (start of cdp-tap to
#                    STREAM_END); goal >= 1.5 GB/s.  Reference: the same dd
#                    alone into a file on the same tmpfs, which is the
#                    speed of one copy into that file system (the tapped
#                    run makes three: dd's own write, the shim's copy into
#                    the ring, cdp-tap's write of the journal).  Best of 5
#                    (a run is short and this one varies most).
#  seq/1MiB-2dd      the same journal speed against two dd of 1000 MiB
#                    running at once into the same tmpfs, each one's speed:
#                    a tapped run writes every byte twice (dd's file and
#                    the journal), so this is what the machine allows it.
#  seq/1MiB-null     the same dd under cdp-tap -o /dev/null, dd's bytes per
#                    second against dd alone: the shim's and the ring's
#                    cost without the journal's own page-cache writes,
#                    which compete with dd's for new memory.
#  rss               the largest resident set of cdp-tap (and the tapped
#                    dd) while journaling 4000 MiB; goal <= 64 MiB.
# Output format: see scripts/bench.sh.
set -eu

command -v fio >/dev/null || { echo "20_tap: fio is not installed" >&2; exit 1; }
rounds=3

# max A B: the larger of two numbers.
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b) ? a : b }'; }
now() { date +%s.%N; }

# fio_iops [cdp-tap ARGS --]: IOPS of one fio run (terse field 49).
fio_iops()
{
	"$@" fio --name=rw --ioengine=psync --rw=randwrite --bs=4k --size=64m \
	    --filename=d/fio.data --runtime=3 --time_based=1 \
	    --output-format=terse | awk -F';' '{ print int($49) }'
}

mkdir -p d
fio_iops >/dev/null	# lay the file out once, outside the timing
native=0 tapped=0
for _ in $(seq $rounds); do
	tapped=$(max "$tapped" "$(fio_iops cdp-tap -C . -o fio.cdpj --)")
	rm -f fio.cdpj
	native=$(max "$native" "$(fio_iops)")
done
rm -f d/fio.data
ratio=$(awk -v a="$tapped" -v b="$native" 'BEGIN { printf "%.2f", a / b }')
met=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.8) ? "met" : "NOT MET" }')
echo "fio/4k-randwrite|fio psync 4k random writes to a 64 MiB file, IOPS under cdp-tap -o FILE, best of $rounds rounds of 3 s interleaved with fio alone (more is better)|$tapped IOPS|fio alone: $native IOPS|${ratio}x|>= 0.8x: $met"

# Sequential 1 MiB writes, everything on tmpfs: GB/s of wall time.
mib=1000
seq_rounds=5
t=$BENCH_TMP
mkdir -p "$t/d"
gbs() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.2f", n / (b - a) / 1e9 }'; }
best=0 ref=0 null=0 two=0
for _ in $(seq $seq_rounds); do
	t0=$(now)
	dd if=/dev/zero of="$t/two1.bin" bs=1M count=$mib 2>/dev/null &
	dd if=/dev/zero of="$t/two2.bin" bs=1M count=$mib 2>/dev/null
	wait
	t1=$(now)
	rm -f "$t/two1.bin" "$t/two2.bin"
	two=$(max "$two" "$(gbs $((mib * 1048576)) "$t0" "$t1")")
	t0=$(now)
	cdp-tap -C "$t/d" -o /dev/null -- \
	    dd if=/dev/zero of=seq.bin bs=1M count=$mib 2>/dev/null
	t1=$(now)
	rm -f "$t/d/seq.bin"
	null=$(max "$null" "$(gbs $((mib * 1048576)) "$t0" "$t1")")
	t0=$(now)
	cdp-tap -C "$t/d" -o "$t/seq.cdpj" -- \
	    dd if=/dev/zero of=seq.bin bs=1M count=$mib 2>/dev/null
	t1=$(now)
	bytes=$(stat -c %s "$t/seq.cdpj")
	rm -f "$t/seq.cdpj" "$t/d/seq.bin"
	best=$(max "$best" "$(gbs "$bytes" "$t0" "$t1")")
	t0=$(now)
	dd if=/dev/zero of="$t/ref.bin" bs=1M count=$mib 2>/dev/null
	t1=$(now)
	rm -f "$t/ref.bin"
	ref=$(max "$ref" "$(gbs $((mib * 1048576)) "$t0" "$t1")")
done
ratio=$(awk -v a="$best" -v b="$ref" 'BEGIN { printf "%.2f", a / b }')
met=$(awk -v r="$best" 'BEGIN { print (r >= 1.5) ? "met" : "NOT MET" }')
echo "seq/1MiB|dd bs=1M of $mib MiB under cdp-tap, journal GB/s into a file on tmpfs over the whole run, best of $seq_rounds interleaved with dd alone into a file on the same tmpfs (more is better)|$best GB/s|dd alone: $ref GB/s|${ratio}x|>= 1.5 GB/s: $met"
ratio=$(awk -v a="$null" -v b="$ref" 'BEGIN { printf "%.2f", a / b }')
ratio=$(awk -v a="$best" -v b="$two" 'BEGIN { printf "%.2f", a / b }')
echo "seq/1MiB-2dd|the same journal GB/s against two dd of $mib MiB at once into files on the same tmpfs (each one's GB/s): the tapped run writes every byte twice, so this is its ceiling here|$best GB/s|2 dd at once: $two GB/s|${ratio}x|-"
echo "seq/1MiB-null|the same dd under cdp-tap -o /dev/null: what the shim and the ring cost dd, without the journal's own writing (more is better)|$null GB/s|dd alone: $ref GB/s|${ratio}x|-"

# Memory: the largest RSS among cdp-tap and what it waited for.
rss=$(python3 - "$t" <<'PY'
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
