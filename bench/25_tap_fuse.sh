# 25_tap_fuse: what going through a cdp-tap --fuse mount costs a program,
# with bindfs (a FUSE passthrough that journals nothing) measured in the
# same run as the reference for what FUSE itself costs.
#
#  fuse/4k-randwrite  fio --ioengine=psync --rw=randwrite --bs=4k on a
#                     64 MiB file through the mount, journal to a file on
#                     the same disk, IOPS against the same fio on SOURCE
#                     itself; goal >= 0.30x.  Best of 2 runs of 4 s.
#  fuse/1MiB-seq      fio --rw=write --bs=1M, 256 MiB, MB/s through the
#                     mount against SOURCE itself; goal >= 0.30x.
#  append/1MiB        dd of 2000 MiB into a new file beside the journal:
#                     every journaled byte is new memory for the page
#                     cache, and this is how fast this machine gives it.
#  fuse/1MiB-seq-pipe the same fio, the journal piped to cat >/dev/null
#                     instead of a file; goal >= 0.30x.
# The bindfs ratios are printed as their own lines (no goal).
# Output format: see scripts/bench.sh.
set -eu

for t in fio bindfs fusermount3; do
	command -v "$t" >/dev/null || { echo "25_tap_fuse: $t is not installed" >&2; exit 1; }
done
[ -c /dev/fuse ] || { echo "25_tap_fuse: no /dev/fuse" >&2; exit 1; }
mkdir -p src mnt bmnt
tap_pid=
cleanup()
{
	fusermount3 -uz mnt 2>/dev/null || true
	fusermount3 -uz bmnt 2>/dev/null || true
	[ -z "$tap_pid" ] || kill "$tap_pid" 2>/dev/null || true
}
trap cleanup EXIT

mounted()
{
	local n
	for ((n = 0; n < 200; n++)); do
		awk -v m="$PWD/$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts && return 0
		sleep 0.05
	done
	echo "25_tap_fuse: $1 did not mount" >&2
	exit 1
}

cdp-tap --fuse -o fuse.cdpj src mnt &
tap_pid=$!
mounted mnt
bindfs -o big_writes src bmnt 2>/dev/null || bindfs src bmnt
mounted bmnt

# fio_val DIR RW BS SIZE FIELD: one fio run's result (terse v3: 49 write
# IOPS, 48 write KiB/s).
fio_val()
{
	fio --name=b --ioengine=psync --rw="$2" --bs="$3" --size="$4" \
	    --filename="$1/fio.data" --runtime=4 --time_based=1 \
	    --output-format=terse | awk -F';' -v f="$5" '{ print $f }'
}

best()
{
	local b=0 v
	for _ in 1 2; do
		v=$(fio_val "$@")
		v=${v%.*}
		[ "$v" -gt "$b" ] && b=$v
	done
	rm -f "$1/fio.data"
	echo "$b"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
goal() { awk -v r="$1" 'BEGIN { print (r >= 0.30) ? "met" : "NOT MET" }'; }

n=$(best src randwrite 4k 64m 49)
t=$(best mnt randwrite 4k 64m 49)
b=$(best bmnt randwrite 4k 64m 49)
r=$(ratio "$t" "$n")
echo "fuse/4k-randwrite|fio psync 4k random writes through the cdp-tap --fuse mount, journal to a file, IOPS (more is better)|$t IOPS|native: $n IOPS|${r}x|>= 0.30x: $(goal "$r")"
echo "bindfs/4k-randwrite|the same fio through bindfs (FUSE, no journal), for reference|$b IOPS|native: $n IOPS|$(ratio "$b" "$n")x|-"

n=$(best src write 1m 256m 48)
t=$(best mnt write 1m 256m 48)
b=$(best bmnt write 1m 256m 48)
r=$(ratio "$t" "$n")
mbs() { awk -v k="$1" 'BEGIN { printf "%.0f", k * 1024 / 1e6 }'; }
echo "fuse/1MiB-seq|fio psync 1 MiB sequential writes through the cdp-tap --fuse mount, journal to a file, MB/s (more is better)|$(mbs "$t") MB/s|native: $(mbs "$n") MB/s|${r}x|>= 0.30x: $(goal "$r")"
echo "bindfs/1MiB-seq|the same fio through bindfs (big_writes when it has it), for reference|$(mbs "$b") MB/s|native: $(mbs "$n") MB/s|$(ratio "$b" "$n")x|-"

fusermount3 -u mnt
wait "$tap_pid"
tap_pid=

# What any journal file gets here: new bytes appended to a new file on
# the same file system (the native fio rewrites pages already cached).
a0=$(date +%s%N)
dd if=/dev/zero of=append.data bs=1M count=2000 2>/dev/null
a1=$(date +%s%N)
rm -f append.data fuse.cdpj
a=$(awk -v s="$(( (a1 - a0) / 1000 ))" 'BEGIN { printf "%.0f", 2000 * 1048576 / s }')
echo "append/1MiB|dd bs=1M of 2000 MiB into a new file on the journal's file system, MB/s: the most a journal file takes in on this machine|$a MB/s|native: $(mbs "$n") MB/s|$(ratio "$a" "$(mbs "$n")")x|-"

# The journal piped to a consumer, as into cdp-send.
cdp-tap --fuse -o - src mnt | cat >/dev/null &
tap_pid=$!
mounted mnt
p=$(best mnt write 1m 256m 48)
r=$(ratio "$p" "$n")
echo "fuse/1MiB-seq-pipe|the same fio through the mount, the journal piped to cat >/dev/null (as to cdp-send)|$(mbs "$p") MB/s|native: $(mbs "$n") MB/s|${r}x|>= 0.30x: $(goal "$r")"
fusermount3 -u mnt
wait "$tap_pid"
tap_pid=
