#!/bin/sh
# heap_map draws the heaps as an SVG; rendered to PNG (rsvg-convert), the
# picture is not blank and has the expected colours at the expected places:
# control data at the start of the first region, the owner's colour and a
# free-block colour in the grid, and the legend swatches.
# Usage: heap_map_test.sh ONEHEAP_SH
sh_bin=$1
if ! command -v rsvg-convert >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
    echo "heap_map: skipped (needs rsvg-convert and python3)"
    exit 77
fi
tmp=$(mktemp -d /tmp/oneheap-map.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$sh_bin" -c "heap_create h1 16K; malloc h1 100; malloc h1 2000; malloc h1 300; malloc 5000; heap_map $tmp/map.svg" >"$tmp/out.txt" 2>&1 || {
    cat "$tmp/out.txt"; exit 1; }
[ -s "$tmp/map.png" ] || rsvg-convert -o "$tmp/map.png" "$tmp/map.svg" || exit 1
python3 - "$tmp/map.png" <<'PY'
import struct, sys, zlib

def decode(path):
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, idat = 8, b''
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, 'unexpected PNG format'
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    bpp = 4 if ctype == 6 else 3
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, lambda x, y: tuple(rows[y][x * bpp:x * bpp + 3])

w, h, px = decode(sys.argv[1])
hexc = lambda s: tuple(int(s[i:i + 2], 16) for i in (1, 3, 5))
control, owner, free_large = hexc('#404040'), hexc('#1f77b4'), hexc('#23801a')
failed = []
colours = {px(x, y) for y in range(0, h, 3) for x in range(0, w, 3)}
if len(colours) < 5:
    failed.append('picture nearly blank: %d colours' % len(colours))
# first region grid: legend (y 8..44), heap title, region label, then rows from y = 98
if px(12, 105) != control:
    failed.append('start of the first region is %s, not control data' % (px(12, 105),))
if px(12, 15) != control:
    failed.append('legend swatch for control data is %s' % (px(12, 15),))
grid = [px(x, y) for y in range(98, h, 2) for x in range(10, 1010, 2)]
for name, c in (('owner', owner), ('free, large', free_large)):
    if c not in grid:
        failed.append('no %s colour in the grid' % name)
print('heap_map picture: %dx%d, %d colours' % (w, h, len(colours)))
for f in failed:
    print('FAILED:', f)
sys.exit(1 if failed else 0)
PY
