"""The HTML book renders with no network: MathJax, the widget scripts and their fonts come from the build.

A small book is built with the project's own ``_config.yml`` (copied verbatim, with the
``book/_static`` folder it serves): one MyST page with inline, display and ``amsmath`` math, and one
notebook, executed by the build, that shows an ipywidgets slider and a formula. The real book is
not built here (its chapters execute for many minutes).

- Every page is scanned for scripts, stylesheets and fonts loaded from an http(s) address.
- Headless Chromium loads the pages with every network route closed (all host names unresolvable,
  a dead proxy) and records each request it makes over the DevTools protocol: only ``file:`` (and
  inline ``data:``) requests may occur, none may fail, MathJax must typeset every formula (no raw TeX
  left in the text) and the widget must render from its saved state.

Chromium is driven over the Chrome DevTools Protocol with tornado's websocket client (a Jupyter
dependency), through ``browser.py`` beside this file. Skipped when chromium is absent, unless
GANCOSMO_REQUIRE_BROWSER=1.
"""

import asyncio
import html.parser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from browser import CDP, chromium_page, find_chromium

ROOT = Path(__file__).resolve().parents[1]

MATH_PAGE = r"""# Offline math

Inline math: the convergence $\kappa = \frac{1}{2}\nabla^2 \psi$ and a ratio $\Omega_m / \sigma_8$.

Display math:

$$
C_\ell = \frac{9 H_0^4 \Omega_m^2}{4 c^4} \int_0^{\chi_s} \mathrm{d}\chi \, \frac{W(\chi)^2}{a(\chi)^2}
P\left(\frac{\ell}{\chi}\right)
$$

An amsmath environment:

\begin{align}
\delta(\mathbf{x}) &= \frac{\rho(\mathbf{x})}{\bar\rho} - 1 \\
s(x) &= \frac{2x}{x + a} - 1
\end{align}
"""

# What a page may never show once MathJax has run: the TeX delimiters and commands of the sources.
RAW_TEX = ("$", r"\frac", r"\(", r"\[", r"\begin", r"\kappa", r"\nabla", r"\mathbf")

EXTERNAL = re.compile(r"^(https?:)?//", re.IGNORECASE)


@pytest.fixture(scope="module")
def offline_book(tmp_path_factory):
    """Build the small book with the project's configuration; return its ``_build/html`` folder."""
    book = tmp_path_factory.mktemp("offline") / "book"
    book.mkdir()
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    shutil.copytree(ROOT / "book" / "_static", book / "book" / "_static")
    (book / "_toc.yml").write_text("format: jb-book\nroot: math\nchapters:\n  - file: widgets\n")
    (book / "math.md").write_text(MATH_PAGE)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Widgets\n\nA slider over $\\sigma_8$ with $\\frac{a}{b}$ beside it."),
        nbformat.v4.new_code_cell("import ipywidgets\n\nipywidgets.IntSlider(value=7, max=10, description='seed')"),
    ]
    nb.metadata["kernelspec"] = dict(name="python3", display_name="Python 3", language="python")
    nbformat.write(nb, book / "widgets.ipynb")
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jb), "build", str(book), "--path-output", str(book.parent / "out")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = book.parent / "out" / "_build" / "html"
    assert (out / "math.html").is_file() and (out / "widgets.html").is_file()
    return out


class _Resources(html.parser.HTMLParser):
    """Addresses of the scripts, stylesheets, fonts, icons and images a page loads."""

    def __init__(self):
        super().__init__()
        self.loads: list[tuple[str, str]] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.loads.append(("script", attrs["src"]))
            self.scripts.append(attrs["src"].split("?")[0])
        elif tag == "link" and attrs.get("href"):
            rel = (attrs.get("rel") or "").lower()
            if any(r in rel for r in ("stylesheet", "preload", "icon", "modulepreload", "prefetch")):
                self.loads.append((f"link rel={rel}", attrs["href"]))
        elif tag in ("img", "iframe", "source", "video", "audio", "embed") and attrs.get("src"):
            self.loads.append((tag, attrs["src"]))
        for key, value in attrs.items():
            if key == "style" and value:
                self.loads += [("inline style", u) for u in _css_urls(value)]


def _css_urls(css: str) -> list[str]:
    found = re.findall(r"url\(\s*['\"]?([^'\")]+)", css)
    found += re.findall(r"@import\s+['\"]([^'\"]+)", css)
    return [u.strip() for u in found]


def _parse(page: Path) -> _Resources:
    parser = _Resources()
    text = page.read_text(encoding="utf-8")
    parser.feed(text)
    for block in re.findall(r"<style[^>]*>(.*?)</style>", text, flags=re.S):
        parser.loads += [("style element", u) for u in _css_urls(block)]
    return parser


def test_pages_load_no_script_stylesheet_or_font_from_the_network(offline_book):
    pages = sorted(offline_book.rglob("*.html"))
    assert len(pages) >= 4  # math, widgets, genindex, search
    remote = [(p.name, kind, url) for p in pages for kind, url in _parse(p).loads if EXTERNAL.match(url)]
    assert not remote, f"pages load from the network: {remote}"
    stylesheets = sorted(offline_book.joinpath("_static").rglob("*.css"))
    assert stylesheets
    remote_css = [
        (sheet.name, url) for sheet in stylesheets for url in _css_urls(sheet.read_text()) if EXTERNAL.match(url)
    ]
    assert not remote_css, f"stylesheets load from the network: {remote_css}"


def test_mathjax_and_widget_scripts_are_served_from_the_build(offline_book):
    math_scripts = _parse(offline_book / "math.html").scripts
    assert "_static/mathjax/tex-chtml.js" in math_scripts
    assert (offline_book / "_static/mathjax/tex-chtml.js").is_file()
    assert (offline_book / "_static/mathjax/output/chtml/fonts/woff-v2").is_dir()
    assert not any("require" in s or "embed-amd" in s for s in math_scripts), "widget scripts only on widget pages"
    widget_scripts = _parse(offline_book / "widgets.html").scripts
    expected = ["_static/requirejs/require.js", "_static/html-manager/paths.js", "_static/html-manager/embed-amd.js"]
    assert [s for s in widget_scripts if s in expected] == expected, widget_scripts
    for script in expected:
        assert (offline_book / script).is_file(), script
    assert '"application/vnd.jupyter.widget-state+json"' in (offline_book / "widgets.html").read_text()


# null on a page that loads no MathJax (Sphinx adds it only to pages with math), true once it has typeset
TYPESET = """(async () => {
  if (!document.querySelector('script[src*="mathjax"]')) return null;
  for (let i = 0; i < 300 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
    await new Promise((r) => setTimeout(r, 100));
  if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return false;
  await MathJax.startup.promise;
  return true;
})()"""
PAGE_FACTS = """(() => {
  const main = document.querySelector('main') || document.body;
  // the prose a reader sees: the text of the page less code blocks (sources and plain-text outputs),
  // where TeX-like characters are legitimate
  const prose = [];
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => node.parentElement.closest('pre, code, .highlight, mjx-container, script, style')
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (el.getClientRects().length) prose.push(walker.currentNode.textContent);
  }
  return {
    text: main.innerText,
    prose: prose.join(' '),
    containers: main.querySelectorAll('mjx-container').length,
    displayed: main.querySelectorAll('mjx-container[display="true"]').length,
    errors: main.querySelectorAll('mjx-merror').length,
    sliders: main.querySelectorAll('.widget-slider').length,
    readout: Array.from(main.querySelectorAll('.widget-readout')).map(e => e.innerText.trim()),
    label: Array.from(main.querySelectorAll('.widget-label')).map(e => e.innerText.trim()),
  };
})()"""


async def _visit(ws_url, urls):
    cdp = await CDP.connect(ws_url, reply_timeout=30)
    await cdp.call("Network.enable")
    await cdp.call("Page.enable")
    facts = {}
    for name, url in urls.items():
        await cdp.call("Page.navigate", url=url)
        assert await cdp.wait_for("document.readyState === 'complete'", 60), f"{name} did not finish loading"
        typeset = await cdp.js(TYPESET, await_promise=True)
        assert typeset is not False, f"MathJax was loaded but did not start on {name}"
        if await cdp.js("!!document.querySelector('script[type=\"application/vnd.jupyter.widget-state+json\"]')"):
            await cdp.wait_for("document.querySelectorAll('.widget-subarea').length > 0", 30)
        await asyncio.sleep(0.5)  # late requests (fonts) settle
        facts[name] = {**await cdp.js(PAGE_FACTS), "typeset": typeset}
    cdp.close()
    requests = [e["params"]["request"]["url"] for e in cdp.events if e["method"] == "Network.requestWillBeSent"]
    failed = [e["params"] for e in cdp.events if e["method"] == "Network.loadingFailed"]
    by_id = {e["params"]["requestId"]: e["params"]["request"]["url"] for e in cdp.events if "request" in e["params"]}
    failed = [(by_id.get(f["requestId"], "?"), f.get("errorText")) for f in failed]
    return facts, requests, failed


#: Chromium's flags for the offline test: no network at all (every host name is unresolvable and every
#: connection goes to a closed port), no background requests of its own, and file: pages that may load files.
OFFLINE_FLAGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--allow-file-access-from-files",
)


def _browse_offline(chromium, profile, urls):
    """Open ``urls`` (name -> file URL) in headless Chromium with no network; return facts, requests, failures."""
    with chromium_page(chromium, profile, OFFLINE_FLAGS) as ws_url:
        return asyncio.run(_visit(ws_url, urls))


def _network_problems(requests, failed):
    off_disk = [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))]
    return ([f"asked the network for {u}" for u in off_disk]) + [f"failed to load {u} ({why})" for u, why in failed]


def test_math_and_widgets_render_in_chromium_with_no_network(offline_book, tmp_path):
    chromium = find_chromium()
    urls = {name: (offline_book / f"{name}.html").as_uri() for name in ("math", "widgets")}
    facts, requests, failed = _browse_offline(chromium, tmp_path / "profile", urls)

    assert not _network_problems(requests, failed)
    loaded = {u.split("?")[0].rsplit("/_build/html/", 1)[-1] for u in requests}
    assert {"_static/mathjax/tex-chtml.js", "_static/html-manager/embed-amd.js"} <= loaded, sorted(loaded)

    math = facts["math"]
    assert math["typeset"] is True and facts["widgets"]["typeset"] is True
    # two inline formulas, one display formula and one align environment
    assert math["containers"] == 4, math
    assert math["displayed"] == 2, math
    assert math["errors"] == 0, math
    leftovers = [t for t in RAW_TEX if t in math["text"]]
    assert not leftovers, f"raw TeX left in the math page's text: {leftovers}"

    widgets = facts["widgets"]
    assert widgets["containers"] == 2 and widgets["errors"] == 0, widgets
    assert not [t for t in RAW_TEX if t in widgets["text"]], widgets["text"]
    assert widgets["sliders"] == 1, widgets
    assert widgets["readout"] == ["7"], widgets
    assert "seed" in widgets["label"], widgets


def _toc_pages():
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"], *(c["file"] for part in toc.get("parts", []) for c in part["chapters"])]


def test_built_book_renders_math_on_every_page_with_no_network(tmp_path):
    """After `make book` (or with GANCOSMO_BOOK_HTML naming a built book's html folder): every page offline."""
    html_root = Path(os.environ.get("GANCOSMO_BOOK_HTML", ROOT / "_build" / "html"))
    if not (html_root / "book" / "intro.html").exists():
        pytest.skip(f"no built book under {html_root} (it is made by `make book`); the small book above is checked")
    chromium = find_chromium()
    pages = _toc_pages()
    urls = {page: (html_root / f"{page}.html").as_uri() for page in pages}
    facts, requests, failed = _browse_offline(chromium, tmp_path / "profile", urls)
    assert not _network_problems(requests, failed)
    for page in pages:
        source = next(ROOT / f"{page}{ext}" for ext in (".md", ".py") if (ROOT / f"{page}{ext}").exists())
        page_facts = facts[page]
        assert page_facts["errors"] == 0, f"{page}: MathJax reported errors"
        if "$" in source.read_text(encoding="utf-8"):
            assert page_facts["typeset"] is True, f"{page} has formulas but MathJax did not typeset them"
            assert page_facts["containers"] > 0, f"{page}: no formula was typeset"
        leftovers = [t for t in RAW_TEX if t in page_facts["prose"]]
        assert not leftovers, f"{page}: raw TeX left in the text: {leftovers}"
