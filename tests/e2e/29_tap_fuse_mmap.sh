# Shared mappings and loop devices through a cdp-tap --fuse mount, which
# opens files in direct I/O mode when the kernel allows it: a file written
# through a shared mapping and msync, write(2), read(2) on a read-only
# descriptor and a mapping of the same file seeing each other's bytes,
# SQLite in WAL mode (its index is a
# shared mapping) with marks, and an ext4 image loop-mounted from the
# mount point.  Each state replayed from the journal is the real one.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/fuse_lib.sh"

need_fuse
for t in python3 sqlite3 mkfs.ext4 e2fsck losetup; do
	command -v "$t" >/dev/null || skip "$t is not installed"
done
mktree src
mkdir mnt
cp -a src before
start_fuse -o j.cdpj --control ctl.sock src mnt

# A file written through a shared mapping, then coherence both ways.
+ python3 - mnt/mapped.bin <<'EOF'
import mmap, os, sys
p = sys.argv[1]
fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, 3 * 65536)
m = mmap.mmap(fd, 3 * 65536, mmap.MAP_SHARED)
for i in range(3):
    m[i * 65536:(i + 1) * 65536] = bytes([65 + i]) * 65536
m.flush()
# write(2) into the mapped range: the mapping must see it.
os.pwrite(fd, b"written", 100)
if m[100:107] != b"written":
    sys.exit("the mapping does not see a write(2)")
# A store through the mapping: a read(2) must see it after msync.
m[70000:70006] = b"stored"
m.flush()
if os.pread(fd, 6, 70000) != b"stored":
    sys.exit("read(2) does not see a store through the mapping")
# A file open only for reading keeps a page cache: it must see writes
# made through a descriptor open for writing, and the reverse.
ro = os.open(p, os.O_RDONLY)
if os.pread(ro, 6, 70000) != b"stored":
    sys.exit("a read-only descriptor does not see the mapping's store")
os.pwrite(fd, b"again!", 70000)
if os.pread(ro, 6, 70000) != b"again!":
    sys.exit("a read-only descriptor does not see a later write(2)")
os.close(ro)
m.close()
os.close(fd)
EOF
cmp -s src/mapped.bin mnt/mapped.bin || die "mapped.bin differs between SOURCE and the mount"
+ cdp-mark --control ctl.sock mapped >/dev/null
cp src/mapped.bin mapped.want

# SQLite in WAL mode: 3 rounds of 50 transactions, a mark after each,
# while one connection stays open (so the WAL and its index stay).
sqlite3 mnt/wal.db "pragma journal_mode=wal; create table t(a integer, b blob);" >/dev/null
mkfifo hold
sqlite3 mnt/wal.db <hold >/dev/null &
hold_pid=$!
exec 8>hold
echo ".timeout 10000" >&8
echo "select count(*) from t;" >&8
for r in 1 2 3; do
	{
		# The open connection may hold a lock for a moment.
		echo ".timeout 10000"
		i=0
		while [ $i -lt 50 ]; do
			echo "begin; insert into t values($i, randomblob(300)); commit;"
			i=$((i + 1))
		done
	} | sqlite3 mnt/wal.db
	[ -s src/wal.db-wal ] || die "round $r: no WAL file in SOURCE"
	+ cdp-mark --control ctl.sock "wal$r" >/dev/null
done
exec 8>&-
wait "$hold_pid"

# An ext4 image loop-mounted from the mount point.
truncate -s 32M mnt/disk.img
+ mkfs.ext4 -q -F mnt/disk.img
loopdev=$(losetup -f --show mnt/disk.img 2>/dev/null) ||
    skip "no loop device available"
at_exit "umount loopmnt 2>/dev/null; losetup -d $loopdev 2>/dev/null"
mkdir loopmnt
mount "$loopdev" loopmnt
seq 1 20000 >loopmnt/numbers
mkdir loopmnt/d
cp -a before loopmnt/d/tree
umount loopmnt
losetup -d "$loopdev"
+ cdp-mark --control ctl.sock loop >/dev/null
stop_fuse

# The whole journal onto the starting copy gives SOURCE.
cp -a before replay
+ cdp-replay -C replay j.cdpj
compare_trees src replay
# Each state at its mark.
at_mark at mapped
cmp -s mapped.want at/mapped.bin || die "mapped.bin at its mark is not what was written"
sqlite_at_marks wal.db wal 50
at_mark at loop
e2fsck -fn at/disk.img >e2fsck.out 2>&1 ||
    die "the loop-mounted image at its mark: e2fsck -fn found problems"
debugfs -R "cat numbers" at/disk.img 2>/dev/null | cmp -s - <(seq 1 20000) ||
    die "the loop-mounted image at its mark: numbers is not what was written"

# -v says which way files open for writing go: direct I/O from Linux 6.6
# (FUSE_DIRECT_IO_ALLOW_MMAP), the mount's page cache before.
want="go through the mount"
uname -r | awk -F. '{ exit !($1 > 6 || ($1 == 6 && $2 >= 6)) }' &&
    want="bypass the mount"
start_fuse -v -o v.cdpj src mnt
fusermount3 -u mnt
wait "$tap_pid" || die "cdp-tap -v --fuse: exit status $?"
grep -q "files open for writing $want" tap.err ||
    die "cdp-tap -v --fuse does not say files open for writing $want"
