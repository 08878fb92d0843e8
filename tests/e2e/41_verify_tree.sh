# cdp-verify --tree: a tree equal to the journal's state passes; each kind
# of difference is printed, precisely, and fails; --at and --at-seq pick
# the point; -q and --json; a tree that cannot be read is trouble (2).
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

"$CDP_ROOT/tests/helpers/mkhostile" j.cdpj <<'J'
hdr
mkdir 755 d
create 644 d/f
write 0 d/f hello
create 600 d/secret
write 0 d/secret s3cret
symlink d/l f
link d/f d/h
mkdir 755 gone
mark first
create 644 d/late
end
J
mkdir t
+ cdp-replay -C t j.cdpj
+ cdp-verify -q --tree t j.cdpj
expect_status 1 cdp-verify -q --tree t --at first j.cdpj
+ cdp-verify -q --tree t --at-seq 10 j.cdpj
expect_status 1 cdp-verify -q --tree t --at-seq 99 j.cdpj
expect_status 1 cdp-verify -q --tree t --at nosuch j.cdpj

# One difference of each kind.
printf 'hellO' >t/d/f.new && mv t/d/f.new t/d/f	# content; breaks the link
chmod 640 t/d/secret				# mode
printf 'longer' >t/d/late			# size
ln -sf h t/d/l					# symlink target
rmdir t/gone					# only in the journal
mkdir t/extra					# only in the tree
rm t/d/h && mkdir t/d/h				# type
expect_status 1 cdp-verify --tree t j.cdpj
expect_status 1 cdp-verify --json --tree t j.cdpj
rc=0
cdp-verify -q --tree t j.cdpj >q.out 2>&1 || rc=$?
[ "$rc" -eq 1 ] && [ ! -s q.out ] || die "-q: status $rc or output"
expect_status 2 cdp-verify -q --tree no-such-dir j.cdpj
