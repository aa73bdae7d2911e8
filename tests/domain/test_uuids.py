"""Event and audit ids: random version 4 UUIDs, spelled the standard way."""

from __future__ import annotations

import os
import uuid

from memberbase.domain.uuids import _CHUNK, random_16, uuid4_text


def test_ids_are_version_4_uuids_in_their_usual_spelling() -> None:
    made = [uuid4_text() for _ in range(200)]
    for text in made:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text  # lower-case hex, dashes where uuid puts them
    assert len(set(made)) == len(made)


def test_ids_stay_unique_across_the_chunks_random_bytes_come_in() -> None:
    made = {uuid4_text() for _ in range(3 * _CHUNK // 16 + 7)}
    assert len(made) == 3 * _CHUNK // 16 + 7


def test_a_forked_child_draws_other_bytes_than_its_parent() -> None:
    random_16()  # the parent holds a chunk with bytes left
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next bytes, to the parent
        os.write(writer, random_16())
        os._exit(0)
    os.close(writer)
    child = os.read(reader, 16)
    os.close(reader)
    os.waitpid(pid, 0)
    assert len(child) == 16
    assert child != random_16()
