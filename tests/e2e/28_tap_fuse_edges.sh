# cdp-tap --fuse, the corners: rename with RENAME_EXCHANGE and
# RENAME_NOREPLACE, hard links (writes through the second name after the
# first is removed), xattrs, O_APPEND, fallocate, copy_file_range,
# SEEK_DATA/SEEK_HOLE, FIFOs, utimens; failed calls return their errno and
# are not journaled; when fsync returns, the FSYNC record is in the
# journal file.  --baseline then SIGTERM: the stream alone rebuilds the
# tree and ends with STREAM_END.  Then bad input: SOURCE missing,
# MOUNTPOINT not a directory, busy, a stale mount of a killed tap.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/fuse_lib.sh"

need_fuse
mktree src
mkdir mnt
cp -a src before
start_fuse -o j.cdpj src mnt
+ python3 - mnt j.cdpj <<'PY'
import ctypes, errno, os, subprocess, sys
mnt, journal = sys.argv[1], sys.argv[2]
os.chdir(mnt)
libc = ctypes.CDLL(None, use_errno=True)
def renameat2(a, b, flags):
    if libc.renameat2(-100, a.encode(), -100, b.encode(), flags) != 0:
        return ctypes.get_errno()
    return 0
def expect_err(want, fn, *args):
    try:
        fn(*args)
    except OSError as e:
        assert e.errno == want, (fn.__name__, e)
        return
    raise AssertionError(fn.__name__ + " did not fail")
open("x1", "w").write("one")
os.mkdir("x2")
assert renameat2("x1", "x2", 2) == 0          # RENAME_EXCHANGE
assert renameat2("x1", "x2", 1) == errno.EEXIST   # RENAME_NOREPLACE
open("over", "w").write("old")
open("new", "w").write("new")
os.rename("new", "over")
os.link("over", "ln2")
os.unlink("over")
with open("ln2", "r+") as f:                  # first name gone
    f.seek(1); f.write("EW")
os.setxattr("ln2", "user.a", b"1")
os.setxattr("ln2", "user.a", b"22", os.XATTR_REPLACE)
os.setxattr("ln2", "user.b", b"3")
os.removexattr("ln2", "user.b")
expect_err(errno.ENODATA, os.removexattr, "ln2", "user.nope")
fd = os.open("app.log", os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o640)
for i in range(50):
    os.write(fd, b"line %d\n" % i)
os.close(fd)
fd = os.open("sparse", os.O_CREAT | os.O_RDWR, 0o600)
os.pwrite(fd, b"data" * 1024, 1 << 20)
os.posix_fallocate(fd, 0, 8192)
libc.fallocate(fd, 3, 4096, 4096)             # PUNCH_HOLE|KEEP_SIZE
assert os.lseek(fd, 8192, os.SEEK_DATA) == 1 << 20
assert os.lseek(fd, 4096, os.SEEK_HOLE) == 4096
os.fsync(fd)
dump = subprocess.run(["cdp-dump", os.path.join("..", journal)],
                      capture_output=True, text=True).stdout
last = [l for l in dump.splitlines() if not l.startswith("#")][-1]
assert " FSYNC " in last and last.endswith(" sparse"), \
    "fsync returned before its FSYNC record was in the journal: " + last
src = os.open("app.log", os.O_RDONLY)
dst = os.open("copy", os.O_CREAT | os.O_WRONLY, 0o644)
assert os.copy_file_range(src, dst, 100, 0, 10) == 100
os.close(src); os.close(dst); os.close(fd)
os.mkfifo("fifo", 0o620)
os.utime("copy", ns=(1000000000, 2000000000))
os.chmod("copy", 0o604)
os.truncate("app.log", 20)
expect_err(errno.ENOTEMPTY, os.rmdir, "a")
expect_err(errno.ENOENT, os.unlink, "missing")
expect_err(errno.EEXIST, os.mkdir, "a")
os.symlink("ln2", "sym")
os.makedirs("d/e/f")
os.rename("d", "moved")
open("moved/e/f/deep", "w").write("deep")
os.fdatasync(os.open("moved/e/f/deep", os.O_RDONLY))
PY
stop_fuse
cp -a before replay
+ cdp-replay -C replay j.cdpj
compare_trees --xattr src replay
[ "$(cat src/ln2)" = nEW ] || die "ln2 does not hold nEW"
cdp-dump j.cdpj | grep -c 'RENAME ' | grep -qx 3 ||
    die "want 3 RENAME records (the NOREPLACE rename failed)"
if cdp-dump j.cdpj | grep -q 'missing'; then
	die "a failed unlink was journaled"
fi

# --baseline, ended by SIGTERM: the stream alone rebuilds SOURCE.
start_fuse --baseline -o b.cdpj src mnt
echo after >mnt/after.txt
echo "+ kill -TERM cdp-tap" >&2
kill -TERM "$tap_pid"
rc=0; wait "$tap_pid" || rc=$?
[ "$rc" -eq 0 ] || die "cdp-tap --fuse after SIGTERM: exit status $rc"
if awk -v m="$PWD/mnt" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; then
	die "SIGTERM left mnt mounted"
fi
mkdir fromscratch
+ cdp-replay -C fromscratch b.cdpj
compare_trees src fromscratch
cdp-dump b.cdpj | tail -n 1 | grep -q STREAM_END || die "no STREAM_END"

# Set-id bits: a write, a truncate and an open with O_TRUNC by a user
# other than the owner clear them as on SOURCE's own file system (with
# FUSE_HANDLE_KILLPRIV_V2 the kernel leaves that to cdp-tap), and the
# journal says so.
mkdir native
cp -a src before-sid
start_fuse -o sid.cdpj src mnt
for d in mnt native; do
	for f in w t o; do
		echo x >"$d/sid-$f"
		chmod 6777 "$d/sid-$f"
	done
	su nobody -s /bin/sh -c "echo more >>$d/sid-w; truncate -s 1 $d/sid-t; : >$d/sid-o"
done
for f in w t o; do
	[ "$(stat -c %a "src/sid-$f")" = "$(stat -c %a "native/sid-$f")" ] ||
	    die "sid-$f: mode $(stat -c %a "src/sid-$f") through the mount, $(stat -c %a "native/sid-$f") natively"
done
[ "$(stat -c %a native/sid-w)" = 777 ] || die "the kernel did not clear set-id bits natively"
stop_fuse
cdp-replay -C before-sid sid.cdpj
compare_trees src before-sid

# Bad input.
touch notadir
expect_status 2 cdp-tap --fuse -o e.cdpj nowhere mnt
expect_status 2 cdp-tap --fuse -o e.cdpj src notadir
expect_status 2 cdp-tap --fuse -o e.cdpj src
expect_status 2 cdp-tap --fuse -o e.cdpj src src/a
expect_status 2 cdp-tap --mount-opts ro -o e.cdpj -- true
start_fuse -o busy.cdpj src mnt
expect_status 1 cdp-tap --fuse -o e.cdpj src mnt
# A killed tap leaves a stale mount: named on restart, with the cure.
echo "+ kill -KILL cdp-tap" >&2
disown "$tap_pid"		# no "Killed" notice from the shell
kill -KILL "$tap_pid"
while kill -0 "$tap_pid" 2>/dev/null; do sleep 0.05; done
expect_status 1 cdp-tap --fuse -o e.cdpj src mnt
+ fusermount3 -uz mnt
start_fuse -o again.cdpj src mnt
stop_fuse
