# The ssh connection is cut 20 times while a paced journal streams in on
# standard input: cdp-send reconnects each time and carries on from the
# receiver's RESUME, so that the store ends up with every record exactly
# once (no gap, no repeat) and the replica equals the source tree.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"

start_sshd
mkdir tree replica
# 6000 records of 4 KiB at 3 MB/s: about 8 s of input, and the pipe stays
# open until the cuts are done.
{
	mkload -r 3 -n 6000 -s 4096 -C tree -
	until [ -e cuts.done ]; do sleep 0.1; done
} | tee load.cdpj |
    cdp-send -e "$CDP_SSH" --status st.json \
    --recv-path "cdp-recv --apply $PWD/replica" "127.0.0.1:$PWD/store" \
    2>send.err &
pid=$!
at_exit "touch cuts.done; kill $pid 2>/dev/null || true"

connected() { [ "$(status_field st.json connected)" = true ]; }
wait_until 20 connected

kills=0 last_recv=
while [ "$kills" -lt 20 ]; do
	kill -0 "$pid" 2>/dev/null || die "cdp-send ended after $kills cuts"
	# Cut a connection that is up: ssh is there, and a new receiver.
	ssh_pid=$(pgrep -P "$pid" -x ssh || true)
	recv=$(pgrep -n -f "^cdp-recv --apply $PWD/replica" || true)
	if [ -z "$ssh_pid" ] || [ -z "$recv" ] || [ "$recv" = "$last_recv" ]; then
		sleep 0.05
		continue
	fi
	sleep "0.$((RANDOM % 3 + 1))"
	if kill "$ssh_pid" 2>/dev/null; then
		kills=$((kills + 1))
		last_recv=$recv
	fi
done
touch cuts.done
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || die "cdp-send: exit status $rc: $(tail -5 send.err)"
[ "$(status_field st.json connects)" -ge 2 ] || die "never reconnected"
same_records load.cdpj store
compare_trees tree replica
