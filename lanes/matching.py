"""Visit -> manifest. The skeleton matches exact plates; fuzzy, OCR-aware matchers come later
behind the same two ports (`ManifestIndex`, `Matcher`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from lanes.model import Direction, Manifest, MatchOutcome, MatchResult, Visit
from lanes.plates import normalise_plate


class ManifestIndex(Protocol):
    def candidates(self, plate: str) -> Sequence[Manifest]: ...


class Matcher(Protocol):
    def match(self, visit: Visit, index: ManifestIndex, *, now: datetime) -> MatchResult: ...


class DictManifestIndex:
    """Manifests indexed by normalised tractor plate; candidates come sorted by manifest_id."""

    __slots__ = ("_by_plate",)

    def __init__(self, manifests: Iterable[Manifest]) -> None:
        by_plate: dict[str, dict[str, Manifest]] = {}
        for manifest in manifests:
            plate = normalise_plate(manifest.tractor_plate)
            if plate:
                by_plate.setdefault(plate, {})[manifest.manifest_id] = manifest
        self._by_plate: dict[str, tuple[Manifest, ...]] = {
            plate: tuple(found[m] for m in sorted(found)) for plate, found in by_plate.items()
        }

    def candidates(self, plate: str) -> Sequence[Manifest]:
        return self._by_plate.get(normalise_plate(plate), ())


def in_window(manifest: Manifest, now: datetime) -> bool:
    """Whether `now` lies in [window_start, window_end]; a missing bound is open."""
    if manifest.window_start is not None and now < manifest.window_start:
        return False
    return manifest.window_end is None or now <= manifest.window_end


class ExactPlateMatcher:
    """The skeleton's matcher: the visit's plate must equal the manifest's tractor plate.

    Never guesses: several manifests that fit equally well give AMBIGUOUS, for review.
    """

    __slots__ = ()

    def match(self, visit: Visit, index: ManifestIndex, *, now: datetime) -> MatchResult:
        plate = visit.plate
        if not plate:
            return _result(MatchOutcome.UNKNOWN, "plate unreadable")
        found = sorted(
            (m for m in index.candidates(plate) if normalise_plate(m.tractor_plate) == plate),
            key=lambda m: m.manifest_id,
        )
        if not found:
            return _result(MatchOutcome.UNKNOWN, f"no manifest for plate {plate}")
        same_way = [m for m in found if m.direction is visit.direction]
        if not same_way:
            return _mismatch(visit, found)
        if len(same_way) == 1:
            return _matched(same_way[0], f"manifest {same_way[0].manifest_id} for plate {plate}")
        open_now = [m for m in same_way if in_window(m, now)]
        at = f"{now:%Y-%m-%d %H:%M}"
        if len(open_now) == 1:
            return _matched(
                open_now[0],
                f"manifest {open_now[0].manifest_id} for plate {plate}: the only one of "
                f"{len(same_way)} {visit.direction} manifests whose window contains {at}",
            )
        pool = open_now or same_way
        which = "have windows containing" if open_now else "and none has a window containing"
        many = f"{len(pool)} {visit.direction} manifests for plate {plate}"
        return _result(MatchOutcome.AMBIGUOUS, f"{many} {which} {at}: {_ids(pool)}")


def _result(outcome: MatchOutcome, evidence: str) -> MatchResult:
    return MatchResult(outcome=outcome, manifest=None, score=0.0, evidence=evidence)


def _matched(manifest: Manifest, evidence: str) -> MatchResult:
    return MatchResult(MatchOutcome.MATCHED, manifest, 1.0, f"{evidence} ({manifest.direction})")


def _mismatch(visit: Visit, found: Sequence[Manifest]) -> MatchResult:
    declared: Direction = found[0].direction
    noun = "manifest" if len(found) == 1 else "manifests"
    verb = "declares" if len(found) == 1 else "declare"
    return MatchResult(
        outcome=MatchOutcome.MISMATCH,
        manifest=found[0] if len(found) == 1 else None,
        score=0.0,
        evidence=(
            f"{noun} {_ids(found)} for plate {visit.plate} {verb} {declared}, "
            f"but the truck was seen going {visit.direction}"
        ),
    )


def _ids(manifests: Sequence[Manifest]) -> str:
    return ", ".join(sorted(m.manifest_id for m in manifests))
