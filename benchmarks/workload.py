"""The requests the benchmarks send: deterministic tables and request texts, so runs compare."""
from __future__ import annotations

import random

REGIONS = ["North", "South", "East", "West"]
CF_REQUESTS = [
    "highlight sales under 500 in red",
    "show the top 10 sales in green",
    "mark duplicate names",
    "colour scale on sales from red to green",
    "bold the rows where the region is North",
    "highlight sales between 200 and 800",
    "flag blank cells",
    "data bars on sales",
]
BASH_REQUESTS = ["list all files larger than 10 MB", "count lines in every .py file", "find files changed today"]
PYTHON_REQUESTS = ["reverse a list of numbers", "read a csv file into a list of dicts", "sort a dict by value"]


def sales_table(n_rows: int, seed: int = 0) -> list[list]:
    """[[header], rows...]: Region, Name, Sales, Date; n_rows data rows."""
    rng = random.Random(seed)
    rows = [["Region", "Name", "Sales", "Date"]]
    for i in range(n_rows):
        rows.append([REGIONS[i % 4], f"Item {i}", round(rng.uniform(0, 1000), 2),
                     f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"])
    return rows


def mixed_requests(seed: int = 0):
    """An endless, deterministic mix for the soak: (method, path, body)."""
    rng = random.Random(seed)
    small = sales_table(50, seed)
    while True:
        pick = rng.random()
        if pick < 0.45:
            yield "POST", "/v1/cf/generate", {"request": rng.choice(CF_REQUESTS), "table": small, "k": 5}
        elif pick < 0.60:
            yield "POST", "/v1/bash/generate", {"request": rng.choice(BASH_REQUESTS), "k": 5}
        elif pick < 0.75:
            yield "POST", "/v1/python/generate", {"request": rng.choice(PYTHON_REQUESTS), "k": 5}
        elif pick < 0.85:
            yield "POST", "/v1/cf/preview", {"rule": "LessThan(c[2], 500)", "table": small}
        elif pick < 0.95:
            yield "POST", "/v1/cf/validate", {"rule": rng.choice(["LessThan(500)", "top(10)", "GreaterThan(5"])}
        else:
            yield "GET", "/healthz", None
