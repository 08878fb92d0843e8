# shellcheck shell=bash
# tests/e2e/sendrecv_lib.sh: helpers for the cdp-send/cdp-recv tests
# (5x_sendrecv_*.sh), sourced after lib.sh.
#
#   mkload ARGS...          tests/helpers/mkload: a journal of many WRITEs
#   records JOURNAL         the records of a journal or store as cdp-dump
#                           text, without STREAM_HDR lines (a store repeats
#                           the header at the start of every segment) and
#                           without cdp-dump's "# NAME: ..." remarks
#   same_records A B        die unless A and B hold the same records; this
#                           also fails on a seq gap or repeat in either,
#                           since cdp-dump then exits 1
#   wait_until SECONDS CMD...   run CMD every 50 ms until it succeeds; die
#                           after SECONDS
#   status_field FILE KEY   a value from a cdp-send --status file

mkload()
{
	"$CDP_ROOT/tests/helpers/mkload" "$@"
}

records()
{
	local out rc=0
	out=$(cdp-dump "$1") || rc=$?
	[ "$rc" -eq 0 ] || die "cdp-dump $1: exit status $rc"
	printf '%s\n' "$out" | grep -v -e ' STREAM_HDR ' -e '^#'
}

same_records()
{
	local a b
	a=$(records "$1") || exit 1
	b=$(records "$2") || exit 1
	if [ "$a" != "$b" ]; then
		diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -n 20 >&2
		die "records differ: $1 $2"
	fi
}

wait_until()
{
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 20; i++)); do
		"$@" 2>/dev/null && return 0
		sleep 0.05
	done
	die "timed out after ${limit}s waiting for: $*"
}

status_field()
{
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
print(str(v).lower() if isinstance(v, bool) else v)' "$1" "$2"
}
