# cdp-verify without --tree: a sound journal, a store, a journal with
# three problems (all listed, with offsets), JSON, -q, unreadable input.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mk=$CDP_ROOT/tests/helpers/mkhostile
"$mk" good.cdpj <<'J'
hdr
mkdir 755 d
create 644 d/f
write 0 d/f hello
mark one
heartbeat
end
J
"$mk" bad.cdpj <<'J'
hdr
create 644 f
badcrc
write 0 f hello
write 5 f world
garbage 100
seq 9
write 10 f again
mark two
J
# A store: two segments of one stream, the second a resumed section.
mkdir store
"$mk" store/00000000000000000001.cdpj <<'J'
hdr 7
mkdir 755 d
create 644 d/f
J
"$mk" store/00000000000000000003.cdpj <<'J'
hdr 7
seq 3
write 0 d/f x
mark m
J
printf 'uuid 0cd90000-0000-4000-8000-000000000007\ndurable_seq 4\n' >store/state

+ cdp-verify good.cdpj
+ cdp-verify store
+ cdp-verify good.cdpj store <good.cdpj
+ cdp-verify - <good.cdpj
expect_status 1 cdp-verify bad.cdpj
expect_status 1 cdp-verify good.cdpj bad.cdpj
expect_status 1 cdp-verify --json bad.cdpj
+ cdp-verify --json good.cdpj
# -q: nothing at all, only the status.
rc=0
cdp-verify -q bad.cdpj >q.out 2>q.err || rc=$?
[ "$rc" -eq 1 ] && [ ! -s q.out ] && [ ! -s q.err ] || die "-q: status $rc or output"
# Trouble outranks bad.
expect_status 2 cdp-verify bad.cdpj no-such.cdpj
expect_status 2 cdp-verify --at one good.cdpj
expect_status 2 cdp-verify --bogus
