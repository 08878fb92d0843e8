# The store's filesystem fills up (a 2 MiB tmpfs): the receiver says so and
# waits, the sender's spool fills and holds the input back, nothing is
# lost; once there is room again (the tmpfs grows) everything arrives.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"

mkdir full
mount -t tmpfs -o size=2m cdp-test full 2>/dev/null ||
    skip "cannot mount a tmpfs here"
at_exit "umount -l $PWD/full"

+ mkload -n 2000 -s 4096 load.cdpj
echo "+ cdp-send --spool-size 1M --status st.json full/store <load.cdpj &" >&2
cdp-send --spool-size 1M --status st.json full/store <load.cdpj \
    2>send.err &
pid=$!
at_exit "kill $pid 2>/dev/null || true"

said_full() { grep -q 'No space left on device; waiting for space' send.err; }
wait_until 30 said_full
waiting() { [ "$(status_field st.json waiting)" = true ]; }
wait_until 30 waiting
acked=$(status_field st.json seq_acked)
[ "$acked" -lt 2008 ] || die "all acknowledged on a full disk?"

+ mount -o remount,size=64m full
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || die "cdp-send: exit status $rc: $(cat send.err)"
grep -q 'space again, going on' send.err || die "no word of space: $(cat send.err)"
same_records load.cdpj full/store
