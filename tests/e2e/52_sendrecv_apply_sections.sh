# cdp-recv --apply gets the records just as the store holds them: a
# section resumed after STREAM_END (in the same connection or the next),
# a HEARTBEAT or a STREAM_END after STREAM_END (which the store drops),
# and the replica equals what cdp-replay builds from the store.  A record
# whose parent directory is missing fails on the replica as it does in
# cdp-replay, instead of creating the parent.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"

mkhostile() { "$CDP_ROOT/tests/helpers/mkhostile" "$@"; }

# One connection: hdr, a, end, hdr, b (the store repeats the header).
printf '%s\n' hdr 'create 644 a' end hdr 'create 644 b' | mkhostile one.cdpj
mkdir rep
+ cdp-recv --apply rep st <one.cdpj >/dev/null
[ -f rep/a ] && [ -f rep/b ] || die "replica: $(ls rep)"

# Next connections: end; then a heartbeat and a second end (dropped by the
# store); then the stream goes on.
printf '%s\n' hdr 'seq 3' 'write 0 b x' end | mkhostile two.cdpj
printf '%s\n' hdr heartbeat end | mkhostile three.cdpj
printf '%s\n' hdr 'seq 4' 'write 1 b y' mkdir\ 755\ d 'create 644 d/c' |
    mkhostile four.cdpj
+ cdp-recv --apply rep st <two.cdpj >/dev/null
+ cdp-recv --apply rep st <three.cdpj >/dev/null
+ cdp-recv --apply rep st <four.cdpj >/dev/null
mkdir out
+ cdp-replay -C out st
compare_trees out rep
[ "$(cat rep/b)" = xy ] || die "rep/b: $(cat rep/b)"

# A missing parent: the store takes the record, the replica stops on it.
printf '%s\n' hdr 'seq 7' 'create 644 nodir/f' | mkhostile five.cdpj
expect_status 1 cdp-recv --apply rep st <five.cdpj >/dev/null
[ ! -e rep/nodir ] || die "--apply created a missing parent"
mkdir out2
expect_status 1 cdp-replay -C out2 st 2>replay.err
