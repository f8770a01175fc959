"""Demo cases of every installed emulator, known at collection time."""

from __future__ import annotations

from payhub_core.sandbox import load_emulators


def case_ids() -> list[str]:
    """Stable ids for every demo case of every installed emulator (known at collection)."""
    ids = []
    for emulator in load_emulators():
        for index, case in enumerate(emulator.demo_cases("http://127.0.0.1:1/" + emulator.name)):
            ids.append(f"{case.adapter.replace('.', '-')}-{index + 1}")
    return ids
