"""The window's light style sheet (kept in code so an installed package needs no data files)."""

from __future__ import annotations

STYLE = """
#conversationList {
    border: none;
    background: #f3f4f6;
    outline: 0;
}
#conversationList::item {
    padding: 7px 8px;
    border-radius: 4px;
    color: #1f2328;
}
#conversationList::item:selected {
    background: #d9e4fa;
    color: #10264f;
}
#conversationList::item:hover:!selected {
    background: #e7e9ee;
}
#chatView {
    border: none;
    border-left: 1px solid #e1e3e8;
    background: #ffffff;
}
#messageInput {
    border: 1px solid #c6cad1;
    border-radius: 6px;
    padding: 4px 6px;
    background: #ffffff;
}
#messageInput:focus {
    border: 1px solid #2d6cdf;
}
#sendButton, #stopButton {
    min-width: 76px;
    padding: 5px 12px;
}
#newChatButton {
    padding: 6px;
    text-align: left;
}
"""
