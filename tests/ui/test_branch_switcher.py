"""The "‹ 2/3 ›" switcher and the store's branch points it shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.store.conversations import create_conversation
from app.store.db import open_db
from app.store.message_tree import sibling_ids
from app.store.messages import add_message, edit_message
from app.ui.branch_switcher import BranchSwitcher


def test_arrows_ask_for_the_neighbouring_version(qtbot: Any) -> None:
    switcher = BranchSwitcher()
    qtbot.addWidget(switcher)
    switcher.show()
    switcher.set_branches([4, 8, 9], 8)
    assert switcher.text() == "\u2039 2/3 \u203a"
    asked: list[int] = []
    switcher.switch_to.connect(asked.append)
    assert switcher.step(-1) and switcher.step(1)
    assert asked == [4, 9]
    switcher.set_branches([4, 8, 9], 9)
    assert not switcher.next_button.isEnabled() and not switcher.step(1)
    switcher.set_branches([4], 4)
    assert switcher.isHidden()


def test_sibling_ids_reads_the_branch_points(tmp_path: Path) -> None:
    db = open_db(tmp_path / "lantern.db")
    cid = create_conversation(db)["id"]
    q = add_message(db, cid, "user", "q")
    a = add_message(db, cid, "assistant", "a")
    b = add_message(db, cid, "assistant", "b", parent_id=q["id"])
    q2 = edit_message(db, q["id"], "q, edited")
    assert sibling_ids(db, cid) == {
        q["id"]: [q["id"], q2["id"]],
        q2["id"]: [q["id"], q2["id"]],
        a["id"]: [a["id"], b["id"]],
        b["id"]: [a["id"], b["id"]],
    }
    db.close()
