# shellcheck shell=bash
# tests/e2e/lib.sh: helpers for the end-to-end tests.
#
# A test starts with
#
#	set -eu
#	. "$CDP_ROOT/tests/e2e/lib.sh"
#
# and runs in its own scratch directory (see tests/e2e/run).  Helpers:
#
#   die MSG...              print "NAME: MSG" on stderr, exit 1
#   skip MSG...             print MSG on stderr, exit 77 (the runner's SKIP)
#   + CMD...                print "+ CMD" on stderr, then run CMD
#   run_cmd CMD...          the same as "+ CMD..."
#   expect_status WANT CMD...   print "+ CMD", run it, die unless its exit
#                           status is WANT (use instead of "! CMD")
#   at_exit CMD...          run CMD when the test exits, however it exits
#   tree_digest [--mtime] [--owner] [--xattr] DIR
#                           one line per entry below DIR: a stable listing
#                           of names, types, modes, sizes, contents (sha256),
#                           symlink targets and hard links
#   compare_trees [--mtime] [--owner] [--xattr] A B
#                           die with a diff unless A and B digest the same
#   mktree DIR              make a small tree with one of everything
#   free_port               print a free TCP port on 127.0.0.1
#   start_sshd / stop_sshd  a throwaway sshd on 127.0.0.1 that lets root in
#                           with a key; exports CDP_SSH (a command line for
#                           cdp-send -e) and CDP_SSH_PORT

_lib_name=${0##*/}
_lib_name=${_lib_name%.sh}

die()
{
	echo "$_lib_name: $*" >&2
	exit 1
}

skip()
{
	echo "$*" >&2
	exit 77
}

run_cmd()
{
	echo "+ $*" >&2
	"$@"
}

+()
{
	run_cmd "$@"
}

expect_status()
{
	local want=$1 rc=0
	shift
	echo "+ $*" >&2
	"$@" || rc=$?
	[ "$rc" -eq "$want" ] || die "$*: exit status $rc, want $want"
}

# at_exit: commands run in reverse order at exit; the exit status is kept.
_lib_at_exit=()
_lib_run_at_exit()
{
	local rc=$? i
	for ((i = ${#_lib_at_exit[@]} - 1; i >= 0; i--)); do
		eval "${_lib_at_exit[i]}" || true
	done
	exit "$rc"
}
trap _lib_run_at_exit EXIT
# Killed (by the runner's timeout, say): still clean up.
trap 'exit 143' TERM
trap 'exit 130' INT

at_exit()
{
	_lib_at_exit+=("$*")
}

# tree_digest [--mtime] [--owner] [--xattr] DIR
#
# One line per entry below DIR (DIR itself is not listed), sorted by path:
#
#   PATH type=f mode=0644 size=N sha256=HEX [link=FIRST]
#   PATH type=d mode=0755
#   PATH type=l target=TARGET
#   PATH type=p|s|c|b mode=... [rdev=MAJ,MIN]
#
# link=FIRST appears on every member of a group of hard links inside DIR
# (FIRST is the group's first path), so two trees digest the same iff they
# have the same names, types, modes, contents, symlink targets and hard
# links.  Times are left out unless --mtime (then mtime=NS, symlinks and
# directories included); --owner adds uid= gid=, --xattr the extended
# attributes.  Bytes outside printable ASCII in names are written \xNN.
tree_digest()
{
	python3 - "$@" <<'EOF'
import hashlib, os, stat, sys

args = sys.argv[1:]
opts = {a for a in args if a.startswith("--")}
dirs = [a for a in args if not a.startswith("--")]
bad = opts - {"--mtime", "--owner", "--xattr"}
if bad or len(dirs) != 1:
    sys.exit("tree_digest: usage: tree_digest [--mtime] [--owner] [--xattr] DIR")
top = os.fsencode(dirs[0])

def q(b):
    out = []
    for c in b:
        if c == 0x5c:
            out.append("\\\\")
        elif 0x20 <= c < 0x7f:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)

entries = []
for d, subdirs, files in os.walk(top):
    for name in subdirs + files:
        full = os.path.join(d, name)
        entries.append((os.path.relpath(full, top), full))
entries.sort()

st = {rel: os.lstat(full) for rel, full in entries}
groups = {}
for rel, _ in entries:
    s = st[rel]
    if stat.S_ISREG(s.st_mode) and s.st_nlink > 1:
        groups.setdefault((s.st_dev, s.st_ino), []).append(rel)
first = {}
for members in groups.values():
    if len(members) > 1:
        for rel in members:
            first[rel] = members[0]

kinds = [(stat.S_ISREG, "f"), (stat.S_ISDIR, "d"), (stat.S_ISLNK, "l"),
         (stat.S_ISFIFO, "p"), (stat.S_ISSOCK, "s"), (stat.S_ISCHR, "c"),
         (stat.S_ISBLK, "b")]
for rel, full in entries:
    s = st[rel]
    kind = next(k for test, k in kinds if test(s.st_mode))
    f = [q(rel), "type=" + kind]
    if kind != "l":
        f.append("mode=%04o" % stat.S_IMODE(s.st_mode))
    if kind == "f":
        h = hashlib.sha256()
        with open(full, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        f += ["size=%d" % s.st_size, "sha256=" + h.hexdigest()]
        if rel in first:
            f.append("link=" + q(first[rel]))
    elif kind == "l":
        f.append("target=" + q(os.readlink(full)))
    elif kind in "cb":
        f.append("rdev=%d,%d" % (os.major(s.st_rdev), os.minor(s.st_rdev)))
    if "--owner" in opts:
        f += ["uid=%d" % s.st_uid, "gid=%d" % s.st_gid]
    if "--mtime" in opts:
        f.append("mtime=%d" % s.st_mtime_ns)
    if "--xattr" in opts:
        try:
            names = sorted(os.listxattr(full, follow_symlinks=False))
        except OSError:
            names = []
        for n in names:
            v = os.getxattr(full, n, follow_symlinks=False)
            f.append("xattr:%s=%s" % (q(os.fsencode(n)), v.hex()))
    print(" ".join(f))
EOF
}

# compare_trees [--mtime] [--owner] [--xattr] A B
compare_trees()
{
	local opts=() a b da db
	while [ $# -gt 2 ]; do
		opts+=("$1")
		shift
	done
	[ $# -eq 2 ] || die "compare_trees: usage: compare_trees [OPTION...] A B"
	a=$1 b=$2
	[ -d "$a" ] || die "compare_trees: $a: not a directory"
	[ -d "$b" ] || die "compare_trees: $b: not a directory"
	da=$(tree_digest "${opts[@]}" "$a") || die "compare_trees: cannot digest $a"
	db=$(tree_digest "${opts[@]}" "$b") || die "compare_trees: cannot digest $b"
	if [ "$da" != "$db" ]; then
		diff -u --label "$a" --label "$b" <(printf '%s\n' "$da") \
		    <(printf '%s\n' "$db") | head -n 60 >&2
		die "trees differ: $a $b"
	fi
}

# mktree DIR: a small tree with one of everything cdp must carry.  Contents
# are fixed, so the digest of a fresh mktree is always the same.
mktree()
{
	local d=$1 i
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		umask 022
		mkdir -p a/b/c empty-dir 'dir with spaces' private sticky
		printf 'hello, world\n' >a/hello.txt
		printf 'deep\n' >a/b/c/deep.txt
		: >empty-file
		# every byte value, twice
		for i in 1 2; do
			printf '%b' "$(printf '\\%03o' {0..255})"
		done >a/binary.bin
		# bigger than one 64 KiB read, not a multiple of 8
		seq 1 15000 >a/b/numbers.txt
		printf 'spaces in the name\n' >'dir with spaces/file with spaces.txt'
		printf '#!/bin/sh\necho hi\n' >a/script.sh
		printf 'secret\n' >private/key
		printf 'read only\n' >a/readonly.txt
		printf 'group\n' >a/group.txt
		printf 'linked\n' >a/hardlink-1
		ln a/hardlink-1 a/b/hardlink-2
		ln -s hello.txt a/symlink
		ln -s ../../a/hello.txt a/b/c/up-symlink
		ln -s does-not-exist dangling
		chmod 0755 a/script.sh
		chmod 0444 a/readonly.txt
		chmod 0640 a/group.txt
		chmod 0600 private/key
		chmod 0700 private
		chmod 1777 sticky
	)
}

free_port()
{
	python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# start_sshd: a throwaway sshd on 127.0.0.1, keys and config in ./sshd/.
# The sessions it starts have PATH=$CDP_ROOT:... so a remote cdp-recv is
# the one just built.  It is killed when the test exits (or by stop_sshd).
_lib_sshd_pid=
start_sshd()
{
	local d port i
	[ -x /usr/sbin/sshd ] || skip "sshd is not installed (scripts/deps.sh installs it)"
	command -v ssh-keygen >/dev/null || skip "ssh-keygen is not installed"
	d=$PWD/sshd
	mkdir -p "$d" /run/sshd
	chmod 0755 /run/sshd 2>/dev/null || true
	rm -f "$d/host_key" "$d/host_key.pub" "$d/client_key" "$d/client_key.pub"
	ssh-keygen -q -t ed25519 -N '' -C cdp-test-host -f "$d/host_key"
	ssh-keygen -q -t ed25519 -N '' -C cdp-test-client -f "$d/client_key"
	cp "$d/client_key.pub" "$d/authorized_keys"
	chmod 0600 "$d/authorized_keys"
	port=$(free_port)
	cat >"$d/sshd_config" <<-EOF
		Port $port
		ListenAddress 127.0.0.1
		HostKey $d/host_key
		PidFile $d/sshd.pid
		AuthorizedKeysFile $d/authorized_keys
		UsePAM no
		PermitRootLogin prohibit-password
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		StrictModes no
		PrintMotd no
		SetEnv PATH=$CDP_ROOT:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin CDP_ROOT=$CDP_ROOT
		Subsystem sftp internal-sftp
		LogLevel ERROR
	EOF
	/usr/sbin/sshd -t -f "$d/sshd_config" 2>"$d/sshd.log" ||
	    die "start_sshd: bad config: $(cat "$d/sshd.log")"
	/usr/sbin/sshd -D -e -f "$d/sshd_config" </dev/null >>"$d/sshd.log" 2>&1 &
	_lib_sshd_pid=$!
	at_exit stop_sshd
	for ((i = 0; i < 100; i++)); do
		kill -0 "$_lib_sshd_pid" 2>/dev/null ||
		    die "start_sshd: sshd exited: $(cat "$d/sshd.log")"
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	[ "$i" -lt 100 ] || die "start_sshd: port $port never accepted"
	CDP_SSH_PORT=$port
	CDP_SSH="ssh -F none -p $port -i $d/client_key -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"
	export CDP_SSH CDP_SSH_PORT
}

stop_sshd()
{
	[ -n "$_lib_sshd_pid" ] || return 0
	kill "$_lib_sshd_pid" 2>/dev/null || true
	wait "$_lib_sshd_pid" 2>/dev/null || true
	_lib_sshd_pid=
}
