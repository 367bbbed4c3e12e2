#!/usr/bin/env bash
# Installs what shakedown needs to build and test, if it is missing (Debian 12,
# as root or through sudo). Quiet when everything is there already.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config clang
  libserialport-dev libcjson-dev libcmocka-dev libusb-1.0-0-dev libssl-dev
  python3 socat stm32flash avrdude
  openssl nginx sslscan nmap curl dovecot-imapd
  gcc-avr avr-libc libsimavr-dev arduino-core-avr
  gcc-arm-none-eabi libnewlib-arm-none-eabi
  nodejs npm
  ser2net python3-serial libyaml-dev
  libwolfssl-dev libmbedtls-dev
  slapd python3-cryptography prosody mariadb-server
)
missing=()
for p in "${pkgs[@]}"; do
  # Node.js from elsewhere (NodeSource's nodejs brings its own npm, and
  # Debian's npm package conflicts with it): a working command is enough
  case $p in nodejs) command -v node >/dev/null && continue ;; npm) command -v npm >/dev/null && continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
