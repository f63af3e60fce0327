"""The bundled sentiment data set (datasets/sentiment/, scripts/make_sentiment.py)
and its loader and text helpers (autograder/sentiment.py)."""
from __future__ import annotations

import hashlib
import importlib.util
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

from autograder import data, sentiment
from autograder.data import DatasetError
from autograder.sentiment import (LANGUAGES, PAD_ID, UNK_ID, build_vocab, load_sentiment, minibatches, pad_batch,
                                  tokenize)

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "datasets" / "sentiment"


def _generator_module():
    spec = importlib.util.spec_from_file_location("make_sentiment", ROOT / "scripts" / "make_sentiment.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules["make_sentiment"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


make_sentiment = _generator_module()


@pytest.fixture(autouse=True)
def _default_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests read the repository's copy unless they point elsewhere themselves."""
    monkeypatch.delenv(data.DATASETS_ENV, raising=False)


def test_regenerating_gives_byte_identical_files(tmp_path: Path) -> None:
    written = make_sentiment.write(tmp_path)
    assert sorted(p.name for p in written) == ["sentiment_en.tsv", "sentiment_zh.tsv"]
    for path in written:
        assert path.read_bytes() == (BUNDLED / path.name).read_bytes(), f"{path.name} differs from the bundled file"


@pytest.mark.parametrize("language", LANGUAGES)
def test_checksums_match_loader_and_readme(language: str) -> None:
    path = BUNDLED / f"sentiment_{language}.tsv"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == sentiment.SENTIMENT_SHA256[language]
    assert digest in (BUNDLED / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("language", LANGUAGES)
def test_sizes_and_balance(language: str) -> None:
    dataset = load_sentiment(language)
    assert len(dataset.train) == make_sentiment.NUM_TRAIN
    assert len(dataset.test) == 2 * make_sentiment.NUM_TEST_PAIRS + make_sentiment.NUM_TEST_OTHER
    assert len(dataset.test.contrast()) == 2 * make_sentiment.NUM_TEST_PAIRS
    assert bool((dataset.train.pairs == -1).all())
    for split in (dataset.train, dataset.test):
        positive = float(split.labels.float().mean())
        assert 0.45 < positive < 0.55
        lengths = [len(tokens) for tokens in split.tokens]
        assert 2 <= min(lengths) and max(lengths) <= 15


@pytest.mark.parametrize("language", LANGUAGES)
def test_contrast_pairs_have_the_same_tokens_and_opposite_labels(language: str) -> None:
    pairs = load_sentiment(language).test.contrast()
    ids = pairs.pairs.tolist()
    assert ids == [i // 2 for i in range(len(ids))]  # two sentences per pair, side by side
    conjunction = {"en": "but", "zh": "但是"}[language]
    for index in range(0, len(ids), 2):
        a, b = pairs.tokens[index], pairs.tokens[index + 1]
        assert Counter(a) == Counter(b), (pairs.texts[index], pairs.texts[index + 1])
        assert a != b
        assert pairs.labels[index] != pairs.labels[index + 1]
        assert conjunction in pairs.texts[index] and conjunction in pairs.texts[index + 1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_any_bag_of_words_scores_one_half_on_the_pairs(language: str) -> None:
    """Identical counts give identical predictions: exactly one of each pair is right."""
    dataset = load_sentiment(language)
    pairs = dataset.test.contrast()
    vocab = build_vocab(dataset.train.tokens)
    counts = torch.zeros(len(pairs), len(vocab))
    for row, tokens in enumerate(pairs.tokens):
        for token in vocab.encode(tokens):
            counts[row, token] += 1
    weights = torch.randn(len(vocab), 2, generator=torch.Generator().manual_seed(0))
    predictions = (counts @ weights).argmax(dim=1)
    assert float((predictions == pairs.labels).float().mean()) == 0.5


def _clause_polarity(clause: str, language: str) -> int:
    lexicon = make_sentiment.LEXICONS[language]
    words = sorted(lexicon.positive + lexicon.negative, key=len, reverse=True)
    if language == "en":
        tokens = clause.split()
        word = tokens[-1]
        negated = "not" in tokens
    else:
        word = next(w for w in words if clause.endswith(w))
        negated = "不" in clause[: len(clause) - len(word)]
    polarity = 1 if word in lexicon.positive else 0
    assert polarity == 1 or word in lexicon.negative
    return 1 - polarity if negated else polarity


def _grammar_label(text: str, language: str) -> int:
    """The label the grammar gives, re-derived from the text alone."""
    if language == "en":
        but, also, split = " but ", " and ", lambda t, s: t.split(s)
    else:
        but, also, split = "，但是", "，而且", lambda t, s: t.split(s)
    if but in text:
        first, second = split(text, but)
        assert _clause_polarity(first, language) != _clause_polarity(second, language)
        return _clause_polarity(second, language)  # the clause after the contrast word
    if also in text:
        first, second = split(text, also)
        assert _clause_polarity(first, language) == _clause_polarity(second, language)
        return _clause_polarity(second, language)
    return _clause_polarity(text, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_label_follows_the_grammar(language: str) -> None:
    dataset = load_sentiment(language)
    for split in (dataset.train, dataset.test):
        for text, label in zip(split.texts, split.labels.tolist()):
            assert _grammar_label(text, language) == label, text


@pytest.mark.parametrize("language", LANGUAGES)
def test_negation_appears_on_both_polarities(language: str) -> None:
    """"not good" / 不好 and "not bad" / 不差 both occur, with the flipped labels."""
    texts = load_sentiment(language).train.texts
    singles = [(t, label) for t, label in zip(texts, load_sentiment(language).train.labels.tolist())
               if ("not" in t.split() if language == "en" else "不" in t) and _grammar_label(t, language) == label
               and ("but" not in t and "and" not in t and "，" not in t)]
    assert {label for _, label in singles} == {0, 1}


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_test_sentence_is_in_train(language: str) -> None:
    dataset = load_sentiment(language)
    assert not set(dataset.train.texts) & set(dataset.test.texts)
    assert len(set(dataset.test.texts)) == len(dataset.test)


def test_tokenize_english_words_and_chinese_characters() -> None:
    assert tokenize("The food is NOT good", "en") == ["the", "food", "is", "not", "good"]
    assert tokenize("菜不好，但是服务很棒", "zh") == ["菜", "不", "好", "，", "但", "是", "服", "务", "很", "棒"]
    with pytest.raises(DatasetError):
        tokenize("x", "fr")


def test_vocab_reserves_padding_and_unknown() -> None:
    vocab = build_vocab([["b", "a", "b"], ["c", "b"]])
    assert vocab.id_to_token[:2] == ["<pad>", "<unk>"] and PAD_ID == 0 and UNK_ID == 1
    assert vocab.encode(["b", "a", "c", "zzz"]) == [2, 3, 4, UNK_ID]  # by frequency, then code point
    assert vocab.decode([2, 3]) == ["b", "a"] and len(vocab) == 5
    assert build_vocab([["x"], ["y", "x"]], min_freq=2).id_to_token == ["<pad>", "<unk>", "x"]
    for language in LANGUAGES:
        dataset = load_sentiment(language)
        vocab = build_vocab(dataset.train.tokens)
        assert all(UNK_ID not in vocab.encode(tokens) for tokens in dataset.test.tokens)


def test_pad_batch_and_minibatches() -> None:
    tokens, lengths = pad_batch([[5, 6, 7], [8], [9, 10]])
    assert tokens.tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]] and tokens.dtype == torch.int64
    assert lengths.tolist() == [3, 1, 2] and lengths.dtype == torch.int64
    ids = [[i + 1] * (i % 4 + 1) for i in range(10)]
    labels = torch.arange(10)
    seen = []
    for batch_tokens, batch_lengths, y in minibatches(ids, labels, 4, torch.Generator().manual_seed(0)):
        assert batch_tokens.shape == (len(y), int(batch_lengths.max()))
        for row, label in enumerate(y.tolist()):
            assert batch_tokens[row, : batch_lengths[row]].tolist() == ids[label]
        seen += y.tolist()
    assert sorted(seen) == list(range(10))


def test_loader_rejects_altered_and_missing_files(tmp_path: Path) -> None:
    target = tmp_path / "sentiment" / "sentiment_en.tsv"
    target.parent.mkdir()
    shutil.copyfile(BUNDLED / "sentiment_en.tsv", target)
    assert load_sentiment("en", root=tmp_path).train.texts == load_sentiment("en").train.texts
    target.write_bytes(target.read_bytes().replace(b"good", b"gold", 1))
    with pytest.raises(DatasetError, match="corrupted or altered"):
        load_sentiment("en", root=tmp_path)
    with pytest.raises(DatasetError, match="not found"):
        load_sentiment("zh", root=tmp_path)
    with pytest.raises(DatasetError, match="unknown language"):
        load_sentiment("fr")


def test_loaded_labels_are_copies() -> None:
    first = load_sentiment("zh")
    first.train.labels.zero_()
    assert int(load_sentiment("zh").train.labels.sum()) > 0
