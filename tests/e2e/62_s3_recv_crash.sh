# cdp-recv into a bucket is killed with SIGKILL 6 times while segments are
# being sealed and uploaded; cdp-send starts a new receiver each time.
# Every seq acknowledged before a kill is still in the stage or the bucket
# after it, and in the end the bucket alone holds every record once (no
# gap, no repeat: same_records fails on either) and replays to the source.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"
. "$CDP_ROOT/tests/e2e/ceph_lib.sh"

start_ceph
s3ctl mb s3://cdp62 >/dev/null
B=s3://cdp62/app

mkdir tree replay
{
	mkload -r 2 -n 6000 -s 4096 -C tree -
	until [ -e kills.done ]; do sleep 0.1; done
} | tee load.cdpj |
    cdp-send --status st.json --recv-path \
    "cdp-recv --stage $PWD/stage --seal-after 128K --seal-after 1" \
    "$B" 2>send.err &
pid=$!
at_exit "touch kills.done; kill $pid 2>/dev/null || true"

connected() { [ "$(status_field st.json connected)" = true ]; }
wait_until 30 connected

# The highest seq in the bucket or the stage.
top() { cdp-dump "$1" 2>/dev/null | awk '$1 ~ /^[0-9]+$/ { s = $1 } END { print s + 0 }'; }

kills=0 last=
while [ "$kills" -lt 6 ]; do
	[ "$SECONDS" -lt 150 ] || die "only $kills kills in 150 s"
	kill -0 "$pid" 2>/dev/null || die "cdp-send ended after $kills kills: $(tail -3 send.err)"
	recv=$(pgrep -P "$pid" -x cdp-recv || true)
	if [ -z "$recv" ] || [ "$recv" = "$last" ]; then
		sleep 0.05
		continue
	fi
	sleep "0.$((RANDOM % 9))$((RANDOM % 10))"
	acked=$(status_field st.json seq_acked)
	kill -KILL "$recv" 2>/dev/null || continue
	kills=$((kills + 1))
	last=$recv
	up=$(top "$B") staged=$(top stage)
	[ "$up" -ge "$acked" ] || [ "$staged" -ge "$acked" ] ||
	    die "kill $kills: seq $acked was acknowledged; the bucket ends at $up, the stage at $staged"
done
touch kills.done
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || die "cdp-send: exit status $rc: $(tail -5 send.err)"
same_records load.cdpj "$B"
+ cdp-verify -q "$B"
+ cdp-replay -C replay "$B"
compare_trees tree replay
