# shellcheck shell=bash
# tests/e2e/ceph_lib.sh: a throwaway single-node Ceph object store for the
# tests of s3:// stores, sourced after lib.sh.
#
#   start_ceph      one mon, one OSD (memstore: the objects live in the
#                   OSD's memory), one radosgw (beast) on 127.0.0.1 and a
#                   free port, and an S3 user with fixed test keys; all
#                   state in ./ceph (CDP_CEPH_DIR).  Exports
#                   AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
#                   AWS_SECRET_ACCESS_KEY, AWS_REGION and CDP_CEPH_DIR, and
#                   returns once the radosgw answers.  Skips the test if
#                   Ceph is not installed; dies, with the end of the
#                   failing daemon's log, if it does not start.  Stopped
#                   when the test exits, however it exits.
#   stop_ceph       kill every daemon (by pid) and remove the stores; the
#                   logs stay in $CDP_CEPH_DIR (the runner removes the
#                   scratch directory of a test that passed)
#   stop_rgw        stop the radosgw alone (the object store goes away)
#   start_rgw       start it again on the same port; returns once it answers
#   s3ctl ARGS...   tests/helpers/s3ctl: mb, ls, put, get, rm, head of
#                   objects, to look at or damage a bucket
#
# No systemd, no mgr, no cephx (auth none, everything on 127.0.0.1), no
# admin sockets; pools of size 1 with 8 PGs.  The mon's and the clients'
# timers are shortened (paxos, ticks) so that the pools radosgw makes at
# its first start take well under a second rather than ten.

s3ctl()
{
	"$CDP_ROOT/tests/helpers/s3ctl" "$@"
}

_ceph_dir=
_ceph_mon_pid=
_ceph_osd_pid=
_ceph_rgw_pid=
_ceph_rgw_port=
_ceph_at_exit=0

# _ceph_log mon|osd|rgw|user: the last lines of a daemon's output and of
# its log, for a message.
_ceph_log()
{
	local f log
	case $1 in
	mon) log=mon.a.log ;;
	osd) log=osd.0.log ;;
	rgw) log=client.rgw.log ;;
	*) log=client.admin.log ;;
	esac
	for f in "$_ceph_dir/$1.out" "$_ceph_dir/$log"; do
		[ -s "$f" ] || continue
		echo "last lines of $f:"
		tail -n 10 "$f" | cut -c 1-300
	done
}

# _ceph_fail MSG mon|osd|rgw|user: die with MSG and the end of the logs.
_ceph_fail()
{
	echo "$1" >&2
	_ceph_log "$2" >&2
	die "start_ceph: $1"
}

# _ceph_alive: die unless every daemon started is still running.
_ceph_alive()
{
	[ -z "$_ceph_mon_pid" ] || kill -0 "$_ceph_mon_pid" 2>/dev/null ||
	    _ceph_fail "ceph-mon exited" mon
	[ -z "$_ceph_osd_pid" ] || kill -0 "$_ceph_osd_pid" 2>/dev/null ||
	    _ceph_fail "ceph-osd exited" osd
	[ -z "$_ceph_rgw_pid" ] || kill -0 "$_ceph_rgw_pid" 2>/dev/null ||
	    _ceph_fail "radosgw exited" rgw
}

# _ceph_rgw_answers: whether radosgw answers an anonymous request.
_ceph_rgw_answers()
{
	local code
	code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
	    "http://127.0.0.1:$_ceph_rgw_port/" 2>/dev/null) || return 1
	[ "$code" = 200 ]
}

# _ceph_wait_rgw SECONDS: until radosgw answers, or die.
_ceph_wait_rgw()
{
	local i
	for ((i = 0; i < $1 * 20; i++)); do
		_ceph_alive
		_ceph_rgw_answers && return 0
		sleep 0.05
	done
	_ceph_fail "radosgw did not answer on port $_ceph_rgw_port in $1 s" \
	    rgw
}

start_ceph()
{
	local d fsid mon_port i t
	for t in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool \
	    curl; do
		command -v "$t" >/dev/null ||
		    skip "$t is not installed (scripts/deps.sh installs it)"
	done
	[ -z "$_ceph_mon_pid" ] || die "start_ceph: already started"
	d=$PWD/ceph
	rm -rf "$d"
	mkdir -p "$d/mon" "$d/osd" "$d/crash"
	_ceph_dir=$d
	if [ "$_ceph_at_exit" = 0 ]; then
		at_exit stop_ceph
		_ceph_at_exit=1
	fi
	fsid=$(cat /proc/sys/kernel/random/uuid)
	mon_port=$(free_port)
	_ceph_rgw_port=$(free_port)
	cat >"$d/ceph.conf" <<-EOF
		[global]
		fsid = $fsid
		mon host = v2:127.0.0.1:$mon_port
		public addr = 127.0.0.1
		cluster addr = 127.0.0.1
		ms bind msgr1 = false
		auth cluster required = none
		auth service required = none
		auth client required = none
		# radosgw asks for a secure mon connection by default, which
		# needs cephx
		ms mon client mode = crc
		admin socket =
		pid file =
		run dir = $d
		crash dir = $d/crash
		log file = $d/\$name.log
		mon cluster log file = default=$d/cluster.\$channel.log
		mon data = $d/mon
		mon data avail crit = 0
		mon data avail warn = 0
		mon allow pool size one = true
		mon warn on pool no redundancy = false
		paxos propose interval = 0.01
		paxos min wait = 0.001
		mon tick interval = 1
		osd data = $d/osd
		osd objectstore = memstore
		memstore device bytes = 4294967296
		osd pool default size = 1
		osd pool default min size = 1
		osd pool default pg num = 8
		osd pool default pgp num = 8
		osd pool default pg autoscale mode = off
		osd crush chooseleaf type = 0
		osd op num shards = 1
		osd op num threads per shard = 2
		# radosgw's first requests may wait for the OSD to come up; by
		# default it looks for a newer map only every 5 s
		objecter tick interval = 0.2
		rgw frontends = beast endpoint=127.0.0.1:$_ceph_rgw_port
		rgw thread pool size = 16
	EOF
	monmaptool -c "$d/ceph.conf" --create --fsid "$fsid" \
	    --addv a "[v2:127.0.0.1:$mon_port]" "$d/monmap" \
	    >"$d/mon.out" 2>&1 ||
	    _ceph_fail "monmaptool failed" mon
	ceph-mon -c "$d/ceph.conf" --mkfs -i a --monmap "$d/monmap" \
	    >>"$d/mon.out" 2>&1 || _ceph_fail "ceph-mon --mkfs failed" mon
	ceph-mon -c "$d/ceph.conf" -f -i a </dev/null >>"$d/mon.out" 2>&1 &
	_ceph_mon_pid=$!
	for ((i = 0; i < 200; i++)); do
		_ceph_alive
		if (exec 3<>"/dev/tcp/127.0.0.1/$mon_port") 2>/dev/null; then
			break
		fi
		sleep 0.05
	done
	[ "$i" -lt 200 ] ||
	    _ceph_fail "ceph-mon did not listen on 127.0.0.1:$mon_port" mon

	i=$(timeout 20 ceph -c "$d/ceph.conf" --connect-timeout 15 \
	    osd create 2>>"$d/mon.out") ||
	    _ceph_fail "the mon did not answer (ceph osd create)" mon
	[ "$i" = 0 ] || _ceph_fail "ceph osd create gave id '$i', not 0" mon
	ceph-osd -c "$d/ceph.conf" --mkfs -i 0 >"$d/osd.out" 2>&1 ||
	    _ceph_fail "ceph-osd --mkfs failed" osd
	ceph-osd -c "$d/ceph.conf" -f -i 0 </dev/null >>"$d/osd.out" 2>&1 &
	_ceph_osd_pid=$!

	start_rgw
	timeout 20 radosgw-admin -c "$d/ceph.conf" user create --uid=cdp-test \
	    --display-name="cdp tests" --access-key=CDPTESTACCESSKEY0001 \
	    --secret-key=cdp-test-secret-key-0001 >"$d/user.out" 2>&1 ||
	    _ceph_fail "radosgw-admin user create failed" user
	_ceph_alive

	AWS_ENDPOINT_URL=http://127.0.0.1:$_ceph_rgw_port
	AWS_ACCESS_KEY_ID=CDPTESTACCESSKEY0001
	AWS_SECRET_ACCESS_KEY=cdp-test-secret-key-0001
	AWS_REGION=us-east-1
	CDP_CEPH_DIR=$d
	export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
	    AWS_REGION CDP_CEPH_DIR
	unset AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_CA_BUNDLE
}

start_rgw()
{
	[ -n "$_ceph_mon_pid" ] || die "start_rgw: ceph is not started"
	[ -z "$_ceph_rgw_pid" ] || die "start_rgw: radosgw is running"
	radosgw -c "$_ceph_dir/ceph.conf" -f -n client.rgw </dev/null \
	    >>"$_ceph_dir/rgw.out" 2>&1 &
	_ceph_rgw_pid=$!
	_ceph_wait_rgw 30
}

stop_rgw()
{
	local i
	[ -n "$_ceph_rgw_pid" ] || return 0
	kill "$_ceph_rgw_pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$_ceph_rgw_pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$_ceph_rgw_pid" 2>/dev/null || true
	wait "$_ceph_rgw_pid" 2>/dev/null || true
	_ceph_rgw_pid=
}

# The data is thrown away, so nothing is worth a clean shut-down (the
# memstore OSD would write all it holds to its directory first).
stop_ceph()
{
	local p
	for p in "$_ceph_rgw_pid" "$_ceph_osd_pid" "$_ceph_mon_pid"; do
		[ -n "$p" ] || continue
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	_ceph_rgw_pid=
	_ceph_osd_pid=
	_ceph_mon_pid=
	[ -n "$_ceph_dir" ] || return 0
	rm -rf "$_ceph_dir/mon" "$_ceph_dir/osd" "$_ceph_dir/crash" \
	    "$_ceph_dir/monmap"
}
