#!/usr/bin/env bash
# Debian packages that Procurement Center needs outside the virtualenv:
#   libpango-1.0-0 libpangoft2-1.0-0  WeasyPrint's text layout (PDF bills and invoices)
#   libharfbuzz-subset0               font subsetting; without it a Chinese PDF takes ~18 s, not ~0.8 s
#   fonts-noto-cjk                    Chinese glyphs in PDFs
#   gettext                           compilemessages / makemessages
#   chromium                          browser tests (Playwright drives /usr/bin/chromium)
#
# Fast when everything is installed. As root with apt-get it installs what is missing;
# otherwise it prints what to install and exits 0 (a warning, not a failure).
set -uo pipefail

PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk gettext chromium)

missing_packages() {
    local pkg status
    for pkg in "${PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [[ "$status" == "install ok installed" ]] || printf '%s\n' "$pkg"
    done
}

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install_system_packages: not a Debian/Ubuntu system; make sure these (or their equivalents) are installed: ${PACKAGES[*]}" >&2
    exit 0
fi

mapfile -t missing < <(missing_packages)
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "WARNING: missing system packages: ${missing[*]}" >&2
    echo "         install them with: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    echo "         (PDFs, Chinese fonts, translations or browser tests may not work until then)" >&2
    exit 0
fi

echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_install() {
    apt-get install -y --no-install-recommends -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300 "$@"
}
# Package lists on a fresh machine are often empty or stale: refresh them first.
if ! apt-get update -qq -o DPkg::Lock::Timeout=300; then
    echo "WARNING: apt-get update failed; trying the install with the lists as they are" >&2
fi
if ! apt_install "${missing[@]}"; then
    # One unknown package (chromium is a snap stub on Ubuntu, say) must not keep the others out.
    for pkg in "${missing[@]}"; do apt_install "$pkg" || true; done
fi

# A failed install is a loud warning, not a failure: `make run` needs none of these to
# start, and the tests that need one fail with their own message.
mapfile -t still_missing < <(missing_packages)
if [[ ${#still_missing[@]} -ne 0 ]]; then
    echo "WARNING: system packages still missing after apt-get install: ${still_missing[*]}" >&2
    echo "         PDFs, Chinese fonts, translations or browser tests may not work until they are installed." >&2
fi
exit 0
