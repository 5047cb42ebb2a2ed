#!/usr/bin/env bash
# Backup and restore drill: pg_dump the live database, restore it into a NEW database, start
# the app on the copy and require /readyz to pass. Never touches the source beyond pg_dump.
#
# Usage: deploy/backup_drill.sh SOURCE_DATABASE_URL [DRILL_DATABASE_NAME]
#   SOURCE_DATABASE_URL   postgresql+psycopg://user@host:5432/zhongtai (the app's DATABASE_URL)
#   DRILL_DATABASE_NAME   default: <source>_drill_<YYYYmmddHHMMSS>; dropped at the end unless
#                         KEEP_DRILL_DATABASE=1
# Env: BACKUP_DIR (default /var/backups/zhongtai; the dump is kept there), READYZ_REQUIRE_SCHEDULER
#      (default 0: no scheduler runs on the copy).
# Exit status 0 and a last line "drill passed" when the restored copy is ready.
set -euo pipefail
cd "$(dirname "$0")/.."
source_url="${1:?usage: backup_drill.sh SOURCE_DATABASE_URL [DRILL_DATABASE_NAME]}"
libpq_url="${source_url/+psycopg/}"
source_db="${libpq_url##*/}"; source_db="${source_db%%\?*}"
server_url="${libpq_url%/*}"
drill_db="${2:-${source_db}_drill_$(date -u +%Y%m%d%H%M%S)}"
backup_dir="${BACKUP_DIR:-/var/backups/zhongtai}"
mkdir -p "$backup_dir"
dump="$backup_dir/${source_db}_$(date -u +%Y%m%dT%H%M%SZ).dump"

echo "1/4 pg_dump $source_db -> $dump"
pg_dump --format=custom --no-owner --no-privileges --file="$dump" "$libpq_url"
echo "2/4 createdb $drill_db; pg_restore"
createdb --maintenance-db="$server_url/postgres" "$drill_db" 2>/dev/null || \
  psql "$server_url/postgres" -qc "CREATE DATABASE \"$drill_db\""
cleanup() {
  if [ "${KEEP_DRILL_DATABASE:-0}" != 1 ]; then
    psql "$server_url/postgres" -qc "DROP DATABASE IF EXISTS \"$drill_db\"" >/dev/null
  fi
}
trap cleanup EXIT
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$server_url/$drill_db" "$dump"
echo "3/4 row counts (source | copy)"
for table in users branches posts tasks interaction_events alembic_version; do
  a="$(psql "$libpq_url" -Atc "SELECT count(*) FROM $table" 2>/dev/null || echo -)"
  b="$(psql "$server_url/$drill_db" -Atc "SELECT count(*) FROM $table" 2>/dev/null || echo -)"
  printf '   %-20s %10s | %s\n' "$table" "$a" "$b"
  [ "$a" = "$b" ] || { echo "row counts differ for $table" >&2; exit 1; }
done
echo "4/4 app on the copy: /readyz"
DATABASE_URL="${source_url%/*}/$drill_db" READYZ_REQUIRE_SCHEDULER="${READYZ_REQUIRE_SCHEDULER:-0}" \
  .venv/bin/python - <<'PY'
import json, sys
from app.factory import create_app
app = create_app()
response = app.test_client().get("/readyz")
print("   /readyz", response.status_code, json.dumps(response.get_json(), ensure_ascii=False))
sys.exit(0 if response.status_code == 200 else 1)
PY
echo "drill passed: $dump restores into a ready database"
