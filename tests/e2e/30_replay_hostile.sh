# The hostile-journal suite: every case in data/hostile/ is a journal
# script for tests/helpers/mkhostile.  Each is replayed into a fresh DIR
# with a victim directory beside it (and / itself) as the targets of the
# attack.  For each case the test checks the exit status (# status: N),
# that a failure names the record by seq and byte offset, that the victim
# and / are unchanged, the files that must (# file: PATH CONTENT) or must
# not (# absent: PATH) be in DIR afterwards, and that --check reports the
# same verdict without writing anything (# check-status: N where only the
# filesystem can tell).  "# args: ..." are options for both runs, "# setup:
# ..." a command run first.  The messages themselves are
# pinned in the .stdout.exact file.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mk=$CDP_ROOT/tests/helpers/mkhostile
[ -x "$mk" ] || die "$mk is not built (make tests/helpers/mkhostile)"
cases=("$CDP_TEST_DATA"/hostile/*.txt)
# Work in a directory whose path has the same length wherever the tree is
# checked out: symlink targets name it, and they set the byte offsets that
# the pinned messages contain.
base=$(mktemp -d /tmp/cdp-hostile.XXXXXXXX)
at_exit rm -rf "$base"
cd "$base"
[ "${#cases[@]}" -ge 30 ] || die "only ${#cases[@]} hostile cases"
[ ! -e /cdp-hostile-pwned ] || die "/cdp-hostile-pwned exists before the test"

# A cheap digest (tree_digest costs a python start per call): names,
# types, modes, sizes, times, owners, link targets, contents.
snap()
{
	find "$1" -printf '%P %y %m %s %T@ %U %G %l\n' | LC_ALL=C sort
	find "$1" -type f -print0 | LC_ALL=C sort -z | xargs -0r cat | md5sum
}

for c in "${cases[@]}"; do
	name=$(basename "$c" .txt)
	w=$PWD/$name
	mkdir -p "$w/dir" "$w/victim/sub"
	printf 'precious\n' >"$w/victim/sentinel"
	chmod 0644 "$w/victim/sentinel"
	want=$(sed -n 's/^# status: //p' "$c")
	# A limit of the filesystem only shows when written to.
	want_check=$(sed -n 's/^# check-status: //p' "$c")
	want_check=${want_check:-$want}
	read -r -a args <<<"$(sed -n 's/^# args: //p' "$c")"
	sed "s|VICTIM|$w/victim|g" "$c" | "$mk" "$w/j.cdpj"
	setup=$(sed -n 's/^# setup: //p' "$c")
	if [ -n "$setup" ]; then
		setup=${setup//VICTIM/$w/victim}
		eval "${setup//DIR/$w/dir}"
	fi
	before=$(snap "$w/victim")
	dir_before=$(snap "$w/dir")

	# --check: same verdict, nothing written.
	rc=0
	cdp-replay --check "${args[@]}" -C "$w/dir" "$w/j.cdpj" 2>"$w/check.err" || rc=$?
	[ "$rc" -eq "$want_check" ] ||
	    die "$name: --check: exit status $rc, want $want_check: $(cat "$w/check.err")"
	[ "$(snap "$w/dir")" = "$dir_before" ] ||
	    die "$name: --check changed DIR"

	rc=0
	cdp-replay "${args[@]}" -C "$w/dir" "$w/j.cdpj" 2>"$w/err" || rc=$?
	[ "$rc" -eq "$want" ] ||
	    die "$name: exit status $rc, want $want: $(cat "$w/err")"
	if [ "$rc" -ne 0 ]; then
		grep -q 'seq [0-9]' "$w/err" || die "$name: no seq in: $(cat "$w/err")"
		grep -q 'offset [0-9]' "$w/err" || die "$name: no offset in: $(cat "$w/err")"
	fi
	[ "$(snap "$w/victim")" = "$before" ] ||
	    die "$name: the victim directory changed"
	[ ! -e /cdp-hostile-pwned ] || { rmdir /cdp-hostile-pwned; die "$name: / changed"; }
	sed -n 's/^# file: //p' "$c" | while read -r f content; do
		[ "$(cat "$w/dir/$f")" = "$content" ] ||
		    die "$name: $f: want \"$content\", got \"$(cat "$w/dir/$f")\""
	done
	sed -n 's/^# absent: //p' "$c" | while read -r f; do
		[ ! -e "$w/dir/$f" ] || die "$name: $f exists"
	done
	# The message, with the scratch path taken out.
	printf '%s: %s\n' "$name" "$(sed "s|$w|W|g" "$w/err" | tr '\n' ' ' | sed 's/ $//')"
done

# Special cases: what the engine must have done.
[ "$(stat -c %a 25-setuid-kept/dir/f)" = 4755 ] || die "setuid bit not kept"
[ -L 18-setattr-symlink-nofollow/dir/s ] || die "18: s is not a symlink"
[ "$(stat -c %a 18-setattr-symlink-nofollow/victim/sentinel)" = 644 ] ||
    die "18: SETATTR followed the symlink"
python3 -c 'import os,sys; v=os.getxattr(sys.argv[1],"user.ok"); assert v==b"z", v
assert set(os.listxattr(sys.argv[1])) == {"user.ok"}, os.listxattr(sys.argv[1])' \
    23-xattr-security/dir/f || die "23: xattrs other than user.ok"
[ "$(od -An -c 45-huge-zero-range/dir/f | tr -d ' ')" = 'a\0\0' ] ||
    die "45: want a\\0\\0"
# FALLOCATE: the content, and no space beyond what it needs (8 sectors:
# one 4 KiB block; a 256 MiB reservation would be 524288).
small()
{
	local f=$1 size=$2
	[ "$(stat -c %s "$f")" = "$size" ] ||
	    die "$f: size $(stat -c %s "$f"), want $size"
	[ "$(stat -c %b "$f")" -le 64 ] ||
	    die "$f: $(stat -c %b "$f") sectors allocated"
}
small 46-insert-range-huge/dir/f 268435460
[ "$(head -c 4 46-insert-range-huge/dir/f | od -An -c | tr -d ' ')" = 'a\0\0\0' ] ||
    die "46: f does not start a\\0"
[ "$(tail -c 3 46-insert-range-huge/dir/f | od -An -c | tr -d ' ')" = '\0bc' ] ||
    die "46: f does not end \\0bc"
small 47-fallocate-no-space/dir/keep 3
small 47-fallocate-no-space/dir/alloc 268435456
small 47-fallocate-no-space/dir/zero 268435457
small 47-fallocate-no-space/dir/zerokeep 3
small 47-fallocate-no-space/dir/unshare 0
[ "$(od -An -c 47-fallocate-no-space/dir/zerokeep | tr -d ' ')" = 'a\0\0' ] ||
    die "47: zerokeep: want a\\0\\0"
[ "$(head -c 3 47-fallocate-no-space/dir/zero | od -An -c | tr -d ' ')" = 'a\0\0' ] ||
    die "47: zero: want a\\0\\0..."
