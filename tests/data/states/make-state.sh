#!/usr/bin/env bash
# Makes a state folder with a little of everything (regions, principals,
# a programme, applications in several states, tranches, a repayment, a
# revocation) with the tamwild and tamwil of BUILD_DIR, and leaves it in
# tests/data/states/vN (N: the schema version of that build), its database
# in one file. Run it once per released schema version; the upgrade test
# then opens every such folder with the current build.
#   tests/data/states/make-state.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../../build}" && pwd)
tamwild=$build/server/tamwild
tamwil=$build/client/tamwil
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
export HOME=$work TAMWIL_CONFIG=$work/none.conf
unset XDG_STATE_HOME

cd "$work"
for who in admin coord approver treasurer; do
	"$tamwil" keygen --out $who.key >/dev/null
	"$tamwil" key public $who.key >$who.pub
done
"$tamwild" init --state state --admin admin.pub --admin-name "Amina El Idrissi" >/dev/null
"$tamwild" pubkey --state state >server.pub
"$tamwild" --state state --listen 127.0.0.1:0 2>daemon.log &
pid=$!
for _ in $(seq 100); do
	grep -q "listening on" daemon.log && break
	sleep 0.1
done
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' daemon.log)
t() { # t WHO ARGS...: tamwil as WHO
	local who=$1
	shift
	"$tamwil" --server 127.0.0.1:$port --server-key server.pub --key $who.key "$@"
}
ref() { tail -n 1; }

t admin region add LAG "Laâyoune-Sakia El Hamra" >/dev/null
t admin region add ORN "وهران" >/dev/null
t admin enrol coord.pub --name "Fatima Zahra Bennani" --role coordinator --region LAG >/dev/null
t admin enrol approver.pub --name "Nadia Berrada" --role approver >/dev/null
t admin enrol treasurer.pub --name "Karim Tazi" --role treasurer >/dev/null
t admin programme add PAMP-2026 --name "Programme d'appui" --currency MAD \
	--envelope "1 000 000,00" --ceiling "100 000,00" --target 40 \
	--start 2026-01-01 --end 2026-12-31 >/dev/null
sub() { # sub ID NAME SEX CATEGORY AMOUNT
	t coord submit --programme PAMP-2026 --national-id "$1" --name "$2" \
		--sex "$3" --birth-date 1988-03-21 --category "$4" \
		--sector crafts --activity "Atelier" --amount "$5" | ref
}
a=$(sub JB000001 "Khadija Alaoui" F rural_woman "50 000,00")
b=$(sub JB000002 "سعاد بنعلي" F former_detainee "40 000,00")
c=$(sub JB000003 "Youssef Amrani" M youth "30 000,00")
d=$(sub JB000004 "Hanane Idrissi" F woman_at_home "20 000,00")
t approver approve "$a" >/dev/null
t approver approve "$b" --amount "35 000,00" >/dev/null
t approver reject "$c" --reason "dossier incomplet" >/dev/null
t coord withdraw "$d" --reason "a trouvé un emploi" >/dev/null
t treasurer disburse "$a" --amount "20 000,00" --method cash --reference RECU-0001 >/dev/null
t treasurer disburse "$a" --amount "30 000,00" --method equipment --reference BL-0002 \
	--item "Métier à tisser:1:30 000,00" >/dev/null
t treasurer repay "$a" --amount "2 500,00" >/dev/null
"$tamwild" revoke --state state treasurer.pub >/dev/null
kill $pid
wait $pid || true

version=$(sqlite3 state/tamwil.db "PRAGMA user_version" 2>/dev/null ||
	python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA user_version').fetchone()[0])" state/tamwil.db)
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=DELETE'); c.close()" state/tamwil.db
out=$here/v$version
rm -rf "$out"
mkdir -p "$out"
cp state/tamwil.db state/server.key state/data.key state/server.pub "$out/"
echo "wrote $out"
