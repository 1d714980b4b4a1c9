"""Lantern core: inference engine (no Qt).

- ``gguf_info.inspect_gguf``: check a GGUF and describe it (``gguf_reader`` parses the header).
- ``hardware``: cores, memory, GPU offload and backend; default threads / GPU layers.
- ``llama_log.route_llama_log``: llama.cpp's log to the ``lantern.llama`` logger.
- ``templates.ChatFormat``: the model's chat template in a Jinja sandbox, or a plain format.
- ``session.ChatSession``: load a chat model, stream replies, stop, reuse the KV prefix;
  built on ``llama_runtime`` (model, context, batch), ``sampling`` (native sampler
  chain), ``generate`` (the per-token loop) and ``context_fit`` (dropping old turns).
"""
