# make install puts exactly the right files in the right places under
# DESTDIR and PREFIX, and make uninstall takes every one of them away.
# The expected list is derived from the source tree: cmd/cdp-*.c are the
# programs, man/*.1 and man/*.5 the pages, completions/{bash,zsh} the
# completions, cmd/libcdp-preload.c the preload library.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

# The test's make must not join a make that may be running this test.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

dest=$PWD/dest
r=$CDP_ROOT
(
	cd "$r"
	for f in cmd/cdp-*.c; do
		[ -e "$f" ] || continue
		f=${f##*/}
		echo "usr/bin/${f%.c}"
	done
	[ ! -e cmd/libcdp-preload.c ] || echo usr/lib/cdp/libcdp-preload.so
	for f in man/*.1; do [ ! -e "$f" ] || echo "usr/share/man/man1/${f##*/}"; done
	for f in man/*.5; do [ ! -e "$f" ] || echo "usr/share/man/man5/${f##*/}"; done
	for f in completions/bash/cdp-*; do
		[ ! -e "$f" ] || echo "usr/share/bash-completion/completions/${f##*/}"
	done
	for f in completions/zsh/_cdp-*; do
		[ ! -e "$f" ] || echo "usr/share/zsh/site-functions/${f##*/}"
	done
) | LC_ALL=C sort >expected
grep -qx usr/share/man/man5/cdp-journal.5 expected || die "man/cdp-journal.5 is missing"
grep -q '^usr/bin/' expected || die "no programs (cmd/cdp-*.c) to install"

listing()
{
	(cd "$dest" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort)
}

echo "+ make install DESTDIR=\$PWD/dest PREFIX=/usr" >&2
make -C "$r" install DESTDIR="$dest" PREFIX=/usr >install.log 2>&1 ||
    { tail -n 30 install.log >&2; die "make install failed"; }
listing >installed
if ! cmp -s expected installed; then
	diff -u --label expected --label installed expected installed >&2 || true
	die "make install did not install exactly the expected files"
fi

# Modes: programs 0755, everything else 0644; and the programs run.
while read -r f; do
	mode=$(stat -c %a "$dest/$f")
	case $f in
	usr/bin/*)
		[ "$mode" = 755 ] || die "$f: mode $mode, want 755"
		"$dest/$f" --help >/dev/null || die "$f --help: exit status $?" ;;
	*)	[ "$mode" = 644 ] || die "$f: mode $mode, want 644" ;;
	esac
done <installed

echo "+ make uninstall DESTDIR=\$PWD/dest PREFIX=/usr" >&2
make -C "$r" uninstall DESTDIR="$dest" PREFIX=/usr >uninstall.log 2>&1 ||
    { tail -n 30 uninstall.log >&2; die "make uninstall failed"; }
listing >left
if [ -s left ]; then
	sed 's/^/left: /' left >&2
	die "make uninstall left files behind"
fi
echo "installed and uninstalled $(wc -l <expected) files"
