"""The pages speak to a reader: no build words, each chapter links its paper and the repository, clear titles.

The prose of the book (``book/*.md`` and the markdown cells of every chapter) is scanned for the
words of the build: make targets, golden files, CI, virtual environments, the oracle
environment, build machines, internet access, cache paths. Each paper chapter must link its
paper by DOI and arXiv identifier, and every chapter the repository section of the
introduction. The sidebar titles (first heading of each page in ``_toc.yml``) must be distinct:
no title, or its part before a colon, may repeat or begin another's.

When a built book exists (``_build/html`` after ``make book``), its rendered pages, outputs
included, are scanned for the same words.
"""

import html.parser
import re
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.py"))
PAGES = sorted((ROOT / "book").glob("*.md"))

# Words of the build that a reader of the book must never meet, with what each one catches.
BUILD_WORDS = {
    r"\bmake\s+(book|test|data|oracle|notebooks|browser|lint|venv|clean|gpu-check)\b": "a make target",
    r"`make\b": "a make command",
    r"\bMakefile\b": "the Makefile",
    r"\bgolden\b": "golden files",
    r"(?-i:\bCI\b)": "continuous integration",
    r"\.venv": "a virtual environment path",
    r"\boracle\b": "the oracle environment",
    r"\bbuild machines?\b": "the build machines",
    r"\binternet access\b": "internet access",
    r"\bcache path\b": "a cache path",
    r"\b_build\b": "the build folder",
}

PAPERS = {
    "01_cosmogan": ("10.1186/s40668-019-0029-9", "1706.02390"),
    "02_conditional_massmaps": ("10.3389/frai.2021.673062", "2004.08139"),
    "03_3d_gan": ("10.1103/PhysRevD.102.103504", "2005.03050"),
    "04_scalable_3d": ("10.1186/s40668-019-0032-1", "1908.05519"),
    "05_gan_autoencoder": ("10.1051/0004-6361/202039866",),  # its arXiv number is not recorded here
}
REPOSITORY_LINK = "../book/intro.md#the-repository"


def build_words(text: str) -> list[str]:
    """Each build word found in ``text``, as 'what (the matched text)'."""
    found = []
    for pattern, what in BUILD_WORDS.items():
        for match in re.finditer(pattern, text, flags=re.IGNORECASE):
            found.append(f"{what} ({match.group(0)!r})")
    return found


def _markdown(source: Path) -> str:
    nb = jupytext.read(source)
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_the_list_catches_the_phrases_readers_met():
    """The phrases the issue quotes are caught; ordinary English around them is not."""
    for phrase in (
        "golden files that `make oracle` regenerates",
        "The build machines of this book have no internet access",
        "/work/main/.venv-oracle/bin/python not found",
        "make data generates the ones shown here",
        "what CI runs",
        "HTML in _build/html",
    ):
        assert build_words(phrase), phrase
    for phrase in ("a generator that could make only N distinct maps", "the PM code makes the data", "a 95% ci"):
        assert not build_words(phrase), phrase


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_book_pages_have_no_build_words(page):
    assert not build_words(page.read_text(encoding="utf-8")), f"{page.name}: {build_words(page.read_text())}"


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_prose_has_no_build_words(source):
    found = build_words(_markdown(source))
    assert not found, f"{source.name}: {found}"


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_each_chapter_links_its_paper_and_the_repository(source):
    text = _markdown(source)
    assert f"]({REPOSITORY_LINK})" in text, f"{source.name} does not link the repository ({REPOSITORY_LINK})"
    if source.stem in PAPERS:
        doi, *arxiv = PAPERS[source.stem]
        assert f"(https://doi.org/{doi})" in text, f"{source.name} does not link its paper's DOI {doi}"
        for number in arxiv:
            assert f"(https://arxiv.org/abs/{number})" in text, f"{source.name} does not link arXiv:{number}"


def test_introduction_and_references_link_all_five_papers():
    for page in ("intro.md", "references.md"):
        text = (ROOT / "book" / page).read_text(encoding="utf-8")
        for doi, *arxiv in PAPERS.values():
            assert f"(https://doi.org/{doi})" in text, (page, doi)
            assert all(f"(https://arxiv.org/abs/{number})" in text for number in arxiv), (page, arxiv)
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    assert "\n## The repository\n" in intro  # its anchor: #the-repository (myst_heading_anchors)
    assert "<../README.md>`" in intro, "the repository section offers the README"


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part["chapters"]]
    return files


def _title(entry: str) -> str:
    md, py = ROOT / f"{entry}.md", ROOT / f"{entry}.py"
    text = md.read_text(encoding="utf-8") if md.exists() else _markdown(py)
    heading = next(line for line in text.splitlines() if line.startswith("# "))
    return heading[2:].strip()


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def test_sidebar_titles_are_distinct():
    titles = {entry: _title(entry) for entry in _toc_files()}
    assert titles["book/simulator"] != "The simulator" and titles["book/statistics"] != "The statistics"
    entries = list(titles)
    for i, a in enumerate(entries):
        for b in entries[i + 1 :]:
            head_a, head_b = _words(titles[a].split(":")[0]), _words(titles[b].split(":")[0])
            clash = head_a == head_b or head_a.startswith(head_b + " ") or head_b.startswith(head_a + " ")
            assert not clash, f"sidebar titles look alike: {titles[a]!r} ({a}) and {titles[b]!r} ({b})"


class _VisibleText(html.parser.HTMLParser):
    """The text a reader sees: everything outside script and style elements."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def test_built_pages_have_no_build_words():
    """After `make book`: the rendered chapters, with their outputs, show none of the build words."""
    html_root = ROOT / "_build" / "html"
    if not (html_root / "book" / "intro.html").exists():
        pytest.skip("no built book under _build/html (it is made by `make book`); the sources are checked above")
    found = {}
    for entry in _toc_files():
        page = html_root / f"{entry}.html"
        assert page.exists(), f"{entry}.html is missing from the built book"
        parser = _VisibleText()
        parser.feed(page.read_text(encoding="utf-8"))
        words = build_words(" ".join(parser.parts))
        if words:
            found[entry] = words
    assert not found, f"built pages show build words: {found}"
