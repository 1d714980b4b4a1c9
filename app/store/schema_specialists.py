"""Schema migrations owned by specialists and routing (issue 9). Append only.

``specialists`` holds each specialist (a model, LoRA adapters, a system prompt, sampling,
a document collection, a fallback and routing rules); the migration seeds four examples
(General, Code, Writing, Documents) whose model is ``NULL``: the default chat model, so
they work with whatever is installed. Answers record who answered and why (``messages``
columns ``specialist``, ``route_reason``, ``confidence``, ``escalated``,
``escalated_from``, ``escalation_reason``).
"""

from __future__ import annotations

import json

import sqlite_utils
from sqlite_utils import Migrations

SPECIALISTS = Migrations("specialists")

SEED: tuple[dict[str, object], ...] = (
    {
        "name": "General",
        "description": "Everyday questions, facts, advice, explanations and small talk.",
        "examples": [
            "what is the capital of australia",
            "how long should I boil an egg",
            "explain how vaccines work in simple words",
            "any tips for sleeping better?",
        ],
        "sampling": "Balanced",
        "rules": [],
        "is_default": 1,
    },
    {
        "name": "Code",
        "description": "Programming: writing, reading, fixing and explaining code, errors "
        "and stack traces, shell commands, SQL and regular expressions.",
        "examples": [
            "why does this python function return None",
            "fix this error: TypeError: 'NoneType' object is not subscriptable",
            "write a bash one-liner to find big files",
            "how do I join two tables in SQL",
            "what does this regex match",
        ],
        "system_prompt": "You are a careful programming assistant. Answer with working "
        "code in fenced blocks and explain briefly.",
        "sampling": "Code",
        "rules": [
            "keyword: traceback",
            "keyword: stack trace",
            "keyword: exception",
            "keyword: compile error",
            "keyword: segfault",
            "regex: ```",
            r"regex: \b(def|class|import|return|function|const|var|public static)\b.*[(:{=]",
            r"regex: \b\w+(Error|Exception)\b",
            r"regex: \b(python|javascript|typescript|rust|golang|java|c\+\+|bash|sql|"
            r"regex|git|npm|pip|docker|kubernetes|api|json|yaml)\b",
            "file: .py",
            "file: .js",
            "file: .ts",
            "file: .rs",
            "file: .go",
            "file: .java",
            "file: .c",
            "file: .cpp",
            "file: .sh",
        ],
        "is_default": 0,
    },
    {
        "name": "Writing",
        "description": "Writing and editing text: drafting emails and letters, rewriting, "
        "proofreading, summarising, changing tone, stories and poems.",
        "examples": [
            "rewrite this email so it sounds more polite",
            "proofread my cover letter",
            "make this paragraph shorter",
            "write a short poem about autumn",
            "help me word a message to my landlord",
        ],
        "system_prompt": "You are a skilled editor. Keep the writer's meaning and voice; "
        "be clear and concise.",
        "sampling": "Creative",
        "rules": [
            "keyword: proofread",
            "keyword: rephrase",
            "keyword: reword",
            "keyword: rewrite",
            "keyword: cover letter",
            r"regex: \b(poem|haiku|limerick|short story)\b",
            r"regex: \b(draft|write|compose)\b.{0,40}\b(email|e-mail|letter|message|note|"
            r"speech|toast|post|bio)\b",
            r"regex: \b(more|less) (formal|polite|casual|friendly)\b",
            r"regex: \b(grammar|typos?|spelling)\b",
        ],
        "is_default": 0,
    },
    {
        "name": "Documents",
        "description": "Questions about the user's own documents and files: what a report, "
        "contract, manual or paper says, with citations.",
        "examples": [
            "what does the contract say about termination",
            "summarise the attached report",
            "according to the manual, how do I reset the device",
            "find where the paper mentions the sample size",
        ],
        "system_prompt": "Answer from the documents given, cite them by number, and say "
        "when they do not contain the answer.",
        "sampling": "Precise",
        "rules": [
            "documents",
            "file: .pdf",
            "file: .docx",
            "file: .txt",
            "file: .md",
            r"regex: \b(according to|in|from) (the|my|this|these) (attached )?(document|"
            r"file|pdf|report|contract|manual|paper|notes)s?\b",
            r"regex: \b(attached|uploaded) (file|document|pdf|report)",
        ],
        "is_default": 0,
    },
)
"""The four example specialists (model ``None``: the default chat model)."""


@SPECIALISTS()
def specialists_m001_specialists(db: sqlite_utils.Database) -> None:
    """Specialists, seeded with four examples, and who answered each message and why."""
    db.execute(
        """
        create table specialists (
            name text primary key collate nocase,
            description text not null default '',
            examples text not null default '[]',   -- JSON list of example requests
            model text,                            -- registry name; null: default chat model
            adapters text not null default '[]',   -- JSON list of {"name", "scale"}
            system_prompt text,
            sampling text,                         -- JSON: a preset name or {"temperature": ..}
            collection text,                       -- a named document collection
            fallback text,                         -- a model name or "remote:<endpoint>"
            threshold float,                       -- escalate below this confidence (0..1)
            allow_remote integer not null default 0,
            rules text not null default '[]',      -- JSON list: "keyword: x", "regex: x", ...
            is_default integer not null default 0,
            position integer not null default 0,
            created_at text not null,
            updated_at text not null
        )
        """
    )
    from app.store.timestamps import utc_now

    now = utc_now()
    for position, seed in enumerate(SEED):
        row = dict(seed)
        for key in ("examples", "rules"):
            row[key] = json.dumps(row[key], ensure_ascii=False)
        row["sampling"] = json.dumps(row["sampling"])
        db.table("specialists").insert(
            {**row, "position": position, "created_at": now, "updated_at": now}
        )
    messages = db.table("messages")
    messages.add_column("specialist", str)
    messages.add_column("route_reason", str)
    messages.add_column("confidence", float)
    messages.add_column("escalated", int)
    messages.add_column("escalated_from", int)
    messages.add_column("escalation_reason", str)
