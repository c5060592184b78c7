"""How long `qcode autocode` takes on a large corpus, beside `grep -c` as the floor.

    python bench/autocode_bench.py [--transcripts 1000] [--words 5000] [--rules 200]
                                   [--repeat 2] [--keep DIR]

Generates a project with bench/generate.py (1,000 transcripts of about 5,000 words: about
5 million words) and gives its codebook about 200 rules made from the bundled codebook's
keywords (word stems with `*`, phrases, and a few `regex`, `fuzzy`, `speaker` and
`scope: sentence` rules), in two sets:

- *selective*: rules as they behave on real interviews, where most rules fire rarely. The
  generator writes every passage from the same ~120 words, so a keyword that is one of
  them would fire in a third of all passages; such keywords become two-word phrases with
  another generated word (`"vikar budsjett"`), which fire in well under 1% of passages.
- *stress*: every keyword as a stem, so that each passage is proposed for about six codes
  (over 600,000 suggestions): what the scanner and the log cost when rules are far too
  broad.

For each set it times `autocode` on the fresh project (reading it, scanning, writing the
suggestions log, measuring the rules against the two generated coders: the phases are
reported apart), the same again when nothing is new (the re-run after editing a rule), and
`grep -c -i -w -E` for the words the `match` patterns start with, over the same
transcripts: the physical floor (one C scan of the bytes; no passages, no proposals). Prints a Markdown table; the
best of ``--repeat`` runs is reported.
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from generate import WORDS, generate  # noqa: E402

from qcode import Project  # noqa: E402
from qcode.coding.autocode import autocode  # noqa: E402
from qcode.format.yamlio import dump_yaml, parse_yaml  # noqa: E402

SELECTIVE_EXTRA = [
    ("leadership-involved", {"fuzzy": "forankret i ledelsen", "score": 85}),
    ("ownership-depends-on-few", {"fuzzy": "brenner for arbeidet", "score": 85}),
    ("barriers-funding", {"regex": r"(?i)\bvikar\w*\s+budsjett\w*"}),
    ("school-reputation", {"regex": r"(?i)\bomdømme\w*\s+og\b"}),
    ("leadership-involved", {"all": [{"speaker": "Rektor"}, {"match": "ledelsen eierskap"}]}),
    ("org-coordination", {"all": [{"speaker": "Koordinator"}, {"not": {"match": "rektor"}},
                                 {"match": "søknad budsjett"}]}),
    ("barriers-continuity", {"match": "pensjon*", "scope": "sentence"}),
]
STRESS_EXTRA = [
    ("leadership-involved", {"fuzzy": "forankret i ledelsen", "score": 85}),
    ("ownership-depends-on-few", {"fuzzy": "brenner for arbeidet", "score": 85}),
    ("barriers-funding", {"regex": r"(?i)\bvikar(?:er|ene|utgift\w*)?\b"}),
    ("school-reputation", {"regex": r"(?i)\bomdømme\w*"}),
    ("leadership-involved", {"all": [{"speaker": "Rektor"}, {"match": "ledelsen"}]}),
    ("org-coordination", {"all": [{"speaker": "Koordinator"}, {"not": {"match": "rektor"}},
                                 {"match": "søknad*"}]}),
    ("barriers-continuity", {"match": "pensjon*", "scope": "sentence"}),
]


def make_rules(codebook_data: dict, wanted: int, selective: bool
               ) -> tuple[dict[str, list[dict]], list[str]]:
    """About ``wanted`` rules per code id from the codes' keywords, and the match patterns."""
    codes = []
    stack = list(codebook_data["codes"])
    while stack:
        code = stack.pop(0)
        if code.get("codable", True):
            codes.append(code)
        stack[:0] = code.get("children", [])
    generated = {w.lower() for w in WORDS}
    rules: dict[str, list[dict]] = {}
    patterns: list[str] = []
    count = 0
    for code_id, rule in SELECTIVE_EXTRA if selective else STRESS_EXTRA:
        rules.setdefault(code_id, []).append(rule)
        count += 1
    while count < wanted:
        added = False
        for code in codes:
            keywords = code.get("keywords", [])
            index = len(rules.get(code["id"], [])) - sum(
                1 for c, _ in SELECTIVE_EXTRA if c == code["id"])
            if not 0 <= index < len(keywords) or count >= wanted:
                continue
            keyword = keywords[index].lower()
            pattern = keyword if " " in keyword or len(keyword) < 4 else keyword + "*"
            stem = re.compile(pattern.replace("*", r"\w*"))
            if selective and any(stem.fullmatch(word) for word in generated):
                pattern = f"{pattern} {WORDS[(count * 7) % len(WORDS)]}"
            rules.setdefault(code["id"], []).append({"match": pattern})
            patterns.append(pattern)
            count += 1
            added = True
        if not added:
            break
    return rules, patterns


def add_rules(root: Path, wanted: int, selective: bool) -> tuple[int, list[str]]:
    path = root / "codebooks" / "codes.yaml"
    data = parse_yaml(path.read_text("utf-8")).data
    rules, patterns = make_rules(data, wanted, selective)

    def walk(codes: list[dict]) -> None:
        for code in codes:
            code.pop("rules", None)
            if code["id"] in rules:
                code["rules"] = rules[code["id"]]
            walk(code.get("children", []))

    walk(data["codes"])
    path.write_text(dump_yaml(data), encoding="utf-8")
    return sum(len(r) for r in rules.values()), patterns


def grep_floor(root: Path, patterns: list[str]) -> tuple[float, int]:
    """`grep -c` for the words the rules start with (what the scanner must find first, and
    all grep can search for quickly: its phrases with \\s+ take minutes); (seconds, lines)."""
    alternatives = []
    for pattern in patterns:
        first = pattern.split()[0]
        word = re.sub(r"[.^$+(){}\[\]|\\]", r"\\\g<0>", first)
        word = word.replace("*", r"\w*").replace("?", r"\w")
        if word not in alternatives:
            alternatives.append(word)
    files = sorted(str(p) for p in (root / "transcripts").glob("*.md"))
    command = ["grep", "-c", "-i", "-w", "-E", "|".join(alternatives), *files]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    lines = sum(int(line.rsplit(":", 1)[1]) for line in done.stdout.splitlines())
    return seconds, lines


def run_once(root: Path) -> tuple[float, object]:
    started = time.perf_counter()
    result = autocode(Project.open(root), coder="bench")
    return time.perf_counter() - started, result


def measure(corpus: Path, selective: bool, wanted: int, repeat: int) -> dict:
    rules, patterns = add_rules(corpus, wanted, selective)
    first, rerun, grep = [], [], []
    for _ in range(repeat):
        for log in (corpus / "codings").glob("bench*"):
            log.unlink()
        first.append(run_once(corpus))
        again = run_once(corpus)
        assert not again[1].new, "a re-run proposed something again"
        rerun.append(again)
        grep.append(grep_floor(corpus, patterns))
    for log in (corpus / "codings").glob("bench*"):
        log.unlink()
    return {"rules": rules, "patterns": len(patterns),
            "first": min(first, key=lambda item: item[0]),
            "rerun": min(rerun, key=lambda item: item[0]), "grep": min(grep)}


def phases(seconds: dict[str, float]) -> str:
    return (f"read project {seconds['load']:.2f}, scan {seconds['scan']:.2f}, suggestions log "
            f"{seconds['propose']:.2f}, precision/recall {seconds['gold']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=int, default=1000)
    parser.add_argument("--words", type=int, default=5000)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="generate into DIR and keep it")
    args = parser.parse_args()

    base = args.keep or Path(tempfile.mkdtemp(prefix="qcode-autocode-bench-"))
    corpus = base / "corpus"
    if not corpus.exists():
        generate(args.transcripts, 10, 7, corpus, words_per_transcript=args.words)
    files = sorted((corpus / "transcripts").glob("*.md"))
    words = sum(len(p.read_text("utf-8").split()) for p in files)
    megabytes = sum(p.stat().st_size for p in files) / 1e6
    results = {name: measure(corpus, name == "selective", args.rules, args.repeat)
               for name in ("selective", "stress")}

    print(f"## `qcode autocode`: {args.transcripts:,} transcripts, {words:,} words "
          f"({megabytes:.0f} MB), {args.rules} rules\n")
    print(f"{platform.machine()}, Python {platform.python_version()}, best of {args.repeat} "
          "runs, wall-clock seconds\n")
    print("| rules | run | suggestions | seconds | of which |")
    print("|---|---|---:|---:|---|")
    for name, found in results.items():
        seconds, result = found["first"]
        print(f"| {name} ({found['rules']}) | first run | {len(result.new):,} | {seconds:.2f} | "
              f"{phases(result.seconds)} |")
        seconds, again = found["rerun"]
        print(f"| {name} | re-run, nothing new | 0 | {seconds:.2f} | {phases(again.seconds)} |")
        seconds, lines = found["grep"]
        print(f"| {name} | `grep -c -i -w -E`, the first words of the {found['patterns']} "
              "match patterns (floor) | "
              f"{lines:,} lines | {seconds:.2f} | |")
    if args.keep is None:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
