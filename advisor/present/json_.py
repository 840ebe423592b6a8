"""The JSON report (the public contract, schema_version 1)."""
from __future__ import annotations

import json

from ..model import Report


def render(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2) + "\n"
