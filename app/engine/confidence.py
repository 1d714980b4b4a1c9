"""How sure the model was of its last answer: the mean log-probability of its tokens.

Used for escalation (``app.chat.escalation``) while the token loop does not report it
itself (``ReplyStats.mean_logprob``, when the engine adds it, is preferred). After a reply
the KV cache holds the prompt and the answer's decoded tokens; this decodes those same
tokens again in batches with logits for every position (llama.cpp's prompt speed, not its
token-by-token speed), takes each token's log-softmax probability, and leaves the cache as
it was. Only answers of specialists that can escalate are scored. It reads the session's
runtime and cache on the session's own thread, after ``reply()`` has ended.
"""

from __future__ import annotations

from typing import Any

import llama_cpp
import numpy as np

from app.logs import get_logger

log = get_logger("engine")


def answer_mean_logprob(session: Any) -> float | None:
    """The mean log-probability of the last reply's tokens (all but the final one, which
    was sampled but never decoded), or ``None`` when there is nothing to score."""
    rt, kv, prompt = session._rt, session._kv, list(session.last_prompt)
    n_prompt = len(prompt)
    if n_prompt == 0 or len(kv) <= n_prompt or kv[:n_prompt] != prompt:
        return None
    answer = kv[n_prompt:]
    tokens = [prompt[-1], *answer]  # the logits after token k score answer[k]
    keep = rt.truncate(n_prompt - 1)
    del kv[keep:]
    if keep != n_prompt - 1:  # the model cannot roll back its cache: nothing to score
        return None
    batch, ctx, n_vocab = rt.batch, rt.ctx, rt.n_vocab
    total, pos = 0.0, keep
    for start in range(0, len(tokens), rt.n_batch):
        chunk = tokens[start : start + rt.n_batch]
        for j, tok in enumerate(chunk):
            batch.token[j] = tok
            batch.pos[j] = pos + j
            batch.logits[j] = 1 if start + j < len(answer) else 0
        batch.n_tokens = len(chunk)
        rt.context.decode(len(chunk))
        for j in range(len(chunk)):
            k = start + j
            if k >= len(answer):
                break
            row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, j), shape=(n_vocab,))
            top = float(row.max())
            total += float(row[answer[k]]) - top - float(np.log(np.exp(row - top).sum()))
        kv.extend(chunk)
        pos += len(chunk)
    del kv[n_prompt + len(answer) :]  # same tokens as before
    return total / len(answer)
