#!/usr/bin/env bash
# System packages the test suite needs: Debian's chromium for browser journeys, CJK fonts so
# Chinese renders, gettext for compilemessages. Installed with apt-get only when missing.
set -eu
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "installing system packages: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; } >/tmp/govportal-apt.log 2>&1; then
    echo "ERROR: could not install ${missing[*]} with apt-get; see /tmp/govportal-apt.log" >&2
    exit 1
fi
