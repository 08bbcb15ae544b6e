"""What a model does (chat, safety, embedding, audio, image, rerank), for comparing like with like."""

from __future__ import annotations

# What a model does, told from its name (the price book has no such column): a lever never
# offers a safety classifier or an embedding model in place of a chat model.
MODEL_KINDS = (
    ("safety", ("safeguard", "moderation", "guard", "shield")),
    ("embedding", ("embed",)),
    ("audio", ("tts", "whisper", "audio", "transcribe", "realtime", "speech")),
    ("image", ("image", "dall-e", "imagen", "vision-gen")),
    ("rerank", ("rerank",)),
)


def model_kind(model: str) -> str:
    """``chat`` unless the name says otherwise (``gpt-oss-safeguard-20b`` → ``safety``)."""
    name = model.lower()
    for kind, marks in MODEL_KINDS:
        if any(mark in name for mark in marks):
            return kind
    return "chat"
