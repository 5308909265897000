"""Open every page of the built site at desktop and phone widths; report what overflows.

A table, code block or formula wider than its column at 1,400 px is a defect (it
hides content behind a scrollbar); at phone widths tables may scroll inside their
own box. Also checks that every formula was rendered by MathJax. Needs Chromium
(Debian's ``chromium`` package) and ``pip install playwright``::

    mkdocs build --site-dir /tmp/site
    python -m http.server 8765 --directory /tmp/site &
    python docs/check_layout.py /tmp/site

Prints one line per page with a problem, then the number of pages checked; the
exit status is 1 when a page overflows at desktop width or has unrendered math.
"""

import pathlib
import sys

from playwright.sync_api import sync_playwright

URL = "http://127.0.0.1:8765/"
WIDTHS = ((1400, 900), (390, 844))  # a desktop, a phone
CHROMIUM = "/usr/bin/chromium"

MEASURE = """() => {
  const wide = [];
  for (const el of document.querySelectorAll(
      '.md-content table, .md-content pre, .md-content .md-typeset__scrollwrap')) {
    if (el.scrollWidth > el.clientWidth + 1) {
      wide.push([el.tagName, el.scrollWidth - el.clientWidth,
                 (el.innerText || '').slice(0, 40).replace(/\\s+/g, ' ')]);
    }
  }
  return {wide, math: document.querySelectorAll('.arithmatex').length,
          rendered: document.querySelectorAll('.arithmatex mjx-container svg').length,
          page: document.documentElement.scrollWidth - window.innerWidth};
}"""


def pages(site):
    """The site's pages, as paths relative to its root."""
    return sorted(str(p.relative_to(site).parent) for p in site.rglob("index.html")
                  if not {"assets", "search"} & set(p.parts))


def main(site):
    failed = False
    names = pages(pathlib.Path(site))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for width, height in WIDTHS:
            tab = browser.new_page(viewport={"width": width, "height": height})
            for name in names:
                tab.goto(URL + ("" if name == "." else name + "/"), wait_until="networkidle")
                if tab.query_selector(".arithmatex"):
                    tab.wait_for_timeout(1500)  # MathJax typesets after the load
                r = tab.evaluate(MEASURE)
                desktop = width >= 1000
                if r["wide"] or r["page"] > 0 or r["math"] != r["rendered"]:
                    print(f"{width}px {name}: page +{r['page']}px, math "
                          f"{r['rendered']}/{r['math']}, wide: {r['wide'][:4]}")
                    failed |= (desktop and (bool(r["wide"]) or r["page"] > 0)) or (
                        r["math"] != r["rendered"])
            tab.close()
        browser.close()
    print(f"{len(names)} pages checked at {', '.join(f'{w}px' for w, _ in WIDTHS)}")
    return int(failed)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
