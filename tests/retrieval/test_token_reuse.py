"""The tokens the index stored at build time stand in for tokenizing the same passages again, and must be
exactly what tokenizing gives (else answers would change with the cache)."""

from retrieval.text import _known, _tokens, tokenize


def test_stored_passage_tokens_are_what_tokenize_gives(advisor):
    index = advisor.retriever.index
    passages = list(index.passages.values())[::40]
    assert passages
    for p in passages:
        key = f"{p.section}\n{p.text}"
        assert tokenize(key) == list(_tokens(key))  # the remembered tokens and a fresh Sudachi run agree


def test_the_index_stores_each_passage_s_text_tokens_for_search_to_read(advisor):
    """Search's coverage re-ranking reads the tokens of a passage's text: stored at build time, so a search in
    a fresh process runs no Sudachi over passages, and exactly what tokenizing the text gives."""
    passages = list(advisor.retriever.index.passages.values())
    assert all(p.text in _known for p in passages)
    for p in passages[::40]:
        assert tokenize(p.text) == list(_tokens(p.text))


def test_the_answerer_keeps_a_passage_s_surroundings_as_computed(advisor):
    answerer = advisor.make_extractive()
    p = next(iter(advisor.retriever.index.passages.values()))
    first = answerer._surroundings(p)
    text = f"{p.section}\n{answerer.context(p)}\n{p.text}"
    assert first == (frozenset(tokenize(text)), first[1]) and answerer._surroundings(p) is first
