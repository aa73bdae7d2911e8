"""Event and audit ids: random version 4 UUIDs, spelled the standard way."""

from __future__ import annotations

import uuid

from memberbase.domain.uuids import uuid4_text


def test_ids_are_version_4_uuids_in_their_usual_spelling() -> None:
    made = [uuid4_text() for _ in range(200)]
    for text in made:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text  # lower-case hex, dashes where uuid puts them
    assert len(set(made)) == len(made)
