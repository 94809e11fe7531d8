"""Topic and emerging-theme names as a reader meets them; prints its figures (not a test).

    python benchmarks/names.py corpora/demo
    python benchmarks/names.py ../shared/corpora/nordjylland-2023/{mentimeter-export.xlsx,opsamlingsnotat.docx} --taxonomy nordjylland-2023
    python benchmarks/names.py corpora/demo --show 5   # each name beside five of its texts

One run through the assembly (pipeline/run.py) into a temporary folder, then:

- **grounded**: the share of topic and emerging-theme names that occur, as words (case
  folded, on word boundaries), in at least two of the texts they name;
- **said in its shown texts**: the share of names whose content words (their lemmas, also
  inside compounds: "eksport" in "eksportfremstød") are in at least three of the five texts
  shown beside them (its quotes first; a majority of fewer). An automatic stand-in for a
  reader's verdict (below), to compare variants quickly: on the six blind sheets of two
  rounds it agreed with the reader on 82-96 % of the names; it cannot tell a lone adjective
  or a vague word ("Fælles", "Udvikling") from a subject, and misses paraphrase;
- **raw ids**: exported files outside ``data/`` holding BERTopic's ``N_word_word`` form;
- **note**: the share of the summary note's content passages in its largest topic (topics
  must follow subjects, not the genre of long note passages versus short answers);
- with ``--show N``: each name beside N of its texts (its quotes first), for reading;
- with ``--dump FILE``: the same as CSV (kind, name, grounded, its first five texts), the
  sheet a reader's verdicts are given on (``benchmarks/data/name-verdicts-*.csv``, read by
  ``--verdicts``).
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import pandas as pd

RAW_ID = re.compile(r"(?<![\w-])-?\d+_[^\W\d_]+_[^\W\d_]+")


def occurs(name: str, text: str) -> bool:
    """``name`` as a sequence of whole words in ``text`` (case folded)."""
    words = re.findall(r"\w+", name.casefold())
    if not words:
        return False
    return re.search(r"(?<!\w)" + r"\W+".join(map(re.escape, words)) + r"(?!\w)", text.casefold()) is not None


def said_in(name: str, text: str) -> bool:
    """At least half of ``name``'s content words are in ``text``: as a lemma, or (four letters or
    more) inside one of its words, as Danish compounds write them."""
    from pipeline.naming import lemma_of, name_stop_words

    _, not_content = name_stop_words()
    words = re.findall(r"\w+", name.casefold())
    content = [lemma for word, lemma in zip(words, map(lemma_of, words)) if len(word) > 2 and word not in not_content and lemma not in not_content]
    if not content:
        return False
    written = re.findall(r"\w+", text.casefold())
    lemmas = set(map(lemma_of, written))
    found = sum(lemma in lemmas or (len(lemma) >= 4 and any(lemma in word for word in written)) for lemma in content)
    return 2 * found >= len(content)


def said_in_shown(name: str, shown: list[str]) -> bool:
    """``name`` said in at least three of the five texts shown beside it (a majority of fewer)."""
    need = 3 if len(shown) >= 5 else len(shown) // 2 + 1
    return sum(said_in(name, text) for text in shown) >= need


def raw_id_files(folder: Path) -> list[str]:
    """Files outside ``data/`` whose text shows a BERTopic id name (xlsx/docx are zip files: read their XML)."""
    import zipfile

    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or "data" in path.relative_to(folder).parts[:1]:
            continue
        if path.suffix in (".xlsx", ".docx"):
            with zipfile.ZipFile(path) as archive:
                text = " ".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist() if name.endswith(".xml"))
        elif path.suffix in (".csv", ".md", ".html", ".json", ".txt"):
            text = path.read_text(encoding="utf-8-sig", errors="replace")
        else:
            continue
        if path.suffix == ".json":  # the manifest names no topic
            continue
        hits = RAW_ID.findall(text)
        if hits:
            found.append(f"{path.relative_to(folder)}: {', '.join(sorted(set(hits))[:4])}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path)
    parser.add_argument("--taxonomy", default=None)
    parser.add_argument("--embedder", default=None)
    parser.add_argument("--show", type=int, default=0, help="print each name beside this many of its texts")
    parser.add_argument("--dump", type=Path, default=None, help="write each name beside five of its texts as CSV")
    parser.add_argument("--verdicts", type=Path, default=None, help="a reader's verdicts (kind, name, fitting yes/no): the share fitting")
    args = parser.parse_args()

    from pipeline.config import RunConfig, RunOverrides
    from pipeline.run import run_workshop

    config = RunOverrides(workshop="Navne", taxonomy=args.taxonomy, embedder=args.embedder).apply(RunConfig())
    with tempfile.TemporaryDirectory() as scratch:
        analysis, result, folder = run_workshop(args.inputs, config, out=Path(scratch))
        raw = raw_id_files(folder)
    texts = result.assignments
    topics = result.topics[result.topics["topic"] >= 0]
    named: list[tuple[str, str, list[str]]] = []  # (kind, name, its texts, quotes first)
    quotes = result.quotes_by_topic
    for topic, name in zip(topics["topic"].astype(int), topics["name"].astype(str)):
        members = texts.loc[texts["topic"] == topic, "text"].astype(str).tolist()
        first = quotes.loc[quotes["topic"] == topic, "text"].astype(str).tolist()
        named.append(("emne", name, list(dict.fromkeys(first + members))))
    by_id = dict(zip(texts["text_id"].astype(str), texts["text"].astype(str)))
    for theme in result.emerging.to_dict("records"):
        members = [by_id[i] for i in theme["text_ids"]]
        named.append(("nyt tema", theme["name"], list(dict.fromkeys(list(theme["quotes"]) + members))))

    grounded = [sum(occurs(name, text) for text in members) >= 2 for _, name, members in named]
    said = [said_in_shown(name, members[:5]) for _, name, members in named]
    print(f"inputs: {' '.join(map(str, args.inputs))}  taxonomy: {config.themes.taxonomy}")
    print(f"names: {len(named)} ({len(topics)} topics, {len(result.emerging)} emerging themes)")
    print(f"grounded (in >= 2 of their texts): {sum(grounded)}/{len(named)} = {sum(grounded) / max(len(named), 1):.0%}")
    for kind, label in (("emne", "topics"), ("nyt tema", "emerging themes")):
        mine = [ok for (k, _, _), ok in zip(named, said) if k == kind]
        print(f"said in >= 3 of their 5 shown texts, {label}: {sum(mine)}/{len(mine)}")
    print(f"exported files with BERTopic id names outside data/: {len(raw)}" + "".join(f"\n  {line}" for line in raw))
    from pipeline.weighting import is_content

    notes = texts[(texts["source_kind"] == "note") & is_content(texts)]
    if len(notes):
        counts = notes["topic"].value_counts()
        print(f"note: {len(notes)} content passages in {counts.size} topics; largest topic {counts.iloc[0]} = {counts.iloc[0] / len(notes):.0%}")
    if args.verdicts:
        given = pd.read_csv(args.verdicts).drop_duplicates(["kind", "name"], keep="last").set_index(["kind", "name"])["fitting"]
        judged = [given.get((kind, name)) for kind, name, _ in named]
        fitting = [verdict == "yes" for verdict in judged if verdict is not None]
        unjudged = [name for (_, name, _), verdict in zip(named, judged) if verdict is None]
        print(f"meaningful and fitting (a reader's verdicts): {sum(fitting)}/{len(fitting)} = {sum(fitting) / max(len(fitting), 1):.0%}"
              + (f"; not judged: {', '.join(unjudged)}" if unjudged else ""))
    if args.dump:
        pd.DataFrame(
            [
                {"kind": kind, "name": name, "grounded": ok, **{f"text{k + 1}": text for k, text in enumerate(members[:5])}}
                for (kind, name, members), ok in zip(named, grounded)
            ]
        ).to_csv(args.dump, index=False)
    for (kind, name, members), ok in zip(named, grounded):
        print(f"[{kind}] {name}  ({len(members)} tekster{'' if ok else ', NOT in 2 texts'})")
        for text in members[: args.show]:
            print(f"      - {text[:150]}")


if __name__ == "__main__":
    pd.set_option("display.width", 200)
    main()
