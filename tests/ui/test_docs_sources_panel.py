"""app/ui/docs_sources_panel.py: numbered sources, opening the cited page."""

from __future__ import annotations

from typing import Any

from app.ui.docs_sources_panel import SourcesPanel

SOURCES = [
    {"file": "/docs/manual.pdf", "page": 12, "text": "The lamp is lit at dusk.", "score": 0.03},
    {"file": "/docs/notes.md", "page": 1, "text": "Fog horn " * 100, "score": 0.02},
]


def test_panel_lists_sources_and_opens_the_cited_page(qtbot: Any) -> None:
    panel = SourcesPanel(open_files=False)
    qtbot.addWidget(panel)
    panel.set_sources(SOURCES)
    assert panel.title.text() == "Sources (2)"
    assert panel.list.item(0).text() == "[1] manual.pdf, page 12\nThe lamp is lit at dusk."
    assert panel.list.item(1).text().endswith("…") and len(panel.list.item(1).text()) < 330
    with qtbot.waitSignal(panel.open_requested, timeout=1000) as blocker:
        panel.activate(1)
    assert blocker.args == ["/docs/manual.pdf", 12]
    with qtbot.waitSignal(panel.open_requested, timeout=1000) as blocker:
        panel.list.itemActivated.emit(panel.list.item(1))
    assert blocker.args == ["/docs/notes.md", 1]
    with qtbot.assertNotEmitted(panel.open_requested):
        panel.activate(9)
        panel.activate(0)
    panel.set_sources([])
    assert panel.title.text() == "No sources"


def test_panel_lists_each_sentence_with_its_source_or_not_found(qtbot: Any) -> None:
    panel = SourcesPanel(open_files=False)
    qtbot.addWidget(panel)
    panel.set_sources(SOURCES)
    panel.set_citations(
        [
            {"sentence": "The lamp is lit at dusk.", "source": 1, "score": 0.9},
            {"sentence": "It was built in 1891.", "source": None, "score": 0.3},
        ]
    )
    assert panel.sentences_title.text() == "Sentences: 1 supported, 1 not found"
    assert panel.sentences.item(0).text() == "[1] The lamp is lit at dusk.\n    manual.pdf, page 12"
    assert "not found in your documents" in panel.sentences.item(1).text()
    with qtbot.waitSignal(panel.open_requested, timeout=1000) as blocker:
        panel.sentences.itemActivated.emit(panel.sentences.item(0))
    assert blocker.args == ["/docs/manual.pdf", 12]
    with qtbot.assertNotEmitted(panel.open_requested):
        panel.sentences.itemActivated.emit(panel.sentences.item(1))
    panel.set_sources(SOURCES)  # the next answer's sources: its sentences are not known yet
    assert panel.sentences.count() == 0


def test_panel_names_the_reranker_only_when_one_is_installed(
    qtbot: Any, db: Any, minilm_path: Any
) -> None:
    """Under the title: the embedding model, and the reranker once one is registered (the
    FAKE one of tests.fixtures.fake_reranker; no real reranker can be downloaded here)."""
    from app.knowledge.embedding_model import embedding_status
    from app.knowledge.rerank import reranker_status
    from app.models.registry import register_file
    from tests.fixtures.fake_reranker import fake_reranker_path

    panel = SourcesPanel(open_files=False)
    qtbot.addWidget(panel)
    register_file(db, minilm_path)
    panel.set_embedding_status(embedding_status(db), reranker_status(db))
    assert "Reranker" not in panel.search_model.text()
    row = register_file(db, fake_reranker_path())
    panel.set_embedding_status(embedding_status(db), reranker_status(db))
    text = panel.search_model.text()
    assert text.startswith("Embedding model: all-MiniLM-L6-v2")
    assert f"Reranker: {row['name']} (reorders search results)" in text
