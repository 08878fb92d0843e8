# Usage errors exit 2 with the reason and the usage line on stderr; --help
# goes to stdout and exits 0.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mkjournal() { "$CDP_ROOT/tests/helpers/mkjournal" "$@"; }

+ mkjournal two two.cdpj
expect_status 2 cdp-dump --pcap
expect_status 2 cdp-dump --pcap x.pcap --json two.cdpj
expect_status 2 cdp-dump --data --pcap x.pcap two.cdpj
[ ! -e x.pcap ] || die "x.pcap written despite the usage error"
expect_status 2 cdp-dump --json=yes two.cdpj

# --help lists every long option, in sorted order, and exits 0.
+ cdp-dump --help >help.txt
shown=$(grep -o -- '^ *\(-., \)\{0,1\}--[a-z][a-z0-9-]*' help.txt | sed 's/.*--/--/' |
    tr '\n' ' ')
[ "$shown" = "--data --json --pcap --s3-endpoint --help --usage " ] ||
    die "--help shows the options as: $shown"
sed -n 1p help.txt >&2

+ cdp-dump --bogus two.cdpj
