# Only one receiver per store: a second cdp-recv is refused with a clear
# message and exit status 1, and the store is left as it was.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"

+ mkload -n 10 -s 100 load.cdpj
+ cdp-recv store <load.cdpj >/dev/null
cp -a store before
exec 9>store/lock
flock 9
expect_status 1 cdp-recv store <load.cdpj
expect_status 1 cdp-send -i load.cdpj store
exec 9>&-
rm before/lock store/lock
diff -r before store
