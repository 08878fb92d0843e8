# Real programs through a cdp-tap --fuse mount: sqlite3 with many
# transactions, mkfs.ext4 on a raw disk image and debugfs -w writing into
# it (a virtual disk protected from outside the guest), git, tar -x,
# cp -a, fio random writes with verify, and a user other than root.  At
# marks taken while they run, the replayed database passes
# integrity_check and the replayed disk image passes e2fsck -fn; the
# whole journal replayed onto SOURCE's starting copy equals SOURCE.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/fuse_lib.sh"

need_fuse
for t in sqlite3 mkfs.ext4 debugfs e2fsck fio git; do
	command -v "$t" >/dev/null || skip "$t is not installed"
done
mktree src
mkdir mnt
cp -a src before
start_fuse -o j.cdpj --control ctl.sock src mnt

# sqlite3: 3 rounds of 100 transactions, a mark after each.
sqlite3 mnt/db.sqlite "create table t(a integer, b blob);"
for r in 1 2 3; do
	i=0
	while [ $i -lt 100 ]; do
		echo "begin; insert into t values($i, randomblob(500)); commit;"
		i=$((i + 1))
	done | sqlite3 mnt/db.sqlite
	+ cdp-mark --control ctl.sock "sql$r" >/dev/null
done

# A raw disk image: mkfs, then debugfs writes, marks in between.
truncate -s 24M mnt/disk.img
+ mkfs.ext4 -q -F mnt/disk.img
+ cdp-mark --control ctl.sock fs0 >/dev/null
seq 1 20000 >numbers.txt
printf 'mkdir d\nwrite numbers.txt d/numbers\nwrite /etc/services services\n' >cmd1
+ debugfs -w -f cmd1 mnt/disk.img >debugfs.out 2>&1
+ cdp-mark --control ctl.sock fs1 >/dev/null
printf 'rm services\nmkdir d/e\nwrite numbers.txt d/e/n2\nsymlink s d/numbers\n' >cmd2
+ debugfs -w -f cmd2 mnt/disk.img >>debugfs.out 2>&1
+ cdp-mark --control ctl.sock fs2 >/dev/null

# Everyday tools.
+ git init -q mnt/repo
seq 1 500 >mnt/repo/n
git -C mnt/repo add n
+ git -C mnt/repo -c user.name=t -c user.email=t@t commit -qm one
tar cf src.tar -C before .
mkdir mnt/tx
+ tar -xf src.tar -C mnt/tx
+ cp -a before mnt/cpa
+ fio --name=v --filename=mnt/fio.bin --rw=randwrite --bs=4k --size=2M \
    --ioengine=psync --verify=crc32c --do_verify=1 --output=fio.out
mkdir mnt/pub
chmod 1777 mnt/pub
+ su nobody -s /bin/sh -c "echo mine >mnt/pub/nobody.txt && mkdir mnt/pub/nd"
[ "$(stat -c %U src/pub/nobody.txt)" = nobody ] ||
    die "a file nobody created through the mount is not nobody's"
expect_status 2 su nobody -s /bin/sh -c "echo no >mnt/tx/refused"
stop_fuse

# The whole journal onto the starting copy gives SOURCE.
cp -a before replay
+ cdp-replay -C replay j.cdpj
compare_trees --owner --xattr src replay
# The database at each mark, the disk image at each mark.
sqlite_at_marks db.sqlite sql 100
for m in fs0 fs1 fs2; do
	at_mark "at-$m" "$m"
	e2fsck -fn "at-$m/disk.img" >"e2fsck-$m.out" 2>&1 ||
	    die "disk image at mark $m: e2fsck -fn found problems"
done
debugfs -R "cat d/e/n2" at-fs2/disk.img 2>/dev/null | cmp -s - numbers.txt ||
    die "disk image at mark fs2: d/e/n2 is not what was written"
cdp-dump j.cdpj | grep -q ' FSYNC ' || die "no FSYNC record"
