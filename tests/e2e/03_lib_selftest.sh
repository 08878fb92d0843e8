# The helpers in lib.sh that other tests trust: tree_digest and
# compare_trees must see every kind of difference, mktree must be the same
# tree every time, expect_status must pin statuses, and start_sshd must give
# a working ssh to root@127.0.0.1 whose PATH finds the built programs.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

# differs A B WHAT: compare_trees must fail on A and B.
differs()
{
	local rc=0
	(compare_trees "$1" "$2") 2>/dev/null || rc=$?
	[ "$rc" -eq 1 ] || die "compare_trees missed: $3"
	rm -rf "$2"
}

mktree a
tree_digest a >digest
# The digest of mktree is fixed: names, modes, contents, links.
cat digest

cp -a a b
compare_trees a b
rm -rf b

cp -a a b; chmod 0600 b/a/hello.txt; differs a b "a mode"
cp -a a b; printf x >>b/a/b/numbers.txt; differs a b "appended content"
cp -a a b; printf 'hellO, world\n' >b/a/hello.txt; differs a b "same-size content"
cp -a a b; ln -sfn other b/a/symlink; differs a b "a symlink target"
cp -a a b; rm b/a/b/hardlink-2; cp b/a/hardlink-1 b/a/b/hardlink-2; differs a b "a broken hard link"
cp -a a b; rmdir b/empty-dir; : >b/empty-dir; differs a b "a dir that became a file"
cp -a a b; rmdir b/empty-dir; differs a b "a missing empty dir"
cp -a a b; : >b/extra; differs a b "an extra file"
cp -a a b; mv 'b/dir with spaces/file with spaces.txt' 'b/dir with spaces/file with  spaces.txt'; differs a b "a renamed file"
# Times are ignored unless asked for.
cp -a a b; touch -d '2001-01-01 00:00:00' b/a/hello.txt
compare_trees a b
cp -a a b; touch -d '2001-01-01 00:00:00' b/a/hello.txt
rc=0; (compare_trees --mtime a b) 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || die "compare_trees --mtime missed an mtime"
rm -rf b

expect_status 0 true
expect_status 3 sh -c 'exit 3'
rc=0; (expect_status 0 false) 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || die "expect_status accepted a wrong status"

port=$(free_port)
[ "$port" -gt 0 ] && [ "$port" -lt 65536 ] || die "free_port: $port"

start_sshd
$CDP_SSH root@127.0.0.1 true || die "ssh root@127.0.0.1 true: exit status $?"
remote=$($CDP_SSH root@127.0.0.1 'command -v cdp-dump || echo none')
[ "$remote" = "$CDP_ROOT/cdp-dump" ] || die "remote cdp-dump is $remote, want $CDP_ROOT/cdp-dump"
stop_sshd
rc=0; $CDP_SSH -o ConnectTimeout=5 root@127.0.0.1 true 2>/dev/null || rc=$?
[ "$rc" -eq 255 ] || die "ssh after stop_sshd: exit status $rc, want 255"
