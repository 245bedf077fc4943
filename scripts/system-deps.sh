#!/usr/bin/env bash
# Debian packages the tests use as independent peers and checkers:
#   liblo-tools (oscsend/oscdump), xvfb (a real X server), x11-apps (xwd: root-window
#   screenshots), systemd (systemd-analyze),
#   gcc/make (firmware tests), chromium + chromium-driver (the console's browser tests).
# Installs what is missing when run as root (CI); otherwise says what to install.
set -euo pipefail
need=()
command -v oscsend >/dev/null || need+=(liblo-tools)
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xwd >/dev/null || need+=(x11-apps)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "missing Debian packages: ${need[*]} (sudo apt-get install ${need[*]});" \
       "tests that need them are skipped" >&2
fi
