# cdp-send is killed while its records wait in the spool (the receiver is
# slow to start); a new cdp-send on the same spool, with no input at all,
# delivers them.  Then --sync, and a second cdp-send on a busy spool.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"

+ mkload -n 2000 -s 4096 load.cdpj
printf '#!/bin/sh\nsleep 2\nexec cdp-recv "$@"\n' >slow-recv
chmod +x slow-recv

echo "+ cdp-send --spool sp --recv-path ./slow-recv store <load.cdpj &" >&2
cdp-send --spool sp --status st.json --recv-path ./slow-recv store \
    <load.cdpj 2>/dev/null &
pid=$!
read_all() { [ "$(status_field st.json seq_read)" = 2008 ]; }
wait_until 20 read_all
# Killed and reaped with standard error closed: bash may report the
# killed job as soon as it notices, before the wait.
echo "+ kill -KILL $pid" >&2
{ kill -KILL "$pid"; wait "$pid" || true; } 2>/dev/null
# The receiver left behind stores what reached it, then lets go.
unlocked() { flock -n store/lock true; }
wait_until 20 unlocked

+ cdp-send --spool sp --status st2.json -i /dev/null store
same_records load.cdpj store
[ "$(status_field st2.json seq_acked)" = 2008 ] || die "$(cat st2.json)"

# --sync: each record durable before the next is read.
+ mkload -n 200 -s 100 small.cdpj
+ cdp-send --sync --status st3.json -i small.cdpj store3
same_records small.cdpj store3

# One spool, one cdp-send.
exec 9>sp/lock
flock 9
expect_status 1 cdp-send --spool sp -i load.cdpj store
exec 9>&-
