# cdp-mark puts a MARK into the running tap's stream in order with the
# writes around it and returns when it is written; the socket comes from
# CDP_TAP_CONTROL or --control.  A bad name is a usage error (2); no tap
# listening is a failure (1).
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mkdir w
+ cdp-tap -C w -o j.cdpj --control "$PWD/ctl.sock" -- sh -c '
	echo a >f && cdp-mark first &&
	echo b >>f && cdp-mark --control "$CDP_TAP_CONTROL" second &&
	echo c >>f'
cdp-dump j.cdpj | awk '$3 != "STREAM_HDR" && $3 != "STREAM_END" &&
    $3 != "HEARTBEAT" { print $3, $NF }' >order.txt
cat order.txt
[ ! -e ctl.sock ] || die "the control socket was left behind"
expect_status 2 cdp-mark 'bad@name'
expect_status 2 cdp-mark
expect_status 1 cdp-mark --control "$PWD/nothing.sock" late
