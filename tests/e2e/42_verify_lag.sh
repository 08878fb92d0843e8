# cdp-verify --max-lag: a journal whose newest record (a heartbeat here)
# is recent passes; one whose newest record is old fails with 1.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mk=$CDP_ROOT/tests/helpers/mkhostile
printf 'clock 8\nhdr\ncreate 644 f\nheartbeat\n' | "$mk" fresh.cdpj
printf 'clock 7200\nhdr\ncreate 644 f\nheartbeat\n' | "$mk" stale.cdpj
+ cdp-verify -q --max-lag 60 fresh.cdpj
expect_status 1 cdp-verify -q --max-lag 60 stale.cdpj
expect_status 1 cdp-verify -q --max-lag 60 fresh.cdpj stale.cdpj
rc=0
cdp-verify --max-lag 60 stale.cdpj >out 2>err || rc=$?
[ "$rc" -eq 1 ] || die "want 1, got $rc"
grep -q 'is 71[0-9][0-9] s old, over --max-lag 60' err || die "message: $(cat err)"
cdp-verify --json --max-lag 60 fresh.cdpj | grep -q '"lag_ok":true' || die "json lag_ok"
