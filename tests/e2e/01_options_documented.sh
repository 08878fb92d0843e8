# Every program's options are documented where a user looks for them.
#
# For each cdp-* program built at the top of the tree:
#  - each long option in `PROG --help` (popt's --help and --usage aside)
#    appears in man/PROG.1, completions/bash/PROG and completions/zsh/_PROG;
#  - the options in --help are in sorted order (the popt table is sorted);
#  - the synopsis printed after a usage error (`usage: PROG ...`, one line
#    per form, exit status 2) is the SYNOPSIS of man/PROG.1.
# Problems go to stderr, one line each; what was checked goes to stdout.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

problems=0
problem()
{
	echo "$*" >&2
	problems=$((problems + 1))
}

# has_word FILE OPTION: OPTION appears in FILE, not as part of a longer one.
has_word()
{
	grep -Eq -- "(^|[^a-zA-Z0-9-])$2([^a-zA-Z0-9-]|\$)" "$1"
}

# squeeze: blanks to single spaces, no leading or trailing blanks.
squeeze()
{
	sed -E 's/[[:space:]]+/ /g; s/^ //; s/ $//'
}

progs=()
for f in "$CDP_ROOT"/cdp-*; do
	case ${f##*/} in *.*) continue ;; esac
	[ -f "$f" ] && [ -x "$f" ] && progs+=("${f##*/}")
done
[ "${#progs[@]}" -gt 0 ] || die "no cdp-* programs built in $CDP_ROOT (run make)"

for p in "${progs[@]}"; do
	man=$CDP_ROOT/man/$p.1
	bash_comp=$CDP_ROOT/completions/bash/$p
	zsh_comp=$CDP_ROOT/completions/zsh/_$p

	rc=0
	"$p" --help >help.out 2>help.err || rc=$?
	if [ "$rc" -ne 0 ] || [ -s help.err ]; then
		problem "$p: --help: exit status $rc, stderr: $(head -n 1 help.err)"
		continue
	fi
	# Option lines look like "  -q, --quiet   ..." or "      --json  ...";
	# the first long option on such a line is the option.
	sed -nE 's/^ +(-[^ ], )?--([a-z0-9][a-z0-9-]*).*/--\2/p' help.out |
	    grep -vxE -- '--(help|usage)' >opts || true
	nopts=$(wc -l <opts)
	if ! LC_ALL=C sort -c opts 2>/dev/null; then
		problem "$p: --help lists options out of order: $(tr '\n' ' ' <opts)"
	fi

	man_text=
	if [ -f "$man" ]; then
		mandoc -Tascii -O width=300 "$man" | col -b >man.txt
		man_text=man.txt
	else
		problem "$p: man/$p.1 is missing"
	fi
	[ -f "$bash_comp" ] || problem "$p: completions/bash/$p is missing"
	[ -f "$zsh_comp" ] || problem "$p: completions/zsh/_$p is missing"
	while read -r o; do
		[ -z "$man_text" ] || has_word "$man_text" "$o" ||
		    problem "$p: $o is not in man/$p.1"
		[ ! -f "$bash_comp" ] || has_word "$bash_comp" "$o" ||
		    problem "$p: $o is not in completions/bash/$p"
		[ ! -f "$zsh_comp" ] || has_word "$zsh_comp" "$o" ||
		    problem "$p: $o is not in completions/zsh/_$p"
	done <opts

	# The synopsis after a usage error, one line per form.
	rc=0
	"$p" --no-such-option >usage.out 2>usage.err || rc=$?
	[ "$rc" -eq 2 ] || problem "$p --no-such-option: exit status $rc, want 2"
	[ ! -s usage.out ] || problem "$p --no-such-option: wrote to stdout"
	awk -v p="$p" '
		$1 == "usage:" && $2 == p { sub(/^usage:/, ""); print; cont = 1; next }
		cont && /^[ \t]/ && $1 == p { print; next }
		{ cont = 0 }' usage.err | squeeze | LC_ALL=C sort >usage.forms
	nforms=$(wc -l <usage.forms)
	[ "$nforms" -gt 0 ] ||
	    problem "$p --no-such-option: no \"usage: $p ...\" line on stderr"
	if [ -n "$man_text" ]; then
		awk -v p="$p" '
			/^[A-Z]/ { in_syn = ($0 == "SYNOPSIS"); next }
			in_syn && $1 == p { print }' "$man_text" |
		    squeeze | LC_ALL=C sort >man.forms
		if ! cmp -s usage.forms man.forms; then
			problem "$p: usage synopsis differs from the SYNOPSIS of man/$p.1:"
			diff -u --label "$p usage" --label "man/$p.1 SYNOPSIS" \
			    usage.forms man.forms | tail -n +3 >&2 || true
		fi
	fi
	echo "$p: $nopts options checked in man page, bash and zsh completions; order; synopsis ($nforms form(s))"
done

[ "$problems" -eq 0 ] || die "$problems problem(s) in ${#progs[@]} program(s)"
