#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring and a throwaway HOME/XDG tree,
# so tests use the real Secret Service without ever touching the user's own keyring or home directory.
set -uo pipefail
scratch=$(mktemp -d -t refarch-tests.XXXXXX)
export HOME="$scratch/home"
export XDG_DATA_HOME="$scratch/data" XDG_CONFIG_HOME="$scratch/config" XDG_CACHE_HOME="$scratch/cache"
export XDG_STATE_HOME="$scratch/state" XDG_RUNTIME_DIR="$scratch/run"
export TMPDIR="$scratch/tmp"
mkdir -p "$TMPDIR" "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE
export REFARCH_TESTS_ISOLATED=1
REFARCH_TEST_KEYRING_PASS=$(head -c 18 /dev/urandom | base64)
export REFARCH_TEST_KEYRING_PASS
dbus-run-session -- bash -c '
    printf %s "$REFARCH_TEST_KEYRING_PASS" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec "$@"' _ "$@" </dev/null 2> >(grep -v --line-buffered "Failed to set fd limit" >&2)
rc=$?
# sandbox emulators are long-lived by design; any a test left behind in this run's scratch tree goes now
pkill -TERM -f "refarch_tui.aws.emulator serve .*$scratch" 2>/dev/null || true
sleep 0.5
pkill -KILL -f "refarch_tui.aws.emulator serve .*$scratch" 2>/dev/null || true
rm -rf "$scratch"
exit $rc
