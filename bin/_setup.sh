# Shared setup steps for bin/demo and bin/test (sourced, not run).

log() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

# Install Debian packages that are missing (needs root or sudo).
ensure_debian_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "Installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Create .venv and install a requirements file; skipped when nothing changed.
ensure_venv() {
  local req="$1" stamp=".venv/.installed-$(basename "$1")"
  if ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
    log "Creating the virtualenv (.venv)"
    python3 -c "import ensurepip" 2>/dev/null || ensure_debian_packages python3-venv
    rm -rf .venv
    python3 -m venv .venv
  fi
  local sum
  sum=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
    log "Installing Python packages from $req"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -r "$req"
    echo "$sum" > "$stamp"
  fi
}

# Start local PostgreSQL and Redis when they are down (only for localhost URLs); on a
# machine without them, install them from Debian and give the postgres role the
# password the default test URL uses.
ensure_services() {
  if [[ "${DATABASE_URL:-}" == *"@127.0.0.1"* || "${DATABASE_URL:-}" == *"@localhost"* ]]; then
    if ! command -v pg_ctlcluster >/dev/null; then
      ensure_debian_packages postgresql
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
      for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
      su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\""
    fi
    if ! pg_isready -q -h 127.0.0.1 -p 5432; then
      log "Starting PostgreSQL"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
      for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    fi
  fi
  if [[ "${CELERY_BROKER_URL:-}" == redis://127.0.0.1* || "${CELERY_BROKER_URL:-}" == redis://localhost* ]]; then
    command -v redis-server >/dev/null || ensure_debian_packages redis-server
    if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
      log "Starting Redis"
      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
      for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
    fi
  fi
}

# The browser tests' tools from npm (package-lock.json: axe-core, vnu-jar), with Java
# for vnu; skipped when nothing changed.
ensure_node_packages() {
  command -v npm >/dev/null || ensure_debian_packages nodejs npm
  command -v java >/dev/null || ensure_debian_packages default-jre-headless
  local stamp="node_modules/.installed" sum
  sum=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
    log "Installing the test tools from npm (axe-core, vnu-jar)"
    npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
    echo "$sum" > "$stamp"
  fi
}

compile_translations() {
  .venv/bin/python manage.py compilemessages --ignore=.venv -v0
}
