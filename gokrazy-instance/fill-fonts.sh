#!/usr/bin/env bash
# Fills gokrazy-instance/fonts/ with the CJK font the kiosk draws with
# (Noto Sans CJK, face 3 = Traditional Chinese), which both instances put
# into the image as an extra file at the kiosk's default display.font_file.
# The font is about 20 MB and is never committed (see .gitignore).
#
# Source: Debian's fonts-noto-cjk (apt-get install fonts-noto-cjk), or
# FONT=/path/to/NotoSansCJK-Regular.ttc to take another copy.
set -euo pipefail
cd "$(dirname "$0")"
src=${FONT:-/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc}
if [ ! -f "$src" ]; then
	echo "fill-fonts.sh: $src not found; install fonts-noto-cjk or set FONT=" >&2
	exit 1
fi
mkdir -p fonts
cp "$src" fonts/NotoSansCJK-Regular.ttc.tmp
mv fonts/NotoSansCJK-Regular.ttc.tmp fonts/NotoSansCJK-Regular.ttc
echo "fonts/NotoSansCJK-Regular.ttc <- $src"
