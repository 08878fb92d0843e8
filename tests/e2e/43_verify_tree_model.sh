# cdp-verify --tree without a copy: the journal's state is built in memory
# and DIR is read against the journal.  TMPDIR=/nonexistent proves which
# way was taken: the in-memory model needs no temporary directory, the
# copy it falls back to does.  Every kind of difference is still found,
# at the end and at a mark; journals the model cannot follow fall back
# and still give the right answer.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

"$CDP_ROOT/tests/helpers/mkhostile" j.cdpj <<'J'
hdr
mkdir 755 d
mkdir 700 empty
create 644 d/f
write 0 d/f hello
compress
write 8192 d/f @70000:z
create 600 d/g
write 0 d/g @5000:g
truncate 100 d/g
truncate 3000 d/g
write 2000 d/g tail
create 644 d/p
write 0 d/p @9000:p
fallocate 3 10 4000 d/p
fallocate 16 8000 2000 d/p
link d/f d/h
symlink d/l f
create 10644 fifo
create 644 tmp
write 0 tmp @100:t
rename 0 tmp d/moved
mkdir 755 x
create 644 x/in
rename 0 x y
mark first
compress
write 3 d/moved ABC
link d/g d/g2
unlink d/g
create 644 gone
end
J
mkdir t
+ cdp-replay -C t j.cdpj
export TMPDIR=/nonexistent
+ cdp-verify -q --tree t j.cdpj
+ cdp-verify -q --tree t --at-seq 28 j.cdpj
expect_status 1 cdp-verify -q --tree t --at first j.cdpj
expect_status 1 cdp-verify -q --tree t --at-seq 27 j.cdpj

# The state at the mark, in a second tree.
mkdir t0
+ cdp-replay -C t0 --until-mark first j.cdpj
+ cdp-verify -q --tree t0 --at first j.cdpj
+ cdp-verify -q --tree t0 --at-seq 24 j.cdpj

# One difference of each kind.
printf 'J' | dd of=t/d/f bs=1 seek=9000 conv=notrunc status=none  # content, in compressed data
printf 'x' | dd of=t/d/p bs=1 seek=20 conv=notrunc status=none    # content, in a punched hole
truncate -s 3001 t/d/g2					# size
chmod 640 t/d/moved					# mode
ln -sf h t/d/l						# symlink target
rm t/d/h && cp t/d/f t/d/h				# hard link
rm t/fifo && mkfifo -m 600 t/fifo			# mode of a fifo
rmdir t/empty						# empty dir, only in the journal
rm t/gone && mkdir t/gone				# type
mkdir t/extra						# only in the tree
rm t/y/in						# only in the journal
expect_status 1 cdp-verify --tree t j.cdpj
expect_status 1 cdp-verify --json --tree t j.cdpj
# The same at the mark, where d/g2 and gone do not exist yet.
rm -r t/gone t/d/g2
cp t/d/moved t/d/g && chmod 600 t/d/g
expect_status 1 cdp-verify --tree t --at first j.cdpj

# Standard input is copied to a file first, so it needs TMPDIR.
export TMPDIR=$PWD
+ cdp-verify -q --tree t0 --at first - <j.cdpj

# What the model cannot follow falls back to a copy, with the same answers.
"$CDP_ROOT/tests/helpers/mkhostile" c.cdpj <<'J'
hdr
create 644 f
write 0 f @10000:a
write 4096 f @4096:b
fallocate 8 0 4096 f
create 4755 s
J
mkdir c
+ cdp-replay -C c c.cdpj
+ cdp-verify -q --tree c c.cdpj
TMPDIR=/nonexistent expect_status 2 cdp-verify -q --tree c c.cdpj
printf 'X' | dd of=c/f bs=1 seek=5 conv=notrunc status=none
expect_status 1 cdp-verify --tree c c.cdpj

# A record the engine cannot apply: its message, from the fallback.
"$CDP_ROOT/tests/helpers/mkhostile" bad.cdpj <<'J'
hdr
write 0 nosuch data
J
expect_status 1 cdp-verify -q --tree c bad.cdpj
expect_status 1 cdp-verify --tree c bad.cdpj
