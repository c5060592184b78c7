"""Generate a deterministic synthetic qcode project for benchmarks.

    python bench/generate.py N_TRANSCRIPTS CODINGS_PER_TRANSCRIPT SEED OUTDIR

The project uses the bundled study's codebook, Norwegian-like interview text in speaker
turns (about 5,000 words per transcript), attributes ``school`` (50 schools) and
``informant_group``, a case table, and two coders whose logs are written in the real
format (coder-b re-codes about half of coder-a's spans and adds its own). The same
arguments always give the same files.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from qcode.format.codebook import CodebookFile  # noqa: E402
from qcode.format.transcripts import segment  # noqa: E402
from qcode.format.yamlio import parse_yaml  # noqa: E402
from qcode.store.log import encode_event  # noqa: E402

WORDS = (
    "skolen elevene lærerne mobilitet prosjektet utveksling praksis bedriften koordinator "
    "rektor avdelingen ledelsen eierskap erfaring opphold partner reise søknad budsjett vikar "
    "yrkesfag fagbrev lærling språk kultur selvtillit selvstendig modne trygg samarbeid "
    "næringsliv omdømme rekruttering gjennomføring kvalitet planen strategi ansvar tid ressurs "
    "og i på med for at det som en er til av har vi de ikke så men når om kan vil skal "
    "jo altså liksom egentlig veldig litt mye noen alle hver både også bare godt viktig "
    "første andre nytt gammelt stort lite lenge kort uker måneder året høsten våren ute hjemme"
).split()
SPEAKERS = {"coordinator": "Koordinator", "principal": "Rektor", "teacher": "Lærer",
            "department_manager": "Avdelingsleder"}
GROUPS = list(SPEAKERS)


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    if rng.random() < 0.3:
        words.insert(rng.randint(0, len(words)), rng.choice(["«særlig»", "–", "2019", "80 %"]))
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice([".", ".", ".", "?", "!"])


def transcript_body(rng: random.Random, speaker: str, words_wanted: int) -> str:
    turns, words = [], 0
    while words < words_wanted:
        question = " ".join(sentence(rng) for _ in range(rng.randint(1, 2)))
        answer = " ".join(sentence(rng) for _ in range(rng.randint(3, 8)))
        if rng.random() < 0.25:
            answer += "\n\n" + " ".join(sentence(rng) for _ in range(rng.randint(2, 4)))
        turns.append(f"I: {question}")
        turns.append(f"{speaker}: {answer}")
        words += len(question.split()) + len(answer.split())
    return "\n\n".join(turns) + "\n"


def generate(n_transcripts: int, codings_per_transcript: int, seed: int, outdir: Path,
             words_per_transcript: int = 5000) -> None:
    rng = random.Random(seed)
    if outdir.exists() and any(outdir.iterdir()):
        raise SystemExit(f"{outdir} exists and is not empty")
    (outdir / "codebooks").mkdir(parents=True)
    (outdir / "transcripts").mkdir()
    (outdir / "codings").mkdir()
    (outdir / "cases").mkdir()
    shutil.copy(REPO / "codebooks" / "vet-mobility.yaml", outdir / "codebooks" / "codes.yaml")
    codebook = CodebookFile.model_validate(
        parse_yaml((REPO / "codebooks" / "vet-mobility.yaml").read_text("utf-8")).data)
    codable = []
    stack = list(codebook.codes)
    while stack:
        code = stack.pop(0)
        if code.codable:
            codable.append(code.id)
        stack.extend(code.children)
    schools = [f"Skole{i:02d}" for i in range(1, 51)]
    (outdir / "qcode.yaml").write_text(
        "name: Benchmark project\ncodebook: codebooks/codes.yaml\ntranscripts: transcripts\n"
        "codings: codings\nsegmentation: turns\ncases:\n  - file: cases/schools.csv\n"
        "    key: school\nattributes:\n  school: {required: true}\n  informant_group:\n"
        "    required: true\n    values: [coordinator, principal, teacher, department_manager]\n"
        "primary_coder: coder-a\n", encoding="utf-8")
    with (outdir / "cases" / "schools.csv").open("w", encoding="utf-8") as handle:
        handle.write("school,pupils,region\n")
        for school in schools:
            handle.write(f"{school},{rng.randint(200, 1200)},{rng.choice(['nord', 'sør', 'vest', 'øst'])}\n")
    logs = {"coder-a": (outdir / "codings" / "coder-a.jsonl").open("wb"),
            "coder-b": (outdir / "codings" / "coder-b.jsonl").open("wb")}
    counter = 0
    for index in range(n_transcripts):
        group = rng.choice(GROUPS)
        tid = f"t{index:05d}"
        body = transcript_body(rng, SPEAKERS[group], words_per_transcript)
        date = f"2019-{rng.randint(1, 4):02d}-{rng.randint(1, 28):02d}"
        (outdir / "transcripts" / f"{tid}.md").write_text(
            f"---\nid: {tid}\nschool: {rng.choice(schools)}\ninformant_group: {group}\n"
            f"interview_date: '{date}'\nsynthetic: true\n---\n{body}", encoding="utf-8")
        passages = [p for p in segment(body, "turns") if p.speaker != "I"]
        a_spans: list[tuple[int, int, str]] = []
        n_a = int(codings_per_transcript * 0.6)
        for _ in range(n_a):
            passage = rng.choice(passages)
            start, end = passage.start, passage.end
            if rng.random() < 0.2:  # part of the passage: one sentence-ish piece
                cut = rng.randint(start, max(start, end - 40))
                start, end = cut, min(end, cut + rng.randint(20, 200))
            a_spans.append((start, end, rng.choice(codable)))
        b_spans = [span if rng.random() < 0.7 else (span[0], span[1], rng.choice(codable))
                   for span in rng.sample(a_spans, k=len(a_spans) // 2)]
        while len(a_spans) + len(b_spans) < codings_per_transcript:
            passage = rng.choice(passages)
            b_spans.append((passage.start, passage.end, rng.choice(codable)))
        for coder, spans in (("coder-a", a_spans), ("coder-b", b_spans)):
            for start, end, code in spans:
                counter += 1
                logs[coder].write(encode_event({
                    "op": "add", "id": f"{counter:016x}", "transcript": tid, "start": start,
                    "end": end, "code": code, "text": body[start:end],
                    "at": f"2026-01-01T00:00:{counter % 60:02d}.000Z"}))
    for handle in logs.values():
        handle.close()
    print(json.dumps({"transcripts": n_transcripts, "codings": counter, "outdir": str(outdir)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_transcripts", type=int)
    parser.add_argument("codings_per_transcript", type=int)
    parser.add_argument("seed", type=int)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--words", type=int, default=5000,
                        help="words per transcript (default 5000)")
    args = parser.parse_args()
    generate(args.n_transcripts, args.codings_per_transcript, args.seed, args.outdir, args.words)


if __name__ == "__main__":
    main()
