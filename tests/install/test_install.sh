#!/usr/bin/env bash
# What an installation and the Debian packages hold: binaries, manual
# pages that document every option the programs accept, the systemd unit,
# the example settings, and the packages' dependencies and scripts.
#   test_install.sh BUILD_DIR
set -euo pipefail

build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "ok: $what"
	else
		echo "FAIL: $what"
		fail=1
	fi
}

DESTDIR=$tmp/root cmake --install "$build" >/dev/null
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
root=$tmp/root$prefix
[ "$prefix" = /usr ] && etc=$tmp/root/etc || etc=$root/etc

check "tamwild in sbin" test -x "$root/sbin/tamwild"
check "tamwil in bin" test -x "$root/bin/tamwil"
for page in man1/tamwil.1 man5/tamwil.conf.5 man8/tamwild.8 man5/tamwild.conf.5; do
	check "manual page $page" test -s "$root/share/man/$page"
	check "$page has EXAMPLES" grep -q '^\.SH EXAMPLES' "$root/share/man/$page"
done
check "systemd unit" test -s "$root/lib/systemd/system/tamwild.service"
check "example tamwild.conf" test -s "$etc/tamwil/tamwild.conf"
check "example client.conf" test -s "$root/share/doc/tamwil/examples/client.conf"

unit=$root/lib/systemd/system/tamwild.service
for line in Type=notify User=tamwil NoNewPrivileges=yes ProtectSystem=strict \
	PrivateTmp=yes StateDirectory=tamwil CapabilityBoundingSet= \
	SystemCallFilter=@system-service "ExecReload=/bin/kill -HUP \$MAINPID" \
	"ExecStart=$prefix/sbin/tamwild "; do
	check "unit has $line" grep -qF -- "$line" "$unit"
done

# Every long option a program's help names is in its manual page.
man_text() { MANWIDTH=200 man -l "$1" 2>/dev/null | col -b; }
man_text "$root/share/man/man8/tamwild.8" >"$tmp/tamwild.txt"
for opt in $("$build/server/tamwild" --help 2>&1 | grep -o -- '--[a-z-]*' | sort -u); do
	check "tamwild(8) documents $opt" grep -qF -- "$opt" "$tmp/tamwild.txt"
done
man_text "$root/share/man/man1/tamwil.1" >"$tmp/tamwil.txt"
for cmd in $("$build/client/tamwil" --help | grep -v ' = ' | sed -n 's/^  \([a-z]\+\)\( [a-z]\+\)\? .*/\1/p' | sort -u); do
	check "tamwil(1) documents the command $cmd" grep -qE "^ +$cmd( |$)" "$tmp/tamwil.txt"
done
for opt in $("$build/client/tamwil" --help | grep -o -- '--[a-z-]*' | sort -u); do
	check "tamwil(1) documents $opt" grep -qF -- "$opt" "$tmp/tamwil.txt"
done

if command -v dpkg-deb >/dev/null && command -v dpkg-shlibdeps >/dev/null; then
	(cd "$build" && cpack -G DEB -B "$tmp/deb" >/dev/null 2>&1)
	d=$(ls "$tmp"/deb/tamwild_*.deb)
	c=$(ls "$tmp"/deb/tamwil_*.deb)
	dpkg-deb -e "$d" "$tmp/ctl"
	check "tamwild depends on libsodium23" sh -c "dpkg-deb -f '$d' Depends | grep -q libsodium23"
	check "tamwild depends on libevent" sh -c "dpkg-deb -f '$d' Depends | grep -q libevent-2.1"
	check "tamwild depends on adduser" sh -c "dpkg-deb -f '$d' Depends | grep -q adduser"
	check "tamwil depends on libcsv3" sh -c "dpkg-deb -f '$c' Depends | grep -q libcsv3"
	check "tamwild's settings are a conffile" grep -q 'tamwil/tamwild.conf$' "$tmp/ctl/conffiles"
	check "postinst creates the tamwil user" grep -q 'adduser --system' "$tmp/ctl/postinst"
	check "postinst creates the state as tamwil" grep -q 'runuser -u tamwil -- .*tamwild init' "$tmp/ctl/postinst"
	check "postinst is valid sh" sh -n "$tmp/ctl/postinst"
	check "tamwild package holds the daemon" sh -c "dpkg-deb -c '$d' | grep -q 'sbin/tamwild$'"
	check "tamwil package holds the client" sh -c "dpkg-deb -c '$c' | grep -q 'bin/tamwil$'"
fi

exit $fail
