#!/usr/bin/env bash
# Times the outbox claim with many destinations held back at once, as after an IM server outage: for each H, H people
# with 5 unsent messages each whose first is put off for 5 minutes, then 10 fresh messages to other people; five claims
# of 32 in one transaction, rolled back, and the median of their times. BENCHMARKS.md, "The outbox claim with many
# destinations held back".
#
# Usage: Scripts/claim-held-back.sh DATABASE [H ...]     (default H: 250 1000 4000)
# DATABASE is one SkillRelay has migrated (e.g. after `skillrelay import --db DATABASE Data`), and is left as it was:
# - a postgres:// URL: `claimOutbox`, as the database's migrations installed it (psql);
# - a SQLite file: the SQLite store's claim (`SQLiteQuestionStore.pendingOutboxSQL` with no busy destinations, copied
#   here; sqlite3), at a fixed time.
set -euo pipefail
database=${1:?usage: Scripts/claim-held-back.sh DATABASE [H ...]}
shift
[ $# -gt 0 ] || set -- 250 1000 4000
times=$(mktemp)
trap 'rm -f "$times"' EXIT

postgres_claims() {
    local held=$1
    echo "BEGIN;"
    echo "INSERT INTO outbox (message, createdAt, nextAttemptAt, destination)"
    echo "    SELECT 'm', now(), CASE WHEN k = 1 THEN now() + interval '5 minutes' ELSE now() END, 'person:p' || d"
    echo "    FROM generate_series(1, 5) k, generate_series(1, $held) d ORDER BY k, d;"
    echo "INSERT INTO outbox (message, createdAt, nextAttemptAt, destination)"
    echo "    SELECT 'm', now(), now(), 'person:fresh' || d FROM generate_series(1, 10) d;"
    echo '\timing on'
    for _ in 1 2 3 4 5; do
        echo "SELECT count(*) FROM claimOutbox(42, now(), 32, '{}', '{}', now() + interval '1 minute');"
    done
    echo '\timing off'
    echo "ROLLBACK;"
}

sqlite_claims() {
    local held=$1 now="'2026-12-05 12:00:00.000'" later="'2026-12-05 12:05:00.000'"
    echo "BEGIN;"
    echo "WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k WHERE x < 5),"
    echo "    d(y) AS (SELECT 1 UNION ALL SELECT y + 1 FROM d WHERE y < $held)"
    echo "INSERT INTO outbox (message, createdAt, nextAttemptAt, destination)"
    echo "    SELECT 'm', $now, CASE WHEN x = 1 THEN $later ELSE $now END, 'person:p' || y FROM k, d ORDER BY x, y;"
    echo "WITH RECURSIVE d(y) AS (SELECT 1 UNION ALL SELECT y + 1 FROM d WHERE y < 10)"
    echo "INSERT INTO outbox (message, createdAt, nextAttemptAt, destination) SELECT 'm', $now, $now, 'person:fresh' || y FROM d;"
    echo ".timer on"
    for _ in 1 2 3 4 5; do
        echo "SELECT count(*) FROM (SELECT id, message, attempts, createdAt, nextAttemptAt > createdAt AS deferred FROM outbox AS due"
        echo "    WHERE sentAt IS NULL AND failedAt IS NULL AND nextAttemptAt <= $now"
        echo "    AND NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.destination = due.destination AND earlier.id < due.id"
        echo "        AND earlier.sentAt IS NULL AND earlier.failedAt IS NULL AND earlier.nextAttemptAt > $now)"
        echo "    ORDER BY id LIMIT 32);"
    done
    echo ".timer off"
    echo "ROLLBACK;"
}

for held in "$@"; do
    case $database in
        postgres://* | postgresql://*)
            postgres_claims "$held" | psql -X -q -v ON_ERROR_STOP=1 "$database" | awk '/^Time:/ { print $2 }' | sort -n > "$times" ;;
        *)
            # sqlite3 reports seconds; in milliseconds like psql.
            sqlite_claims "$held" | sqlite3 -bail "$database" | awk '/^Run Time:/ { print $4 * 1000 }' | sort -n > "$times" ;;
    esac
    [ "$(wc -l < "$times")" -eq 5 ] || { echo "claim-held-back.sh: expected 5 timings" >&2; exit 1; }
    echo "$held destinations held back ($((held * 5 + 10)) unsent): median claim $(sed -n 3p "$times") ms"
done
