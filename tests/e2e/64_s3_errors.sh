# What goes wrong with a bucket, told clearly: a missing bucket, bad
# credentials (the key never shows), a plain-http endpoint that is not on
# this machine, a prefix with no store, a second receiver on a prefix, an
# option that is only for s3:// given for a directory.  Exit status 1 for
# what the object store says, 2 for usage.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"
. "$CDP_ROOT/tests/e2e/ceph_lib.sh"

start_ceph
s3ctl mb s3://cdp64 >/dev/null
mkload -n 10 j.cdpj

expect_status 1 cdp-recv --stage st1 s3://nosuch/app <j.cdpj
expect_status 2 cdp-verify s3://nosuch/app
expect_status 1 cdp-replay -C . s3://cdp64/nothing-here
expect_status 2 cdp-verify s3://cdp64/nothing-here
AWS_SECRET_ACCESS_KEY=wrong-secret-1234 expect_status 1 \
    cdp-recv --stage st1 s3://cdp64/app <j.cdpj 2>err.txt
cat err.txt >&2
! grep -q -e wrong-secret-1234 -e "$AWS_ACCESS_KEY_ID" err.txt ||
    die "a credential in the message"
AWS_ACCESS_KEY_ID= expect_status 2 cdp-recv --stage st1 s3://cdp64/app <j.cdpj
expect_status 2 cdp-recv --stage st1 --s3-endpoint http://192.0.2.1:7480 \
    s3://cdp64/app <j.cdpj
expect_status 2 cdp-recv --stage st1 store <j.cdpj
expect_status 2 cdp-recv --seal-after 5x s3://cdp64/app <j.cdpj

# A receiver holds the prefix (its input stays open); a second one with
# another stage is refused, the first one then finishes.
mkfifo in
cdp-recv --stage st1 s3://cdp64/app <in >/dev/null 2>recv1.err &
r1=$!
exec 3>in
cat j.cdpj >&3
wait_until 20 test -d st1
sleep 1
expect_status 1 cdp-recv --stage st2 s3://cdp64/app <j.cdpj
# Another prefix of the same bucket is another store: no conflict.
mkload -n 10 k.cdpj
+ cdp-recv --stage st3 s3://cdp64/other <k.cdpj >/dev/null 2>/dev/null
exec 3>&-
wait "$r1" || die "the first receiver failed: $(cat recv1.err)"
+ cdp-verify -q s3://cdp64/app
+ cdp-verify -q s3://cdp64/other
# Once it has let go, the same prefix is anyone's again.
+ cdp-recv --stage st2 s3://cdp64/app <j.cdpj >/dev/null

# A receiver whose lease another one takes over (here: written by hand)
# stops at its next renewal, within about 10 s, with exit status 1, and
# writes no manifest after that.
mkfifo in2
cdp-recv --stage st4 s3://cdp64/taken <in2 >/dev/null 2>taken.err &
r2=$!
exec 4>in2
cat j.cdpj >&4
wait_until 20 s3ctl head s3://cdp64/taken lease >/dev/null
printf 'cdp-lease 1\nholder other:/elsewhere\npid 1\nuntil_ns %s\n' \
    "$((($(date +%s) + 300) * 1000000000))" >lease.other
s3ctl put s3://cdp64/taken lease lease.other
rc=0
timeout 30 tail --pid="$r2" -f /dev/null || die "the receiver did not stop"
wait "$r2" || rc=$?
exec 4>&-
[ "$rc" -eq 1 ] || die "exit status $rc, want 1: $(cat taken.err)"
grep -q 'in use by another receiver (other:/elsewhere, pid 1).*stopping' taken.err ||
    die "$(cat taken.err)"
s3ctl get s3://cdp64/taken lease | grep -q other:/elsewhere ||
    die "the stopped receiver removed the other one's lease"
