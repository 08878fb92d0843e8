# cdp-recv is killed with SIGKILL at random points, 10 times, while a
# journal streams in: cdp-send starts a new receiver, which cuts off the
# torn record it may find and answers RESUME, and replication goes on.
# Every seq acknowledged before a kill is still in the store after it, and
# in the end the store holds every record once and the replica equals the
# source tree.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"

mkdir tree replica
{
	mkload -r 4 -n 5000 -s 4096 -C tree -
	until [ -e kills.done ]; do sleep 0.1; done
} | tee load.cdpj |
    cdp-send --status st.json --recv-path "cdp-recv --apply $PWD/replica" \
    store 2>send.err &
pid=$!
at_exit "touch kills.done; kill $pid 2>/dev/null || true"

connected() { [ "$(status_field st.json connected)" = true ]; }
wait_until 20 connected

# The highest seq in the store, whatever follows it.
stored() { cdp-dump store 2>/dev/null | awk '$1 ~ /^[0-9]+$/ { s = $1 } END { print s + 0 }'; }

kills=0 last=
while [ "$kills" -lt 10 ]; do
	[ "$SECONDS" -lt 120 ] || die "only $kills kills in 120 s"
	kill -0 "$pid" 2>/dev/null || die "cdp-send ended after $kills kills"
	recv=$(pgrep -P "$pid" -x cdp-recv || true)
	if [ -z "$recv" ] || [ "$recv" = "$last" ]; then
		sleep 0.05
		continue
	fi
	sleep "0.$((RANDOM % 5))$((RANDOM % 10))"
	acked=$(status_field st.json seq_acked)
	kill -KILL "$recv" 2>/dev/null || continue
	kills=$((kills + 1))
	last=$recv
	have=$(stored)
	[ "$have" -ge "$acked" ] ||
	    die "kill $kills: seq $acked was acknowledged, the store ends at $have"
done
touch kills.done
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || die "cdp-send: exit status $rc: $(tail -5 send.err)"
same_records load.cdpj store
compare_trees tree replica
