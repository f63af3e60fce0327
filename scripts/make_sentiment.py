"""Generate the bundled order-sensitive sentiment data set (datasets/sentiment/).

Sentences come from a small grammar (documented in datasets/sentiment/README.md)
in two languages, English and Chinese: clauses "<aspect> is [not] [very] <word>"
joined by "and" / "but" (English) or "<aspect>[不[太]|很]<word>" joined by
"，而且" / "，但是" (Chinese). A clause's polarity is its sentiment word's,
flipped by negation; "and" joins clauses of the same polarity, "but" clauses of
opposite polarity, and the label follows the clause after "but".

The test split holds contrast pairs, "A but B" beside "B but A": the same
multiset of tokens with opposite labels, so any bag-of-words model scores
exactly 50 % on them. No test sentence appears in the training split.

Deterministic: the same seed gives byte-identical files on every run and
platform (Python's `random.Random` with a string seed, `choice` and `shuffle`
only, which are stable across Python 3 releases).

    python scripts/make_sentiment.py            # rewrites datasets/sentiment/*.tsv
    python scripts/make_sentiment.py --out DIR  # writes DIR/sentiment_{en,zh}.tsv
"""
from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from pathlib import Path

SEED = 6
NUM_TRAIN = 2000
NUM_TEST_PAIRS = 200  # 400 sentences
NUM_TEST_OTHER = 200  # single clauses and "and" sentences
TRAIN_MIX = (("single", 0.25), ("and", 0.25), ("but", 0.50))
TEST_OTHER_MIX = (("single", 0.5), ("and", 0.5))
HEADER = "split\tlabel\tpair\ttext"


@dataclass(frozen=True)
class Lexicon:
    """The words of one language and how clauses and sentences are spelled."""

    aspects: tuple[str, ...]
    positive: tuple[str, ...]
    negative: tuple[str, ...]
    intensifiers: tuple[str, ...]
    separator: str  # between tokens of the written sentence

    def clause(self, aspect: str, negated: bool, intensifier: str, word: str) -> str:
        raise NotImplementedError

    def join(self, first: str, conjunction: str, second: str) -> str:
        raise NotImplementedError


class English(Lexicon):
    def clause(self, aspect: str, negated: bool, intensifier: str, word: str) -> str:
        parts = [aspect, "is"] + (["not"] if negated else []) + ([intensifier] if intensifier else []) + [word]
        return " ".join(parts)

    def join(self, first: str, conjunction: str, second: str) -> str:
        return f"{first} {conjunction} {second}"


class Chinese(Lexicon):
    def clause(self, aspect: str, negated: bool, intensifier: str, word: str) -> str:
        # 不 governs the word; with negation the only degree word is 太 ("不太好": not very good).
        middle = ("不" + ("太" if intensifier else "")) if negated else intensifier
        return f"{aspect}{middle}{word}"

    def join(self, first: str, conjunction: str, second: str) -> str:
        return f"{first}，{conjunction}{second}"


ENGLISH = English(
    aspects=("the food", "the service", "the staff", "the room", "the price", "the music", "the view",
             "the coffee", "the location", "the bed"),
    positive=("good", "great", "excellent", "nice", "lovely", "perfect", "wonderful", "pleasant"),
    negative=("bad", "terrible", "awful", "poor", "horrible", "disappointing", "mediocre", "dreadful"),
    intensifiers=("very", "really", "quite", "truly", "extremely"),
    separator=" ",
)
CHINESE = Chinese(
    aspects=("菜", "服务", "环境", "价格", "房间", "位置", "早餐", "咖啡", "音乐", "态度"),
    positive=("好", "棒", "出色", "优秀", "完美", "理想", "精彩", "舒服"),
    negative=("差", "糟糕", "烂", "差劲", "可怕", "恶劣", "难受", "失败"),
    intensifiers=("很", "非常", "特别", "真", "十分"),
    separator="",
)
LEXICONS = {"en": ENGLISH, "zh": CHINESE}
CONJUNCTIONS = {"en": {"and": "and", "but": "but"}, "zh": {"and": "而且", "but": "但是"}}


@dataclass(frozen=True)
class Clause:
    text: str
    aspect: str
    polarity: int  # 1 positive, 0 negative


def random_clause(rng: random.Random, lexicon: Lexicon, polarity: int | None = None,
                  avoid_aspect: str | None = None) -> Clause:
    """A clause of the given polarity (random if None), about an aspect other than `avoid_aspect`."""
    aspect = rng.choice([a for a in lexicon.aspects if a != avoid_aspect])
    negated = rng.random() < 0.4
    intensifier = rng.choice(lexicon.intensifiers) if rng.random() < 0.5 else ""
    want = rng.choice((0, 1)) if polarity is None else polarity
    word_polarity = 1 - want if negated else want  # negation flips the word it governs
    word = rng.choice(lexicon.positive if word_polarity else lexicon.negative)
    return Clause(lexicon.clause(aspect, negated, intensifier, word), aspect, want)


def random_sentence(rng: random.Random, language: str, form: str) -> tuple[str, int]:
    """(sentence, label) of one form: a single clause, two clauses of the same
    polarity joined by "and", or of opposite polarity joined by "but"."""
    lexicon = LEXICONS[language]
    first = random_clause(rng, lexicon)
    if form == "single":
        return first.text, first.polarity
    polarity = first.polarity if form == "and" else 1 - first.polarity
    second = random_clause(rng, lexicon, polarity, avoid_aspect=first.aspect)
    return lexicon.join(first.text, CONJUNCTIONS[language][form], second.text), second.polarity


def contrast_pair(rng: random.Random, language: str) -> tuple[tuple[str, int], tuple[str, int]]:
    """"A but B" and "B but A": the same tokens, opposite labels."""
    lexicon = LEXICONS[language]
    first = random_clause(rng, lexicon)
    second = random_clause(rng, lexicon, 1 - first.polarity, avoid_aspect=first.aspect)
    but = CONJUNCTIONS[language]["but"]
    return ((lexicon.join(first.text, but, second.text), second.polarity),
            (lexicon.join(second.text, but, first.text), first.polarity))


def _form(rng: random.Random, mix: tuple[tuple[str, float], ...]) -> str:
    draw, total = rng.random(), 0.0
    for form, weight in mix:
        total += weight
        if draw < total:
            return form
    return mix[-1][0]


def generate(language: str, seed: int = SEED) -> str:
    """The whole TSV file of one language, as text."""
    rng = random.Random(f"dlworkbook-sentiment-{language}-{seed}")
    rows: list[tuple[str, int, int, str]] = []
    train: set[str] = set()
    for _ in range(NUM_TRAIN):
        text, label = random_sentence(rng, language, _form(rng, TRAIN_MIX))
        train.add(text)
        rows.append(("train", label, -1, text))
    test: list[tuple[str, int, int, str]] = []
    seen: set[str] = set(train)
    pair_id = 0
    while pair_id < NUM_TEST_PAIRS:
        (a, label_a), (b, label_b) = contrast_pair(rng, language)
        if a in seen or b in seen:
            continue
        seen.update((a, b))
        test.extend([("test", label_a, pair_id, a), ("test", label_b, pair_id, b)])
        pair_id += 1
    others = 0
    while others < NUM_TEST_OTHER:
        text, label = random_sentence(rng, language, _form(rng, TEST_OTHER_MIX))
        if text in seen:
            continue
        seen.add(text)
        test.append(("test", label, -1, text))
        others += 1
    rng.shuffle(test)
    lines = [HEADER] + [f"{split}\t{label}\t{pair}\t{text}" for split, label, pair, text in rows + test]
    return "\n".join(lines) + "\n"


def write(out: Path, seed: int = SEED) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for language in LEXICONS:
        path = out / f"sentiment_{language}.tsv"
        path.write_bytes(generate(language, seed).encode("utf-8"))
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "datasets" / "sentiment")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    import hashlib

    for path in write(args.out, args.seed):
        print(f"{path}: SHA-256 {hashlib.sha256(path.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
