#!/bin/bash
# demo.sh: a short tour of cdp with the programs built so far (make demo).
#
# One function per step; main() at the bottom lists them in order.  A step
# whose programs are not built yet says so and is skipped, as are the
# steps that need what it would have made.  To add a step: write
# step_NAME(), start it with `title` and `need PROG...`, run commands
# through `show`, and add it to main().  The demo runs in a temporary
# directory, removed at the end (DEMO_KEEP=1 keeps it).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$root:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/cdp-demo.XXXXXX")
if [ "${DEMO_KEEP:-0}" = 1 ]; then
	trap 'echo; echo "demo: files kept in $work"' EXIT
else
	trap 'rm -rf "$work"' EXIT
fi
cd "$work"
failed=0

title()
{
	echo
	echo "==> $*"
}

# need PROG...: true if every PROG is built (or a file that exists);
# otherwise say which is missing.
need()
{
	local p
	for p in "$@"; do
		case $p in
		cdp-*) [ -x "$root/$p" ] && continue
		       echo "    skipped: $p is not built yet (planned)" ;;
		*) [ -e "$p" ] && continue
		   echo "    skipped: needs $p from an earlier step" ;;
		esac
		return 1
	done
}

# show 'COMMAND LINE': print it as typed, run it, report a failure.
# A non-zero status is not an error when the caller expects it.
show()
{
	echo "\$ $1"
	local rc=0
	eval "$1" || rc=$?
	return "$rc"
}

fail()
{
	echo "demo: $*" >&2
	failed=1
}

step_journal()
{
	title "Write a small journal with an independent writer (tests/e2e/data/handmade.py)"
	local gen=$root/tests/e2e/data/handmade.py
	if [ ! -f "$gen" ]; then
		echo "    skipped: $gen is not there"
		return 0
	fi
	echo "    handmade.py follows man/cdp-journal.5 alone, not cdp's code."
	show "python3 '$gen' journal.cdpj && ls -l journal.cdpj" || fail "handmade.py failed"
}

step_dump()
{
	title "Look at it: one line per record (cdp-dump)"
	need cdp-dump journal.cdpj || return 0
	show "cdp-dump journal.cdpj" || fail "cdp-dump failed"
}

step_dump_json()
{
	title "The same as JSON, one object per record (cdp-dump --json)"
	need cdp-dump journal.cdpj || return 0
	show "cdp-dump --json journal.cdpj | head -n 4" || fail "cdp-dump --json failed"
	echo "    ..."
}

step_corrupt()
{
	title "Damage one byte and read it again: cdp-dump says where and exits 1"
	need cdp-dump journal.cdpj || return 0
	echo "    Byte 270 is in the data of the first WRITE (record 3 at offset 208)."
	show "cp journal.cdpj damaged.cdpj"
	show "printf '\\xff' | dd of=damaged.cdpj bs=1 seek=270 conv=notrunc status=none"
	local rc=0
	show "cdp-dump damaged.cdpj 2>&1" || rc=$?
	echo "exit status $rc"
	[ "$rc" -eq 1 ] || fail "cdp-dump on a damaged journal: exit status $rc, want 1"
}

step_tap()
{
	title "Capture every change a program makes (cdp-tap)"
	need cdp-tap || return 0
	mkdir -p src
	printf 'port=8080\n' >src/app.conf
	echo "    src/ holds app.conf; the command below changes the tree, and"
	echo "    marks the moment before its upgrade with cdp-mark."
	show "cdp-tap --baseline -C src -o tap.cdpj -- sh -c 'mkdir data; echo one >data/1; cdp-mark before-upgrade; echo port=9090 >app.conf; mv data/1 data/2; ln -s data/2 latest; rm -f nothing'" ||
	    fail "cdp-tap failed"
	show "cdp-dump tap.cdpj" || fail "cdp-dump failed"
}

step_send()
{
	title "Ship the journal to a store (cdp-send | cdp-recv)"
	need cdp-send cdp-recv tap.cdpj || return 0
	show "cdp-send -i tap.cdpj store && ls store" || fail "cdp-send failed"
}

step_replay()
{
	title "Rebuild the tree from the store (cdp-replay)"
	need cdp-replay store || return 0
	show "mkdir restored && cdp-replay -C restored store" || fail "cdp-replay failed"
	show "diff -r src restored && echo 'restored tree == source tree'" ||
	    fail "the restored tree differs"
}

step_pit()
{
	title "Go back in time: the tree as it was at the mark (cdp-replay --until-mark)"
	need cdp-replay store || return 0
	show "mkdir past && cdp-replay --until-mark before-upgrade -C past store" ||
	    fail "cdp-replay --until-mark failed"
	show "cat past/app.conf && ls past/data" || fail "the past tree is wrong"
}

step_verify()
{
	title "Check the store and the replica (cdp-verify)"
	need cdp-verify store restored || return 0
	show "cdp-verify --tree restored store" || fail "cdp-verify failed"
}

main()
{
	echo "cdp demo in $work"
	step_journal
	step_dump
	step_dump_json
	step_corrupt
	step_tap
	step_send
	step_replay
	step_pit
	step_verify
	echo
	if [ "$failed" -ne 0 ]; then
		echo "demo: a step failed (see above)"
		exit 1
	fi
	echo "demo: done"
}

main
