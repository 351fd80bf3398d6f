#!/usr/bin/env bash
# Installs the Debian packages the project needs, only when missing.
#   venv: what `python3 -m venv` needs;  test: also dbus, gnome-keyring, tmux, packer, a JRE (keytool).
set -euo pipefail
want=()
python=$(command -v python3.11 || command -v python3)
"$python" -c 'import ensurepip, venv' 2>/dev/null || want+=(python3-venv)
if [ "${1:-test}" = test ]; then
    command -v dbus-run-session >/dev/null || want+=(dbus dbus-bin)
    command -v gnome-keyring-daemon >/dev/null || want+=(gnome-keyring)
    command -v tmux >/dev/null || want+=(tmux)
    command -v packer >/dev/null || want+=(packer)
    command -v keytool >/dev/null || want+=(default-jre-headless)  # reads back the Java trust stores
fi
[ ${#want[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing Debian packages: ${want[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${want[@]}"
