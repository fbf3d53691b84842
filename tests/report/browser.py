#!/usr/bin/env python3
"""Browser test (issue 7): the report, and a sweep's report, render in headless Chromium. A screenshot is taken and must
not be blank, every <img> must load, and the console must stay free of errors. The checks are
first run on a deliberately broken page, which they must flag, so they cannot pass vacuously.
Without chromium the test exits 77, which ctest shows as skipped (SKIP_RETURN_CODE).

usage: browser.py SPARSIM SOURCE_DIR
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

sparsim, src = sys.argv[1], sys.argv[2]
# SPARSIM_CHROMIUM=PATH picks another browser binary (a missing path shows the skip).
chromium = os.environ.get("SPARSIM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not os.access(chromium, os.X_OK):
    print(f"SKIPPED: chromium not found ({chromium}); install it with SPARSIM_WITH_BROWSER=1 scripts/install-deps.sh")
    sys.exit(77)

CHECK_SCRIPT = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                   .map(function (i) { return i.alt || i.src.slice(0, 40); });
  var out = document.createElement('pre');
  out.id = 'sparsim-check';
  out.textContent = 'SPARSIM-CHECK ' + JSON.stringify({images: imgs.length, broken: broken,
                                                        svgs: document.querySelectorAll('svg').length});
  document.body.appendChild(out);
});
</script>
"""


def chrome(tmp, *args):
    """Runs headless chromium with a fresh profile and returns (stdout, stderr)."""
    profile = tempfile.mkdtemp(dir=tmp, prefix="profile-")
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}", "--window-size=1200,2000",
           "--virtual-time-budget=10000", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return r.stdout, r.stderr


def console_errors(stderr):
    """Console messages that are errors: uncaught exceptions, console.error, failed loads."""
    return [l for l in stderr.splitlines()
            if "ERROR:CONSOLE" in l or ("CONSOLE" in l and re.search(r"Uncaught|Error|Failed to load", l))]


def png_pixels(path):
    """Decodes an 8-bit RGB/RGBA non-interlaced PNG: returns (width, height, channels, rows)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and ctype in (2, 6) and interlace == 0, f"unsupported PNG {ihdr}"
    ch = 3 if ctype == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), w * ch, [], bytearray(w * ch)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(ch, stride):
                line[i] = (line[i] + line[i - ch]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - ch] if i >= ch else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - ch] if i >= ch else 0
                b, c = prev[i], prev[i - ch] if i >= ch else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, ch, rows


def inspect(tmp, page):
    """Loads `page` twice: once instrumented (image status), once for the screenshot."""
    checked = os.path.join(os.path.dirname(page), "check-" + os.path.basename(page))
    html = open(page).read()
    with open(checked, "w") as f:
        f.write(html.replace("</body>", CHECK_SCRIPT + "</body>"))
    dom, err1 = chrome(tmp, "--dump-dom", "file://" + checked)
    m = re.search(r"SPARSIM-CHECK (\{.*?\})</pre>", dom)
    status = json.loads(m.group(1)) if m else None
    shot = os.path.join(tmp, "shot-" + os.path.basename(page) + ".png")
    _, err2 = chrome(tmp, f"--screenshot={shot}", "file://" + page)
    colours, ink = 0, 0.0
    if os.path.isfile(shot):
        w, h, ch, rows = png_pixels(shot)
        bg = rows[0][:ch]
        seen = set()
        other = 0
        for row in rows:
            for x in range(0, w * ch, ch):
                px = row[x:x + ch]
                if px != bg:
                    other += 1
                    if len(seen) < 64:
                        seen.add(px)
        colours, ink = len(seen) + 1, other / (w * h)
    return {"status": status, "console": console_errors(err1) + console_errors(err2), "colours": colours, "ink": ink,
            "shot": os.path.isfile(shot)}


failures = []


def check_page(tmp, page, images, name):
    """The page shows `images` images, all loaded, without console errors, and is not blank."""
    g = inspect(tmp, page)
    print(f"{name}: {g['status']}, {g['colours']} colours, {100 * g['ink']:.1f}% non-background pixels")
    if not g["status"]:
        failures.append(f"{name}: the instrumented page did not report (script blocked or page failed to load)")
    else:
        if g["status"]["images"] != images:
            failures.append(f"{name}: expected {images} plots, the page has {g['status']['images']} images")
        if g["status"]["broken"]:
            failures.append(f"{name}: images that did not load: {g['status']['broken']}")
    if g["console"]:
        failures.append(f"{name}: console errors:\n" + "\n".join(g["console"]))
    if not g["shot"]:
        failures.append(f"{name}: no screenshot was written")
    # Non-blank: more than one colour, and a plot-filled page inks well over 1 % of its pixels.
    if g["colours"] < 3 or g["ink"] < 0.01:
        failures.append(f"{name}: the screenshot looks blank: {g['colours']} colours, {100 * g['ink']:.2f}% ink")


with tempfile.TemporaryDirectory() as tmp:
    # Negative control: a blank page with a broken image and a console error must be flagged.
    bad = os.path.join(tmp, "bad.html")
    with open(bad, "w") as f:
        f.write('<!DOCTYPE html><html><body style="background:#fff">'
                '<img alt="broken" src="data:image/svg+xml;base64,bm90IGFuIHN2Zw==">'
                '<script>console.error("sparsim negative control"); undefinedFunction();</script></body></html>')
    b = inspect(tmp, bad)
    if not b["status"] or b["status"]["broken"] != ["broken"]:
        failures.append(f"control: the broken image was not detected: {b['status']}")
    if not b["console"]:
        failures.append("control: console errors were not detected (chromium logging changed?)")
    if b["ink"] > 0.001:
        failures.append(f"control: a nearly blank page counted as drawn (ink {b['ink']:.4f})")

    # The report: three dense results (three cluster sizes) and a 'measured' copy of one, so
    # every plot kind is drawn: breakdown, device and host memory, variants, scaling, measured.
    golden = os.path.join(src, "tests", "report", "data")
    results = [os.path.join(golden, n + ".json") for n in ("gpt3-175b-1024xa100", "mt-nlg-530b-2240xa100",
                                                            "dense-1t-3072xa100")]
    measured = json.load(open(results[0]))
    measured["backend"] = "measured"
    measured["breakdown_s"]["compute"] *= 1.05
    mpath = os.path.join(tmp, "measured.json")
    json.dump(measured, open(mpath, "w"))
    out = os.path.join(tmp, "report")
    r = subprocess.run([sparsim, "report", *results, mpath, "--out", out], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr)
        sys.exit(1)
    check_page(tmp, os.path.join(out, "index.html"), 6, "report")

    # The sweep's page: tokens/s against a geometric range (log x axis) and against a list of
    # names (categorical x axis), one plot per varied key = 2 images.
    tiny = os.path.join(src, "tests", "data", "tiny.yaml")
    sweep_out = os.path.join(tmp, "sweep")
    r = subprocess.run([sparsim, "sweep", tiny, "--vary", "training.global_batch=16..64*2", "--vary",
                        "plan.placement=device,offload", "--report", sweep_out], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr)
        sys.exit(1)
    check_page(tmp, os.path.join(sweep_out, "index.html"), 2, "sweep")

for f in failures:
    print("FAIL:", f)
print(f"browser: {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
