# The runner must catch what it is there to catch: wrong output, a wrong
# exit status, stray stderr, a glob that does not match, a test that hangs.
# It runs itself on a directory of small fake tests (CDP_E2E_DIR) whose
# outcomes are known, and checks every verdict, the counts and its status.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

fake=$PWD/fake
mkdir -p "$fake"

# e2e_run ARGS: the runner on the fake tests, output in run.out, status in rc.
e2e_run()
{
	rc=0
	echo "+ e2e_run${1+ $*}" >&2
	CDP_E2E_DIR=$fake CDP_E2E_TIMEOUT=2 "$CDP_ROOT/tests/e2e/run" "$@" \
	    >run.out 2>run.err || rc=$?
}

# verdicts: the PASS/FAIL/SKIP lines and the summary, times replaced by N.
verdicts()
{
	grep -E '^(PASS|FAIL|SKIP) |^[0-9]+ passed' run.out |
	    sed -E 's/\([0-9]+s\)$/(Ns)/; s/after [0-9]+s$/after Ns/'
}

want_line()
{
	grep -qxF -- "$1" run.out || { cat run.out >&2; die "no line: $1"; }
}

# Tests that must pass.
cat >"$fake/10_exact.sh" <<'EOF'
# the environment the runner promises
[ "$PWD" = "$CDP_E2E_DIR/scratch/10_exact" ] || { echo "cwd $PWD" >&2; exit 1; }
[ "${PATH%%:*}" = "$CDP_ROOT" ] || { echo "PATH $PATH" >&2; exit 1; }
[ "$CDP_TEST_DATA" = "$CDP_ROOT/tests/e2e/data" ] || exit 1
[ -z "$(ls -A)" ] || { echo "scratch not empty" >&2; exit 1; }
[ "$(stat -Lc %t:%T /dev/stdin)" = "$(stat -Lc %t:%T /dev/null)" ] || exit 1
printf 'hello\nworld\n'
EOF
printf 'hello\nworld\n' >"$fake/10_exact.sh.stdout.exact"

cat >"$fake/11_glob.sh" <<'EOF'
echo "pid $$ says hi"
echo header
seq 1 5
echo "* literal star"
echo footer
echo "noise $RANDOM" >&2
exit 3
EOF
printf 'pid * says hi\nheader\n...\n* literal star\nfooter\n' >"$fake/11_glob.sh.stdout.glob"
: >"$fake/11_glob.sh.stderr.ignore"
echo 3 >"$fake/11_glob.sh.exit"

cat >"$fake/12_glob_empty.sh" <<'EOF'
echo only
EOF
printf '...\nonly\n...\n' >"$fake/12_glob_empty.sh.stdout.glob"

# Tests that must fail, each for its own reason.
cat >"$fake/20_wrong_stdout.sh" <<'EOF'
echo goodbye
EOF
echo hello >"$fake/20_wrong_stdout.sh.stdout.exact"

cat >"$fake/21_wrong_exit.sh" <<'EOF'
echo "the reason" >&2
exit 1
EOF
: >"$fake/21_wrong_exit.sh.stderr.ignore"

cat >"$fake/22_stray_stderr.sh" <<'EOF'
echo oops >&2
EOF

cat >"$fake/23_glob_mismatch.sh" <<'EOF'
printf 'one\ntwo\nthree\n'
EOF
printf 'one\n...\nfour\n' >"$fake/23_glob_mismatch.sh.stdout.glob"

cat >"$fake/24_timeout.sh" <<'EOF'
sleep 60
EOF

cat >"$fake/25_missing_newline.sh" <<'EOF'
printf 'no newline'
EOF
echo 'no newline' >"$fake/25_missing_newline.sh.stdout.exact"

# A test that skips itself.
cat >"$fake/30_skip.sh" <<'EOF'
echo "some detail" >&2
echo "no /dev/fuse here" >&2
exit 77
EOF

# A file that is not a test.
echo 'exit 1' >"$fake/helper.sh"

e2e_run
[ "$rc" -eq 1 ] || die "runner exit status $rc, want 1"
verdicts
want_line "FAIL 20_wrong_stdout: stdout differs from 20_wrong_stdout.sh.stdout.exact"
want_line "+goodbye"
want_line "FAIL 21_wrong_exit: exit status 1, want 0; last lines of stderr:"
want_line "the reason"
want_line "FAIL 22_stray_stderr: unexpected stderr (no 22_stray_stderr.sh.stderr.* file)"
want_line "glob mismatch at pattern line 3: four"
want_line "SKIP 30_skip: no /dev/fuse here"
want_line "3 passed, 6 failed, 1 skipped"
[ "$(tail -n 1 run.out)" = "3 passed, 6 failed, 1 skipped" ] || die "summary is not the last line"
[ ! -s run.err ] || die "runner wrote to stderr: $(cat run.err)"

# Scratch directories: kept for failures, removed for passes and skips.
[ -d "$fake/scratch/20_wrong_stdout" ] || die "failed test's scratch dir was removed"
[ -f "$fake/scratch/20_wrong_stdout.stdout" ] || die "failed test's stdout was removed"
[ ! -e "$fake/scratch/10_exact" ] || die "passed test's scratch dir was kept"
[ ! -e "$fake/scratch/30_skip" ] || die "skipped test's scratch dir was kept"

# Selecting tests by name and by glob.
e2e_run 10_exact '1[12]_*.sh'
[ "$rc" -eq 0 ] || die "runner exit status $rc, want 0"
verdicts
e2e_run --keep 10_exact
[ "$rc" -eq 0 ] || die "--keep: exit status $rc, want 0"
[ -d "$fake/scratch/10_exact" ] || die "--keep did not keep the scratch dir"
e2e_run no_such_test
[ "$rc" -eq 1 ] || die "no matching test: exit status $rc, want 1"
e2e_run --no-such-option
[ "$rc" -eq 2 ] || die "bad option: exit status $rc, want 2"

# --bless rewrites .exact files, creates missing ones, then the test passes.
e2e_run --bless 20_wrong_stdout 22_stray_stderr
[ "$rc" -eq 0 ] || { cat run.out >&2; die "after --bless: exit status $rc, want 0"; }
verdicts
[ "$(cat "$fake/20_wrong_stdout.sh.stdout.exact")" = goodbye ] || die "bless did not rewrite"
[ "$(cat "$fake/22_stray_stderr.sh.stderr.exact")" = oops ] || die "bless did not create"
e2e_run --bless
[ "$rc" -eq 2 ] || die "--bless with no names: exit status $rc, want 2"

# No tests at all is a failure, not a success.
rm -rf "$fake"/*.sh*
e2e_run
[ "$rc" -eq 1 ] || die "empty test dir: exit status $rc, want 1"
want_line "0 passed, 0 failed, 0 skipped"
