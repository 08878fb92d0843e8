# shellcheck shell=bash
# tests/e2e/fuse_lib.sh: helpers for the cdp-tap --fuse tests (27_*-29_*).
#
#   need_fuse               skip (77) unless /dev/fuse and fusermount3 work
#   start_fuse ARG...       start "cdp-tap --fuse ARG..." in the background
#                           (stderr to tap.err), wait until the last operand
#                           is mounted; $tap_pid is its pid.  The mount is
#                           always cleared at exit, however the test ends.
#   stop_fuse               unmount with fusermount3 -u, wait for cdp-tap,
#                           die unless it exited 0 and left nothing mounted
#   at_mark DIR MARK        DIR: a fresh copy of ./before with j.cdpj
#                           replayed up to mark MARK (a state to check)
#   sqlite_at_marks DB MARK ROWS
#                           at marks MARK1..MARK3 (replayed into at-1..at-3),
#                           DB passes integrity_check and its table t holds
#                           1, 2, 3 times ROWS rows

need_fuse()
{
	[ -c /dev/fuse ] || skip "no /dev/fuse: FUSE tests need it"
	{ exec 9<>/dev/fuse; } 2>/dev/null || skip "/dev/fuse cannot be opened"
	exec 9>&-
	command -v fusermount3 >/dev/null || skip "fusermount3 is not installed"
}

_fuse_mnt=

_fuse_mounted()
{
	awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/mounts
}

start_fuse()
{
	local n
	_fuse_mnt=$(realpath -m "${!#}")
	at_exit "fusermount3 -uz '$_fuse_mnt' 2>/dev/null; kill \$tap_pid 2>/dev/null"
	echo "+ cdp-tap --fuse $* &" >&2
	cdp-tap --fuse "$@" 2>tap.err &
	tap_pid=$!
	for ((n = 0; n < 200; n++)); do
		_fuse_mounted "$_fuse_mnt" && return 0
		kill -0 "$tap_pid" 2>/dev/null || break
		sleep 0.05
	done
	cat tap.err >&2
	die "cdp-tap --fuse did not mount $_fuse_mnt"
}

stop_fuse()
{
	local rc=0
	echo "+ fusermount3 -u ${_fuse_mnt##*/}" >&2
	fusermount3 -u "$_fuse_mnt"
	wait "$tap_pid" || rc=$?
	[ "$rc" -eq 0 ] || { cat tap.err >&2; die "cdp-tap --fuse: exit status $rc"; }
	[ ! -s tap.err ] || { cat tap.err >&2; die "cdp-tap --fuse wrote to stderr"; }
	if _fuse_mounted "$_fuse_mnt"; then
		die "$_fuse_mnt is still mounted"
	fi
}

at_mark()
{
	rm -rf "$1" && cp -a before "$1"
	cdp-replay -C "$1" --until-mark "$2" j.cdpj
}

sqlite_at_marks()
{
	local db=$1 mark=$2 rows=$3 r
	for r in 1 2 3; do
		at_mark "at-$r" "$mark$r"
		[ "$(sqlite3 "at-$r/$db" 'pragma integrity_check')" = ok ] ||
		    die "$db at mark $mark$r: integrity_check failed"
		[ "$(sqlite3 "at-$r/$db" 'select count(*) from t')" = \
		    $((r * rows)) ] ||
		    die "$db at mark $mark$r: want $((r * rows)) rows"
	done
}
