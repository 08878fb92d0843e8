# cdp-recv --retain: segments older than the window are folded into a
# base, and the store still reads as one stream: cdp-verify is clean, a
# replay of the whole store equals the source, and a replay to any seq,
# mark or time inside the window equals a replay of the journal to it.  A
# reader that opened the store before a fold reads it to the end as it
# was.  A second fold folds the first base; --apply builds a replica from
# a folded store and refuses one that the fold left behind.
#
# The journal is written by mkhostile with fixed clocks: the old part two
# hours ago, the new part ten minutes ago, one second apart, so which
# records are outside a window of 1h or 5m does not depend on timing.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"

mk=$CDP_ROOT/tests/helpers/mkhostile
umask 022

# old: 150 rounds of creates, writes, renames, links, unlinks, attributes
# (about 2000 records: more than cdp-dump buffers before it blocks on the
# slow reader's pipe).
{
	echo 'clock 7200'
	echo hdr 7
	echo 'mkdir 755 d'
	echo 'mkdir 755 keep'
	for i in $(seq 1 150); do
		echo "create 644 d/f$i"
		echo "write 0 d/f$i @$((i * 37)):$((i % 10))"
		for k in 1 2 3 4 5 6 7 8 9; do
			echo "write $((i * k)) d/f$i w$k.$i"
		done
		[ $((i % 6)) -ne 0 ] || echo "setxattr d/f$i user.n v$i"
		[ $((i % 8)) -ne 0 ] || echo "truncate 3 d/f$i"
		[ $((i % 7)) -ne 0 ] || echo "link d/f$i keep/l$i"
		[ $((i % 4)) -ne 0 ] || echo "symlink keep/s$i f$i"
		[ $((i % 3)) -ne 0 ] || echo "rename 0 d/f$i keep/r$i"
		[ $((i % 5)) -ne 0 ] || [ $(((i - 1) % 3)) -eq 0 ] ||
		    echo "unlink d/f$((i - 1))"
	done
	echo 'mark old-end'
	echo 'clock 600'
	echo 'create 644 new-first'
	for i in $(seq 151 180); do
		echo "create 644 d/f$i"
		echo "write 0 d/f$i @$((i * 11)):n"
		[ $((i % 4)) -ne 0 ] ||
		    echo "rename 0 keep/r$(((i - 150) * 3)) d/moved$i"
		[ "$i" -ne 165 ] || echo 'mark middle'
	done
	echo 'mark last'
} | "$mk" j.cdpj

seq_of() { cdp-dump j.cdpj | awk -v p="$1" '$0 ~ p { print $1; exit }'; }
first_new=$(seq_of ' CREATE .* new-first$')
last=$(seq_of ' MARK .*last')
middle=$(seq_of ' MARK .*middle')

mkdir want all all2 jm sm st
+ cdp-replay -C want j.cdpj

# A store of many small segments.
+ cdp-recv --segment-size 2k store <j.cdpj >/dev/null
nsegs=$(find store -name '0*.cdpj' | wc -l)
[ "$nsegs" -ge 20 ] || die "want many segments, got $nsegs"
cdp-dump --data store >before.txt

# A slow reader: cdp-dump of the store into a pipe of one page, which it
# fills; the pipe is read only once "go" exists.
cat >slow.py <<'PY'
import fcntl, os, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ
p = subprocess.Popen(["cdp-dump", "--data", "store"], stdout=w)
os.close(w)
open("dump.pid", "w").write("%d\n" % p.pid)
while not os.path.exists("go"):
    time.sleep(0.05)
with open("slow.txt", "wb") as out:
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        out.write(b)
sys.exit(p.wait())
PY
python3 slow.py &
slow=$!
at_exit "touch go; kill $slow 2>/dev/null || true"
# Blocked on the pipe, and holding segments the fold is about to remove.
blocked()
{
	# In write(2) (1 on x86-64, 64 on arm64) to standard output.
	[ -s dump.pid ] && case $(cut -d' ' -f1,2 "/proc/$(cat dump.pid)/syscall") in
	"1 0x1" | "64 0x1") true ;;
	*) false ;;
	esac
}
wait_until 10 blocked
held=$(ls -l "/proc/$(cat dump.pid)/fd" | grep -c '\.cdpj$')
[ "$held" -ge $((nsegs / 2)) ] || die "the slow reader holds $held segments"

# Fold with a window of one hour: the old part goes into a base.  Input
# stays open until the fold renamed its base into place.
has_base() { ls store/*.base.cdpj >/dev/null 2>&1; }
echo "+ cdp-recv --retain 1h store" >&2
{ cat j.cdpj; wait_until 20 has_base; } |
    cdp-recv --retain 1h --segment-size 2k store >/dev/null
base=$(basename store/*.base.cdpj .base.cdpj)
base=$((10#$base))
[ "$base" -gt 100 ] || die "base folds through seq $base only"
[ "$base" -lt "$first_new" ] ||
    die "base $base folds seq $first_new, inside the window"
for s in store/0*.cdpj; do
	n=$(basename "$s" .cdpj)
	case $s in *.base.cdpj) continue ;; esac
	[ $((10#$n)) -gt "$base" ] || die "$s is folded but still there"
done
[ ! -e store/.fold ] || die "store/.fold left behind"

# The reader that opened the store before reads what was there.
touch go
wait "$slow" || die "cdp-dump of the store during the fold failed"
cmp before.txt slow.txt || die "the slow reader read something else"

+ cdp-verify -q store
+ cdp-replay -C all store
compare_trees want all
# Every point in the window: by seq (the base's own, the first after it,
# the new part), by mark and by time.
for n in "$base" $((base + 1)) "$first_new" $((first_new + 17)) "$last"; do
	mkdir "j$n" "s$n"
	+ cdp-replay --until-seq "$n" -C "j$n" j.cdpj
	+ cdp-replay --until-seq "$n" -C "s$n" store
	compare_trees "j$n" "s$n"
done
+ cdp-replay --until-mark middle -C jm j.cdpj
+ cdp-replay --until-mark middle -C sm store
compare_trees jm sm
t=$(cdp-dump --json j.cdpj | python3 -c 'import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r.get("seq") == int(sys.argv[1]):
        print(r["time"]); break' "$middle")
+ cdp-replay --until-time "$t" -C st store
compare_trees jm st

# A new receiver folds the base again, with the window at five minutes:
# everything but the last segment.
echo "+ cdp-recv --retain 5m store" >&2
old_base=$base
newer_base() { [ ! -e "store/$(printf %020d "$old_base").base.cdpj" ]; }
{ cat j.cdpj; wait_until 20 newer_base; } |
    cdp-recv --retain 5m --segment-size 2k store >/dev/null
[ "$(find store -name '*.base.cdpj' | wc -l)" = 1 ] || die "not one base"
[ "$(find store -name '0*.cdpj' ! -name '*.base.cdpj' | wc -l)" = 1 ] ||
    die "more than the last segment left: $(ls store)"
+ cdp-verify -q store
+ cdp-replay -C all2 store
compare_trees want all2
[ "$(cdp-dump store | grep -v '^#' | tail -n 1)" = \
    "$(cdp-dump j.cdpj | grep -v '^#' | tail -n 1)" ] ||
    die "the store does not end like the journal"

# --apply: an empty replica is built from the base and the segments; one
# last applied inside what was folded is refused.
mkdir rep
+ cdp-recv --apply rep store <j.cdpj >/dev/null
compare_trees want rep
mkdir stale
+ cdp-replay --until-seq 5 -C stale j.cdpj
rc=0
cdp-recv --apply stale store <j.cdpj >/dev/null 2>err.txt || rc=$?
[ "$rc" -eq 1 ] || die "stale replica: exit status $rc, want 1"
grep -q 'the replica is at seq 5, but the store was folded through seq' \
    err.txt || die "stale replica: $(cat err.txt)"

# A bad duration is a usage error.
rc=0
cdp-recv --retain 7x store <j.cdpj >/dev/null 2>err.txt || rc=$?
[ "$rc" -eq 2 ] || die "--retain 7x: exit status $rc, want 2"
