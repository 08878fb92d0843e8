# cdp-dump's operands: several files in order, "-" and no operand for
# standard input (a pipe too), two streams in one file, a stream left open
# (the comment line), an empty input, an unknown record type, compressed
# records, and data split over records by the writer.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mkjournal() { "$CDP_ROOT/tests/helpers/mkjournal" "$@"; }

+ mkjournal two two.cdpj
+ mkjournal open open.cdpj
+ mkjournal unknown unknown.cdpj
+ mkjournal -z 6 big bigz.cdpj
: >empty.cdpj

+ cdp-dump two.cdpj open.cdpj
+ cdp-dump - <open.cdpj
+ cdp-dump <two.cdpj
# A pipe, not a file, on standard input.
# shellcheck disable=SC2002
cat unknown.cdpj | run_cmd cdp-dump
+ cdp-dump empty.cdpj
+ cdp-dump - empty.cdpj unknown.cdpj <two.cdpj
+ cdp-dump bigz.cdpj
