"""CSAT, NPS and response-rate arithmetic."""

from __future__ import annotations

from surveys.reports import Counts, csat_percent, nps_score, response_rate


def test_csat_is_the_share_of_four_and_five() -> None:
    scores = [5, 4, 4, 3, 1, 2, 5, 5]
    satisfied = sum(1 for s in scores if s >= 4)
    assert csat_percent(satisfied, len(scores)) == 62.5
    assert csat_percent(0, 0) is None


def test_nps_is_promoters_minus_detractors() -> None:
    scores = [10, 9, 9, 8, 7, 6, 0, 3, 10, 10]  # 5 promoters, 2 passives, 3 detractors
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    assert nps_score(promoters, detractors, len(scores)) == 20.0
    assert nps_score(0, 4, 4) == -100.0
    assert nps_score(0, 0, 0) is None


def test_response_rate_and_figures() -> None:
    assert response_rate(1, 3) == 33.3
    figures = Counts(
        invitations=4,
        responses=3,
        csat_answered=2,
        csat_satisfied=1,
        nps_answered=1,
        promoters=1,
        detractors=0,
    ).figures()
    assert figures == {
        "invitations": 4,
        "responses": 3,
        "response_rate": 75.0,
        "csat": {"responses": 2, "satisfied": 1, "percent": 50.0},
        "nps": {"responses": 1, "promoters": 1, "passives": 0, "detractors": 0, "score": 100.0},
    }
