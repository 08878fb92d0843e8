# cdp-recv --apply records in the replica what it applied as it goes, not
# only when it exits: a RENAME_EXCHANGE applied before cdp-recv is killed
# with SIGKILL is not applied a second time by the next cdp-recv (which
# would swap the files back).  Only one cdp-recv --apply at a time applies
# to a replica.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"

mkhostile() { "$CDP_ROOT/tests/helpers/mkhostile" "$@"; }
printf '%s\n' hdr 'create 644 a' 'write 0 a AAA' 'create 644 b' \
    'write 0 b BBB' | mkhostile s1.cdpj
printf '%s\n' hdr 'seq 5' 'rename 2 a b' | mkhostile s2.cdpj
printf '%s\n' hdr | mkhostile s3.cdpj

holds() { [ "$(cat rep/a)" = "$1" ] && [ "$(cat rep/b)" = "$2" ]; }

mkdir rep
+ cdp-recv --apply rep st <s1.cdpj >/dev/null
holds AAA BBB || die "after session 1: a=$(cat rep/a) b=$(cat rep/b)"

# Session 2: the exchange, then the connection stays open until the kill.
mkfifo in
cdp-recv --apply rep st <in >/dev/null 2>recv2.err &
pid=$!
exec 8>in
at_exit "kill -KILL $pid 2>/dev/null || true"
cat s2.cdpj >&8
wait_until 20 holds BBB AAA
# Meanwhile a second applier on the replica is refused.
expect_status 1 cdp-recv --apply rep other <s1.cdpj >/dev/null
{ kill -KILL "$pid" && wait "$pid"; } 2>/dev/null || true
exec 8>&-

+ cdp-recv --apply rep st <s3.cdpj >/dev/null
holds BBB AAA || die "after the restart: a=$(cat rep/a) b=$(cat rep/b)" \
    "(the exchange was applied twice)"
records st | grep -c RENAME | grep -qx 1 || die "store: $(records st)"
