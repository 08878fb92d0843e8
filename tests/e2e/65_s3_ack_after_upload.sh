# --ack-after-upload: the sender's acknowledged seq never runs ahead of
# what the bucket holds (read from the bucket's manifest while the stream
# goes on), and it still gets everything acknowledged by the end.  With
# --apply, the live replica is built from the stage as records become
# durable, and equals the source at the end; a receiver started again
# with --apply brings a new replica up from the bucket and the stage.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"
. "$CDP_ROOT/tests/e2e/ceph_lib.sh"

start_ceph
s3ctl mb s3://cdp65 >/dev/null
B=s3://cdp65/app

mkdir tree replica replica2
{
	mkload -r 2 -n 3000 -s 4096 -C tree -
	until [ -e go.done ]; do sleep 0.1; done
} | tee load.cdpj | cdp-send --status st.json --recv-path \
    "cdp-recv --ack-after-upload --stage $PWD/stage --seal-after 64K --apply $PWD/replica" \
    "$B" 2>send.err &
pid=$!
at_exit "touch go.done; kill $pid 2>/dev/null || true"

connected() { [ "$(status_field st.json connected)" = true ]; }
wait_until 30 connected

# The acknowledged seq, then the bucket's: the bucket is never behind.
checks=0 moved=0 prev=0
while [ "$checks" -lt 20 ]; do
	acked=$(status_field st.json seq_acked)
	up=$(s3ctl get "$B" manifest 2>/dev/null | awk '$1 == "durable_seq" { print $2 }')
	[ "$acked" -le "${up:-0}" ] ||
	    die "seq $acked acknowledged, the bucket holds up to ${up:-0}"
	[ "$acked" -le "$prev" ] || moved=$((moved + 1))
	prev=$acked checks=$((checks + 1))
	sleep 0.3
done
[ "$moved" -ge 3 ] || die "acknowledgements hardly moved ($moved times in 20)"

touch go.done
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || die "cdp-send: exit status $rc: $(tail -5 send.err)"
[ "$(status_field st.json seq_acked)" = "$(status_field st.json seq_read)" ] ||
    die "not everything acknowledged: $(cat st.json)"
compare_trees tree replica
# A new replica: caught up from the bucket (and the stage) alone.
+ cdp-recv --stage "$PWD/stage" --apply "$PWD/replica2" "$B" <load.cdpj >/dev/null
compare_trees tree replica2
