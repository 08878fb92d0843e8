# Point in time: a journal of writes, renames, truncates, links and marks,
# and beside it the same changes made with shell commands, with a copy of
# the tree taken at each mark.  Replaying to each mark (by name, NAME@N,
# seq and time) must give exactly that copy; so must an archive of it, and
# cdp-verify --tree --at must agree.  Continuing a replay onto a tree that
# has a prefix applied gives the final state.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mk=$CDP_ROOT/tests/helpers/mkhostile
umask 022
mkdir want

# Each step: the journal lines, then the same change on want/.
"$mk" j.cdpj <<'J'
hdr
mkdir 755 etc
create 644 etc/passwd
write 0 etc/passwd root:x:0:0\x0a
create 600 etc/shadow
write 0 etc/shadow root:*:1\x0a
mkdir 755 var
create 644 var/log
write 0 var/log @5000:a
mark tuesday
create 644 etc/passwd.tmp
write 0 etc/passwd.tmp root:x:0:0\x0abob:x:1000:1000\x0a
rename 0 etc/passwd.tmp etc/passwd
truncate 100 var/log
write 98 var/log ZZZZ
link etc/shadow etc/shadow.bak
symlink etc/pw passwd
setattr 1 640 0 0 0 0 etc/shadow
mark wednesday
rename 0 var srv
unlink etc/shadow.bak
fallocate 0x10 2 3 srv/log
mkdir 700 srv/empty
mark tuesday
rmdir srv/empty
truncate 0 etc/shadow
end
J

mkdir -p want/etc want/var
printf 'root:x:0:0\n' >want/etc/passwd
printf 'root:*:1\n' >want/etc/shadow
chmod 600 want/etc/shadow
head -c 5000 /dev/zero | tr '\0' a >want/var/log
cp -a want mark1
printf 'root:x:0:0\nbob:x:1000:1000\n' >want/etc/passwd
truncate -s 100 want/var/log
printf ZZZZ | dd of=want/var/log bs=1 seek=98 conv=notrunc status=none
ln want/etc/shadow want/etc/shadow.bak
ln -s passwd want/etc/pw
chmod 640 want/etc/shadow
cp -a want mark2
mv want/var want/srv
rm want/etc/shadow.bak
printf '\0\0\0' | dd of=want/srv/log bs=1 seek=2 conv=notrunc status=none
mkdir -m 700 want/srv/empty
cp -a want mark3
rmdir want/srv/empty
: >want/etc/shadow

replay_to()
{
	rm -rf out && mkdir out
	+ cdp-replay -C out "$@" j.cdpj
}

replay_to --until-mark tuesday@1;	compare_trees mark1 out
replay_to --until-seq 9;		compare_trees mark1 out
replay_to --until-time 2026-11-25T14:38:53Z; compare_trees mark1 out
replay_to --until-mark wednesday;	compare_trees mark2 out
replay_to --until-mark tuesday;		compare_trees mark3 out
replay_to --until-mark tuesday@2;	compare_trees mark3 out
replay_to;				compare_trees want out
expect_status 1 cdp-replay -C out --until-mark friday j.cdpj
expect_status 1 cdp-replay -C out --until-mark tuesday@3 j.cdpj
expect_status 1 cdp-replay -C out --until-seq 99 j.cdpj

# Continuing: a prefix applied, then everything; then all of it again.
replay_to --until-mark wednesday
+ cdp-replay -C out j.cdpj
compare_trees want out
+ cdp-replay -C out j.cdpj
compare_trees want out
+ cdp-replay -C out <j.cdpj
compare_trees want out
expect_status 1 cdp-replay --fresh -C out j.cdpj
# A stop point before what DIR holds cannot be reached: say so.
expect_status 1 cdp-replay -C out --until-mark wednesday j.cdpj
expect_status 1 cdp-replay -C out --until-seq 9 j.cdpj
expect_status 1 cdp-replay -C out --until-time 2026-11-25T14:38:53Z j.cdpj
expect_status 1 cdp-replay --check -C out --until-mark tuesday@1 j.cdpj
compare_trees want out
# The stop point where DIR is is no error.
+ cdp-replay -C out --until-seq 25 j.cdpj

# Two journals with records missing between them.
"$mk" g1.cdpj <<'J'
hdr
create 644 f
write 0 f 111
J
"$mk" g2.cdpj <<'J'
hdr
seq 7
write 0 f 777
J
rm -rf gap && mkdir gap
expect_status 1 cdp-replay --check -C gap g1.cdpj g2.cdpj
expect_status 1 cdp-replay -C gap g1.cdpj g2.cdpj
[ "$(cat gap/f)" = 111 ] || die "gap: f is $(cat gap/f)"

# One applier per DIR: a second one is refused while the first waits for
# its journal on a FIFO; --check writes nothing and may run beside it.
rm -rf lk && mkdir lk && mkfifo fifo
cdp-replay -C lk fifo &
pid=$!
exec 3>fifo	# returns once the first has DIR locked and the FIFO open
expect_status 1 cdp-replay -C lk g1.cdpj
+ cdp-replay --check -C lk g1.cdpj
cat g1.cdpj >&3
exec 3>&-
wait "$pid" || die "the first cdp-replay failed"
[ "$(cat lk/f)" = 111 ] || die "lk: f is $(cat lk/f)"
+ cdp-replay -C lk g1.cdpj
rm -rf fresh && mkdir fresh
+ cdp-replay --fresh -C fresh --until-mark wednesday j.cdpj
compare_trees mark2 fresh

# Archives of a point in time.
for fmt in tar pax ustar; do
	+ cdp-replay -a "m2.$fmt" --format "$fmt" --until-mark wednesday j.cdpj
	rm -rf x && mkdir x && tar -xpf "m2.$fmt" -C x
	compare_trees mark2 x
done
# No cpio or zip extractor that keeps modes and links here: list them.
+ cdp-replay -a m2.cpio --until-mark wednesday j.cdpj
+ cdp-replay -a m2.zip --until-mark wednesday j.cdpj
python3 - m2.cpio m2.zip >listing <<'PY'
import sys, zipfile
data = open(sys.argv[1], "rb").read()
i = 0
while True:
    assert data[i:i + 6] == b"070707", "not odc cpio at %d" % i
    mode = int(data[i + 18:i + 24], 8)
    nlink = int(data[i + 36:i + 42], 8)
    namesize = int(data[i + 59:i + 65], 8)
    size = int(data[i + 65:i + 76], 8)
    name = data[i + 76:i + 76 + namesize - 1].decode()
    body = data[i + 76 + namesize:i + 76 + namesize + size]
    i += 76 + namesize + size
    if name == "TRAILER!!!":
        break
    print("cpio %s %o %d %d %s" % (name, mode, nlink, size,
                                    body.decode() if name == "etc/pw" else ""))
z = zipfile.ZipFile(sys.argv[2])
for n in sorted(z.namelist()):
    print("zip", n, z.read(n).count(b"\n") if n == "etc/passwd" else "")
PY
sort listing >listing.sorted
cat >want.listing <<'L'
cpio etc 40755 2 0 
cpio etc/passwd 100644 1 27 
cpio etc/pw 120777 1 6 passwd
cpio etc/shadow 100640 2 9 
cpio etc/shadow.bak 100640 2 9 
cpio var 40755 2 0 
cpio var/log 100644 1 102 
zip etc/ 
zip etc/passwd 2
zip etc/pw 
zip etc/shadow 
zip etc/shadow.bak 
zip var/ 
zip var/log 
L
diff -u want.listing listing.sorted || die "cpio or zip archive differs"
+ cdp-replay -a m3.tgz --until-mark tuesday@2 j.cdpj
rm -rf x && mkdir x && tar -xpzf m3.tgz -C x && compare_trees mark3 x
+ cdp-replay -a - --until-mark tuesday@1 j.cdpj >m1.tar
rm -rf x && mkdir x && tar -xpf m1.tar -C x && compare_trees mark1 x

# The single file from last Tuesday, and nothing else.
rm -rf one && mkdir one
+ cdp-replay -C one --path etc/passwd --until-mark tuesday@1 j.cdpj
[ "$(cd one && find . | sort | tr '\n' ' ')" = ". ./etc ./etc/passwd " ] ||
    die "--path restored more: $(cd one && find . | sort | tr '\n' ' ')"
cmp one/etc/passwd mark1/etc/passwd
# Wednesday's passwd came from passwd.tmp: select both names.
rm -rf one && mkdir one
+ cdp-replay -C one --path 'etc/passwd*' --until-mark wednesday j.cdpj
cmp one/etc/passwd mark2/etc/passwd
[ ! -e one/etc/passwd.tmp ] || die "--path: passwd.tmp left behind"
rm -rf one && mkdir one
+ cdp-replay -C one --path etc/passwd --until-mark wednesday j.cdpj 2>warn
[ ! -e one/etc/passwd ] || die "--path: a passwd renamed from an unselected name kept"
grep -q 'select those names too' warn || die "--path: no warning"

# cdp-verify agrees at every point.
+ cdp-verify -q --tree mark1 --at tuesday@1 j.cdpj
+ cdp-verify -q --tree mark2 --at wednesday j.cdpj
+ cdp-verify -q --tree mark3 --at tuesday j.cdpj
+ cdp-verify -q --tree mark2 --at-seq 18 j.cdpj
+ cdp-verify -q --tree want j.cdpj
expect_status 1 cdp-verify -q --tree mark1 j.cdpj
