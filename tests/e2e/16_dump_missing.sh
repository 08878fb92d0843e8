# A JOURNAL that cannot be opened is reported as "cdp-dump: NAME: why";
# the other operands are still dumped, and the exit status is 1.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mkjournal() { "$CDP_ROOT/tests/helpers/mkjournal" "$@"; }

+ mkjournal two two.cdpj
+ cdp-dump nope.cdpj two.cdpj
