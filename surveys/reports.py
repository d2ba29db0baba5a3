"""CSAT and NPS arithmetic (pure functions; the selectors count, these compute)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def csat_percent(satisfied: int, answered: int) -> float | None:
    """CSAT = share of 4 and 5 among the 1-5 scores, in percent (one decimal)."""
    return round(100.0 * satisfied / answered, 1) if answered else None


def nps_score(promoters: int, detractors: int, answered: int) -> float | None:
    """NPS = % promoters (9-10) - % detractors (0-6), from -100 to 100 (one decimal)."""
    return round(100.0 * (promoters - detractors) / answered, 1) if answered else None


def response_rate(responses: int, invitations: int) -> float | None:
    """Responses per invitation sent, in percent (one decimal)."""
    return round(100.0 * responses / invitations, 1) if invitations else None


@dataclass(frozen=True)
class Counts:
    invitations: int = 0
    responses: int = 0
    csat_answered: int = 0
    csat_satisfied: int = 0
    nps_answered: int = 0
    promoters: int = 0
    detractors: int = 0

    @classmethod
    def of(cls, row: dict[str, Any]) -> Counts:
        return cls(**{f: int(row.get(f) or 0) for f in cls.__dataclass_fields__})

    def figures(self) -> dict[str, Any]:
        return {
            "invitations": self.invitations,
            "responses": self.responses,
            "response_rate": response_rate(self.responses, self.invitations),
            "csat": {
                "responses": self.csat_answered,
                "satisfied": self.csat_satisfied,
                "percent": csat_percent(self.csat_satisfied, self.csat_answered),
            },
            "nps": {
                "responses": self.nps_answered,
                "promoters": self.promoters,
                "passives": self.nps_answered - self.promoters - self.detractors,
                "detractors": self.detractors,
                "score": nps_score(self.promoters, self.detractors, self.nps_answered),
            },
        }
