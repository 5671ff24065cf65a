"""petition.parliament.uk's public JSON (GET /petitions/N.json), faked at the HTTP edge in its
real shape."""

from __future__ import annotations

import httpx

PETITION = "https://petition.parliament.uk/petitions/700001"




def petition_json(total: int, by_constituency: dict[str, tuple[str, int]]) -> dict:
    return {
        "links": {"self": f"{PETITION}.json"},
        "data": {
            "type": "petition",
            "id": 700001,
            "links": {"self": f"{PETITION}.json"},
            "attributes": {
                "action": "Give migrant survivors of domestic abuse equal protection",
                "background": "Migrant women are too often left without help.",
                "state": "open",
                "signature_count": total,
                "created_at": "2025-11-25T09:00:00.000Z",
                "opened_at": "2025-11-25T10:00:00.000Z",
                "signatures_by_country": [
                    {"name": "United Kingdom", "code": "gb", "signature_count": total}
                ],
                "signatures_by_constituency": [
                    {"name": name, "ons_code": code, "mp": "Jane Example MP", "signature_count": n}
                    for code, (name, n) in by_constituency.items()
                ],
                "signatures_by_region": [
                    {"name": "London", "ons_code": "H", "signature_count": total}
                ],
            },
        },
    }


class FakePetitions:
    """Serves a queue of answers (a status code, a body that is not JSON, a JSON body, or an
    httpx error class for a connection that hangs or drops) and counts requests."""

    def __init__(self, *answers: dict | int | bytes | type[httpx.TransportError]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, type):
            raise answer("the petition site failed", request=request)
        if isinstance(answer, int):
            return httpx.Response(answer)
        if isinstance(answer, bytes):
            return httpx.Response(200, content=answer)
        return httpx.Response(200, json=answer)
