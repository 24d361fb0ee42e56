"""The conversation store: history hands back each turn's state, and an older database is upgraded in place."""

import sqlite3

from bot.schema import Answer
from bot.storage import Store


def test_history_carries_the_finder_state_of_the_turn_that_had_one(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    conv = store.conversation(None)
    asked = Answer(answer="どんなことに取り組みたいですか？", refused=False,
                   finder={"question_field": "goals", "expects_reply": True, "profile": {"industry": "製造業"}})
    store.record(conv, "合う補助金は？", asked)
    store.record(conv, "補助率は？", Answer(answer="2/3です。", refused=False))
    history = store.history(conv)
    assert history[1] == {"role": "assistant", "content": "どんなことに取り組みたいですか？",
                          "finder": {"question_field": "goals", "expects_reply": True, "profile": {"industry": "製造業"}}}
    assert history[0] == {"role": "user", "content": "合う補助金は？"}
    assert history[3] == {"role": "assistant", "content": "2/3です。"}


def test_a_database_from_before_turn_state_is_upgraded_and_keeps_its_conversations(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE conversations (id VARCHAR(32) PRIMARY KEY, channel VARCHAR(16), created_at DATETIME);
            CREATE TABLE messages (id VARCHAR(32) PRIMARY KEY, conversation_id VARCHAR(32), seq INTEGER,
                role VARCHAR(16), content TEXT, refused BOOLEAN, citations JSON, created_at DATETIME);
            INSERT INTO conversations VALUES ('c1', 'web', '2026-01-01 00:00:00');
            INSERT INTO messages VALUES ('m1', 'c1', 1, 'user', '補助率は？', 0, '[]', '2026-01-01 00:00:00');
            INSERT INTO messages VALUES ('m2', 'c1', 2, 'assistant', '2/3です。', 0, '[]', '2026-01-01 00:00:01');
        """)
    store = Store(f"sqlite:///{path}")
    assert store.history("c1") == [{"role": "user", "content": "補助率は？"}, {"role": "assistant", "content": "2/3です。"}]
    store.record("c1", "合う補助金は？", Answer(answer="…", refused=False, finder={"expects_reply": True}))
    assert store.history("c1")[-1]["finder"] == {"expects_reply": True}
