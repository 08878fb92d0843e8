# A journal file given with -i and no --spool is its own spool: records
# are sent from it, not copied (so cdp-send needs no temporary directory),
# sections and heartbeats reach the store exactly as through a spool, and
# after cuts of the connection and a restart of cdp-send the store holds
# every record once.  A file that shrinks while it is sent is an error,
# not a retry for ever.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"

mkhostile() { "$CDP_ROOT/tests/helpers/mkhostile" "$@"; }

# No spool: a TMPDIR that does not exist stops a temporary spool only.
+ mkload -n 3000 -s 4096 load.cdpj
mkdir gone && rmdir gone
echo "+ TMPDIR=gone cdp-send -i load.cdpj store1" >&2
TMPDIR=$PWD/gone cdp-send -i load.cdpj store1
same_records load.cdpj store1
echo "+ TMPDIR=gone cdp-send store0 <load.cdpj" >&2
rc=0
TMPDIR=$PWD/gone cdp-send store0 <load.cdpj 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || die "a temporary spool in gone: exit status $rc"

# A FIFO is read once, as a pipe.
mkfifo fifo
cat load.cdpj >fifo &
+ cdp-send -i fifo store-fifo
wait $!
same_records load.cdpj store-fifo

# Sections and heartbeats: the store is the same, byte for byte, as one
# written from standard input through a spool.
printf '%s\n' hdr heartbeat 'create 644 a' 'write 0 a x' end hdr heartbeat \
    'create 644 b' heartbeat end hdr 'write 1 a y' heartbeat | mkhostile sec.cdpj
+ cdp-send -i sec.cdpj sec-file
echo "+ cdp-send sec-spool <sec.cdpj" >&2
cdp-send sec-spool <sec.cdpj
for f in sec-spool/*.cdpj; do
	cmp "$f" "sec-file/${f##*/}" || die "sec-file differs"
done
[ "$(ls sec-spool)" = "$(ls sec-file)" ] || die "$(ls sec-file)"

# Cuts: a receiver behind a slow pipe (about 3 MB/s), its ssh killed ten
# times, cdp-send (and its ssh) killed once and started again: it reads
# the file again and sends from the receiver's RESUME.
start_sshd
cat >slow-recv <<'EOF'
#!/bin/sh
python3 -c 'import os, time
while True:
    b = os.read(0, 32768)
    if not b:
        break
    os.write(1, b)
    time.sleep(0.01)' | cdp-recv "$@"
EOF
chmod +x slow-recv
send()
{
	cdp-send -e "$CDP_SSH" --status st.json --recv-path "$PWD/slow-recv" \
	    -i load.cdpj "127.0.0.1:$PWD/store" 2>>send.err &
	pid=$!
}
send
at_exit "kill $pid 2>/dev/null || true"
connected() { [ "$(status_field st.json connected)" = true ]; }
unlocked() { flock -n store/lock true; }
wait_until 20 connected
kills=0 last_recv=
while [ "$kills" -lt 10 ]; do
	kill -0 "$pid" 2>/dev/null || die "cdp-send ended after $kills cuts"
	ssh_pid=$(pgrep -P "$pid" -x ssh || true)
	recv=$(pgrep -n -x cdp-recv || true)
	if [ -z "$ssh_pid" ] || [ -z "$recv" ] || [ "$recv" = "$last_recv" ]; then
		sleep 0.05
		continue
	fi
	sleep "0.$((RANDOM % 2 + 1))"
	if [ "$kills" -eq 5 ]; then
		# Killed and reaped with standard error closed: bash may
		# report the killed job as soon as it notices.
		{ kill -KILL "$pid"; wait "$pid" || true; } 2>/dev/null
		kill "$ssh_pid" 2>/dev/null || true
		# The receiver left behind stores what reached it.
		wait_until 30 unlocked
		rm -f st.json
		send
		wait_until 20 connected
	elif ! kill "$ssh_pid" 2>/dev/null; then
		continue
	fi
	kills=$((kills + 1))
	last_recv=$recv
done
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || die "cdp-send: exit status $rc: $(tail -5 send.err)"
[ "$(status_field st.json connects)" -ge 2 ] || die "never reconnected"
same_records load.cdpj store

# A file cut short after it was read: said, exit 1.
cp load.cdpj short.cdpj
printf '#!/bin/sh\nsleep 0.5\ntruncate -s 100000 %s/short.cdpj\nexec cdp-recv "$@"\n' \
    "$PWD" >shrink-recv
chmod +x shrink-recv
expect_status 1 cdp-send --recv-path ./shrink-recv -i short.cdpj store2 \
    2>short.err
grep -q '^cdp-send: short.cdpj: shorter than when it was read: changed while being sent$' short.err ||
    die "short.err: $(cat short.err)"
