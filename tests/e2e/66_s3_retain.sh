# cdp-recv --retain with a bucket: segments older than the window are
# folded into a base object, and the bucket still reads as one stream:
# cdp-verify is clean, a replay of the whole bucket equals the source, and
# a replay to a mark inside the window equals a replay of the journal to
# it.  The objects a fold replaced stay (retired, named in the manifest)
# for a grace time, for readers that started before, and are deleted
# after it.
#
# The journal is written by mkhostile with fixed clocks: the old part two
# hours ago, the new part ten minutes ago, so which records are outside a
# window of 1h does not depend on timing.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"
. "$CDP_ROOT/tests/e2e/ceph_lib.sh"
mk=$CDP_ROOT/tests/helpers/mkhostile
umask 022

{
	echo 'clock 7200'
	echo hdr 7
	echo 'mkdir 755 d'
	echo 'mkdir 755 keep'
	for i in $(seq 1 60); do
		echo "create 644 d/f$i"
		for k in 1 2 3 4 5; do
			echo "write $((i * k)) d/f$i w$k.$i"
		done
		[ $((i % 6)) -ne 0 ] || echo "setxattr d/f$i user.n v$i"
		[ $((i % 7)) -ne 0 ] || echo "link d/f$i keep/l$i"
		[ $((i % 3)) -ne 0 ] || echo "rename 0 d/f$i keep/r$i"
	done
	echo 'mark old-end'
	echo 'clock 600'
	echo 'create 644 new-first'
	for i in $(seq 61 90); do
		echo "create 644 d/f$i"
		echo "write 0 d/f$i @$((i * 11)):n"
		[ "$i" -ne 75 ] || echo 'mark middle'
	done
	echo 'mark last'
} | "$mk" j.cdpj

start_ceph
s3ctl mb s3://cdp66 >/dev/null
B=s3://cdp66/app
export CDP_S3_RETIRE_SECONDS=2

+ cdp-recv --stage st --seal-after 1k --retain 1h "$B" <j.cdpj >/dev/null 2>recv.err
s3ctl get "$B" manifest >m1.txt
grep -q '^base ' m1.txt || die "no base after a fold: $(cat m1.txt)"
retired=$(grep -c '^retired ' m1.txt || true)
[ "$retired" -ge 5 ] || die "want the folded segments retired: $(cat m1.txt)"
# Retired objects are still there for readers that started before.
for o in $(awk '$1 == "retired" { print $2 }' m1.txt); do
	s3ctl head "$B" "$o" >/dev/null || die "retired $o is gone already"
done

mkdir want all mid jmid
+ cdp-replay -C want j.cdpj
+ cdp-verify -q "$B"
+ cdp-replay -C all "$B"
compare_trees want all
+ cdp-replay -C mid --until-mark middle "$B"
+ cdp-replay -C jmid --until-mark middle j.cdpj
compare_trees jmid mid

# After the grace time, the next receiver deletes them.
sleep 3
+ cdp-recv --stage st --retain 1h "$B" </dev/null >/dev/null 2>>recv.err
s3ctl get "$B" manifest >m2.txt
! grep -q '^retired ' m2.txt || die "retired objects left: $(cat m2.txt)"
for o in $(awk '$1 == "retired" { print $2 }' m1.txt); do
	! s3ctl head "$B" "$o" >/dev/null 2>&1 || die "retired $o not deleted"
done
+ cdp-verify -q "$B"
rm -r all && mkdir all
+ cdp-replay -C all "$B"
compare_trees want all
grep -v 'plain http' recv.err >&2 || true
