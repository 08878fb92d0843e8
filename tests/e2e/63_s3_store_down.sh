# The object store goes away for 10 s in the middle of a stream: cdp-recv
# keeps acknowledging what is durable in its stage (the sender's
# acknowledged seq goes on growing), says once that uploads fail, shows
# the backlog in --status, and catches up when the object store is back.
# The bucket then replays to the source.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"
. "$CDP_ROOT/tests/e2e/ceph_lib.sh"

start_ceph
s3ctl mb s3://cdp63 >/dev/null
B=s3://cdp63/app

mkdir tree replay
{
	mkload -r 2 -n 9000 -s 4096 -C tree -
	until [ -e go.done ]; do sleep 0.1; done
} | cdp-send --status st.json --recv-path \
    "cdp-recv --stage $PWD/stage --seal-after 64K --seal-after 1 --status $PWD/recv.json" \
    "$B" 2>send.err &
pid=$!
at_exit "touch go.done; kill $pid 2>/dev/null || true"

connected() { [ "$(status_field st.json connected)" = true ]; }
wait_until 30 connected
uploaded() { [ "$(status_field recv.json uploaded_seq)" -gt 0 ]; }
wait_until 30 uploaded

stop_rgw
acked0=$(status_field st.json seq_acked)
sleep 5
backlog=$(status_field recv.json upload_backlog_bytes)
[ "$backlog" -gt 0 ] || die "no upload backlog while the object store is down: $(cat recv.json)"
[ "$(status_field recv.json upload_error)" != None ] ||
    die "no upload error while the object store is down: $(cat recv.json)"
sleep 5
acked1=$(status_field st.json seq_acked)
[ "$acked1" -gt "$acked0" ] ||
    die "acknowledgements stopped with the object store ($acked0, then $acked1)"
start_rgw

touch go.done
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || die "cdp-send: exit status $rc: $(tail -5 send.err)"
[ "$(status_field recv.json upload_backlog_bytes)" = 0 ] ||
    die "backlog left at the end: $(cat recv.json)"
[ "$(status_field recv.json upload_error)" = None ] ||
    die "an upload error left at the end: $(cat recv.json)"
grep -c 'the stage keeps the records, trying again' send.err >/dev/null ||
    die "no message about failing uploads: $(cat send.err)"
grep -q 'uploading again' send.err || die "no message that uploads go on: $(cat send.err)"
+ cdp-verify -q "$B"
+ cdp-replay -C replay "$B"
compare_trees tree replay
