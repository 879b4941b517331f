#!/usr/bin/env bash
# Durable submissions per second: tamwil against a plain PostgreSQL, side by
# side, on this machine, at the same client counts.
#
#   bench/compare-postgres.sh                 (BUILD_DIR=build, DURATION=10)
#   DURATION=30 CLIENTS=1,8,64 bench/compare-postgres.sh
#   PRESIGN=200000 bench/compare-postgres.sh  (more operations signed ahead,
#                                             for a daemon above 3 000/s)
#
# What each side does for one submission, so the ratio is read honestly:
#
#   tamwil    tamwil-bench's submit workload against a tamwild it starts in
#             a temporary folder: each client a thread with its own
#             Noise_XK channel over loopback TCP (ChaCha20-Poly1305 on every
#             frame); the operation signed with Ed25519 and the identity
#             sealed (crypto_box) before the clock starts; the server checks
#             the signature, opens the sealed identity, derives the blind
#             index and seals it at rest, checks the rules, writes the
#             beneficiary, application, history event and idempotency
#             record, appends the Merkle log leaf and its tree nodes, signs
#             one checkpoint (Ed25519) per batch of operations committed
#             together, and commits with SQLite WAL and
#             synchronous=FULL (fsync); the client verifies the receipt (the
#             checkpoint's signature and the inclusion proof).
#   postgres  pgbench over a unix socket, prepared statements, one
#             transaction inserting an application row and an audit row
#             (a 600-byte entry, like a log leaf), commit with fsync=on and
#             synchronous_commit=on. No encryption, no signature, no
#             sealing, no Merkle tree, no rule checks.
#
# PostgreSQL comes from Debian (installed with apt-get when missing) and
# runs throw-away: initdb in a temporary folder, on 127.0.0.1 and a unix
# socket inside that folder, a free port, as the user postgres (or nobody)
# when this runs as root. Everything started is stopped and every
# temporary folder removed on exit, also on failure or interruption.
#
# The last line reads
#   submissions/s at 64 clients: tamwil A, postgres B, ratio R
# with R = A / B (the largest count of CLIENTS, 64 by default).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-1,4,16,64}

if ! [[ $DURATION =~ ^[1-9][0-9]*$ ]]; then
	echo "compare-postgres: DURATION='$DURATION' is not a whole number of seconds" >&2
	exit 2
fi
if ! [[ $CLIENTS =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]]; then
	echo "compare-postgres: CLIENTS='$CLIENTS' is not a list like 1,4,16,64" >&2
	exit 2
fi
IFS=, read -r -a counts <<<"$CLIENTS"

# PostgreSQL and jq from Debian, like scripts/deps installs the build's.
missing=()
for p in postgresql jq; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "compare-postgres: installing ${missing[*]}" >&2
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
pgbin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/pg_ctl" ]; then
	echo "compare-postgres: no PostgreSQL server under /usr/lib/postgresql" >&2
	exit 1
fi

bench=$BUILD_DIR/bench/tamwil-bench
if [ ! -x "$bench" ]; then
	echo "compare-postgres: building in $BUILD_DIR" >&2
	scripts/build "$BUILD_DIR" >&2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tamwil-compare.XXXXXX")
chmod 755 "$tmp"
pg_started=
bench_pid=

# PostgreSQL refuses to run as root: run it as postgres, else nobody.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
	pguser=postgres
	id "$pguser" >/dev/null 2>&1 || pguser=nobody
	as_pg=(runuser -u "$pguser" --)
	mkdir "$tmp/pg"
	chown "$pguser" "$tmp/pg"
else
	mkdir "$tmp/pg"
fi

cleanup() {
	if [ -n "$bench_pid" ]; then
		kill "$bench_pid" 2>/dev/null || true
		wait "$bench_pid" 2>/dev/null || true
	fi
	if [ -n "$pg_started" ]; then
		"${as_pg[@]}" "$pgbin/pg_ctl" -D "$tmp/pg/data" -m immediate \
			-w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free TCP port on loopback: one no socket uses (ss), and a start that
# still loses the race to another program tries another port.
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		if [ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

sock=$tmp/pg
"${as_pg[@]}" "$pgbin/initdb" -D "$tmp/pg/data" -U bench -A trust \
	-E UTF8 --locale=C.UTF-8 >"$tmp/initdb.log" 2>&1 ||
	{ cat "$tmp/initdb.log" >&2; exit 1; }
port=
for _ in 1 2 3 4 5; do
	p=$(free_port) || break
	pg_started=1
	if "${as_pg[@]}" "$pgbin/pg_ctl" -D "$tmp/pg/data" \
		-l "$tmp/pg/server.log" -w -o "-c listen_addresses=127.0.0.1 \
-p $p -k $sock -c fsync=on -c synchronous_commit=on -c full_page_writes=on \
-c max_connections=300" start >/dev/null; then
		port=$p
		break
	fi
	pg_started=
done
[ -n "$port" ] || { cat "$tmp/pg/server.log" >&2; exit 1; }

psql=("${as_pg[@]}" "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" \
	-p "$port" -U bench)
"${psql[@]}" -d postgres -c "CREATE DATABASE tamwil"
# The application and audit rows, with the constraints and indexes of
# tamwild's schema (server/store_schema.c) that a submission touches.
"${psql[@]}" -d tamwil <<'SQL'
CREATE SEQUENCE application_seq;
CREATE TABLE applications (
  id bigserial PRIMARY KEY,
  reference text NOT NULL UNIQUE,
  region_id bigint NOT NULL,
  programme_id bigint NOT NULL,
  beneficiary_id bigint NOT NULL,
  year integer NOT NULL CHECK (year BETWEEN 1970 AND 9999),
  seq bigint NOT NULL,
  state integer NOT NULL CHECK (state BETWEEN 1 AND 9),
  sex integer NOT NULL CHECK (sex IN (1, 2)),
  birth_year integer NOT NULL CHECK (birth_year >= 1900),
  category integer NOT NULL CHECK (category BETWEEN 1 AND 31),
  sector text NOT NULL,
  activity text NOT NULL,
  requested bigint NOT NULL CHECK (requested > 0),
  contribution bigint NOT NULL CHECK (contribution >= 0),
  formula text NOT NULL,
  granted bigint NOT NULL DEFAULT 0,
  disbursed bigint NOT NULL DEFAULT 0,
  repaid bigint NOT NULL DEFAULT 0,
  submitted_by bigint NOT NULL,
  submitted_at bigint NOT NULL,
  decided_by bigint,
  decided_at bigint,
  reason text,
  UNIQUE (region_id, year, seq)
);
CREATE INDEX applications_region ON applications(region_id);
CREATE INDEX applications_programme ON applications(programme_id);
CREATE INDEX applications_state ON applications(state);
CREATE INDEX applications_submitted ON applications(submitted_at);
CREATE TABLE log_entries (
  seq bigserial PRIMARY KEY,
  time bigint NOT NULL,
  entry bytea NOT NULL CHECK (length(entry) > 0)
);
SQL

cat >"$tmp/pg/submit.sql" <<'SQL'
\set region random(1, 16)
\set beneficiary random(1, 1000000000)
BEGIN;
INSERT INTO applications (reference, region_id, programme_id, beneficiary_id,
  year, seq, state, sex, birth_year, category, sector, activity, requested,
  contribution, formula, submitted_by, submitted_at)
VALUES ('BN' || :region || '-2026-' || lpad(nextval('application_seq')::text, 7, '0'),
  :region, 1, :beneficiary, 2026, currval('application_seq'), 1, 1, 1990, 2,
  'crafts', 'Atelier de tissage de tapis', 4500000, 0, '', :client_id + 1,
  extract(epoch from now())::bigint);
INSERT INTO log_entries (time, entry)
VALUES (extract(epoch from now())::bigint, decode(repeat('5a', 600), 'hex'));
COMMIT;
SQL
chown -R "${pguser:-$(id -un)}" "$tmp/pg"

echo "compare-postgres: $(nproc) CPUs, $DURATION s per point, clients $CLIENTS" >&2
echo "tamwil:   Noise channel, Ed25519 verify, sealed identity, Merkle log append, a checkpoint signature per batch, receipt check, SQLite synchronous=FULL"
echo "postgres: plain SQL over a unix socket, no signatures, no encryption; application row + audit row per transaction, fsync=on, synchronous_commit=on"
echo

declare -A pg_tps pg_lat
for c in "${counts[@]}"; do
	j=$((c < 2 ? c : 2))
	"${as_pg[@]}" "$pgbin/pgbench" -n -M prepared -h "$sock" -p "$port" \
		-U bench -c "$c" -j "$j" -T "$DURATION" \
		-f "$tmp/pg/submit.sql" tamwil >"$tmp/pgbench-$c.txt" 2>&1 ||
		{ cat "$tmp/pgbench-$c.txt" >&2; exit 1; }
	tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$tmp/pgbench-$c.txt" | tail -n 1)
	[ -n "$tps" ] || { cat "$tmp/pgbench-$c.txt" >&2; exit 1; }
	pg_tps[$c]=$tps
	pg_lat[$c]=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$tmp/pgbench-$c.txt")
done

# tamwil-bench starts its own tamwild under $tmp, so the trap removes it.
extra=()
[ -z "${PRESIGN:-}" ] || extra=(--presign "$PRESIGN")
TMPDIR=$tmp "$bench" -w submit -c "$CLIENTS" -d "$DURATION" "${extra[@]}" \
	--json >"$tmp/tamwil.json" &
bench_pid=$!
wait "$bench_pid"
bench_pid=

# A run that used up its operations signed ahead ended early: its rate
# stands, over a shorter time. Say so, and how to sign more.
if jq -e '[.results[] | select(.pool_exhausted)] | length > 0' \
	"$tmp/tamwil.json" >/dev/null; then
	echo "note: tamwil-bench used up its pre-signed operations before the end of some runs (raise them with PRESIGN=N, operations over all clients)" >&2
fi
printf '%-8s %13s %13s %13s %13s %13s %7s\n' clients "tamwil sub/s" \
	"tamwil p50ms" "tamwil p99ms" "postgres tx/s" "pg avg ms" ratio
last=
for c in "${counts[@]}"; do
	row=$(jq -r --argjson c "$c" \
		'.results[] | select(.workload == "submit" and .clients == $c) |
		 "\(.ops_per_s) \(.latency_ms.p50) \(.latency_ms.p99)"' \
		"$tmp/tamwil.json")
	read -r t t50 t99 <<<"$row"
	p=${pg_tps[$c]}
	r=$(awk -v t="$t" -v p="$p" 'BEGIN { printf "%.2f", (p > 0 ? t / p : 0) }')
	printf '%-8s %13.1f %13.2f %13.2f %13.1f %13.2f %7s\n' "$c" "$t" "$t50" \
		"$t99" "$p" "${pg_lat[$c]:-0}" "$r"
	last="submissions/s at $c clients: tamwil $(printf '%.0f' "$t"), postgres $(printf '%.0f' "$p"), ratio $r"
done
echo
jq -r '"the same run: one Ed25519 verification \(.ed25519_verify.us_each | floor) us; a 4 KiB write and fdatasync() in the daemon'"'"'s state folder \(.fdatasync.us_median | floor) us (median)"' \
	"$tmp/tamwil.json"
echo "$last"
