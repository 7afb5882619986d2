#!/usr/bin/env bash
# System packages Loket needs: espeak-ng (and its library, for pyttsx3), libsndfile,
# wdutch (a Dutch word list that re-ranks recognition hypotheses), chromium and
# chromium-driver (the agent desk's browser test) and python3-venv. Installs them with
# apt-get when run as root; otherwise prints the exact command to run and stops.
set -euo pipefail

pkgs=(espeak-ng libespeak-ng1 libsndfile1 wdutch chromium chromium-driver)
python3 -c 'import venv, ensurepip' 2>/dev/null || pkgs+=(python3-venv)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "error: missing system packages: ${missing[*]} (no apt-get here; install them by hand)" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: missing system packages: ${missing[*]}" >&2
  echo "run:   sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 2
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
