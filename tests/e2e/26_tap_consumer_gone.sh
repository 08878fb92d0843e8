# The consumer of the stream goes away (head exits): cdp-tap says so and
# exits 1, and the command goes on, unharmed, to write all its data.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mkdir w
echo "+ cdp-tap -C w -- sh -c ... | head -c 100" >&2
rc=0
cdp-tap -C w -- sh -c 'i=0; while [ $i -lt 3000 ]; do
	echo "line $i of the test" >>out.txt; i=$((i + 1)); done' |
    head -c 100 >/dev/null || rc=$?
status=${PIPESTATUS[0]}
[ "$status" -eq 1 ] || die "cdp-tap: exit status $status, want 1"
[ "$(wc -l <w/out.txt)" -eq 3000 ] || die "the command did not finish"
