"""The built-in protocol library: clinical-rules.md section 1, exactly.

Plain data, no Django: the data migration loads it, and tests check it against the spec's
table. Where a seed gives a range, the value is the spec's bold default and the range is what
a clinician may choose from when prescribing.
"""

MEDICATIONS = [
    {"slug": "cyanocobalamin", "name": "Cyanocobalamin", "strength_mcg_per_ml": "1000"},
    {"slug": "hydroxocobalamin", "name": "Hydroxocobalamin", "strength_mcg_per_ml": "1000"},
    {"slug": "methylcobalamin", "name": "Methylcobalamin", "strength_mcg_per_ml": "1000"},
]


def _phase(name, kind, every, end_kind, end_value=None, amount="1000", route="IM", **ranges):
    return {
        "name": name,
        "amount": amount,
        "unit": "mcg",
        "route": route,
        "frequency_kind": kind,
        "frequency_every": every,
        "end_kind": end_kind,
        "end_value": end_value,
        **ranges,
    }


_MONTHLY_LIFELONG = _phase("Maintenance", "months", 1, "lifelong")

PROTOCOLS = [
    {
        "slug": "cyano-im-daily10-monthly",
        "name": "Cyanocobalamin IM: daily x10, then monthly",
        "medication": "cyanocobalamin",
        "sources": "000",
        "phases": [_phase("Loading", "days", 1, "count", 10), _MONTHLY_LIFELONG],
    },
    {
        "slug": "cyano-im-3x-weekly-monthly",
        "name": "Cyanocobalamin IM: 3 times a week for 2 weeks, then monthly",
        "medication": "cyanocobalamin",
        "sources": "001",
        "phases": [_phase("Loading", "weekdays", 3, "count", 6), _MONTHLY_LIFELONG],
    },
    {
        "slug": "cyano-im-neuro-monthly",
        "name": "Cyanocobalamin IM, neurological: alternate days until no further improvement, "
        "then monthly",
        "medication": "cyanocobalamin",
        "sources": "001",
        "phases": [
            _phase("Loading (until no further improvement)", "days", 2, "open"),
            _MONTHLY_LIFELONG,
        ],
    },
    {
        "slug": "hydroxo-im-standard",
        "name": "Hydroxocobalamin IM: 3 times a week for 2 weeks, then every 3 months",
        "medication": "hydroxocobalamin",
        "sources": "002, 003, 004",
        "phases": [
            _phase("Loading", "weekdays", 3, "count", 6),
            _phase(
                "Maintenance", "months", 3, "lifelong", frequency_every_min=2, frequency_every_max=3
            ),
        ],
    },
    {
        "slug": "hydroxo-im-neuro",
        "name": "Hydroxocobalamin IM, neurological: alternate days until no further "
        "improvement, then every 2 months",
        "medication": "hydroxocobalamin",
        "sources": "003, 004",
        "phases": [
            _phase("Loading (until no further improvement)", "days", 2, "open"),
            _phase("Maintenance", "months", 2, "lifelong"),
        ],
    },
    {
        "slug": "hydroxo-im-daily6",
        "name": "Hydroxocobalamin IM: daily x6, then every 3 months",
        "medication": "hydroxocobalamin",
        "sources": "003",
        "phases": [
            _phase("Loading", "days", 1, "count", 6, end_value_min=5, end_value_max=6),
            _phase(
                "Maintenance", "months", 3, "lifelong", frequency_every_min=2, frequency_every_max=3
            ),
        ],
    },
    {
        "slug": "cyano-im-pernicious-100",
        "name": "Cyanocobalamin IM 100 mcg, pernicious anaemia: tapering, then monthly",
        "medication": "cyanocobalamin",
        "sources": "002",
        "phases": [
            _phase(
                "Loading: daily",
                "days",
                1,
                "count",
                7,
                amount="100",
                end_value_min=6,
                end_value_max=7,
            ),
            _phase("Loading: alternate days", "days", 2, "count", 7, amount="100"),
            _phase(
                "Loading: every few days",
                "days",
                3,
                "days",
                21,
                amount="100",
                frequency_every_min=3,
                frequency_every_max=4,
                end_value_min=14,
                end_value_max=21,
            ),
            _phase("Maintenance", "months", 1, "lifelong", amount="100"),
        ],
    },
    {
        "slug": "b12-im-bariatric",
        "name": "B12 IM after bariatric surgery: every 3 months",
        "medication": "cyanocobalamin",
        "sources": "001, 003, 004",
        "phases": [_phase("Maintenance", "months", 3, "lifelong")],
    },
    {
        "slug": "b12-im-ileal-resection",
        "name": "B12 IM after ileal resection: monthly",
        "medication": "cyanocobalamin",
        "sources": "001, 002, 004",
        "phases": [_MONTHLY_LIFELONG],
    },
    {
        "slug": "b12-nasal-q3d",
        "name": "B12 nasal spray: every 3 days",
        "medication": "cyanocobalamin",
        "sources": "002",
        "phases": [_phase("Maintenance", "days", 3, "lifelong", route="intranasal")],
    },
    {
        "slug": "b12-nasal-daily14-weekly",
        "name": "B12 nasal spray: daily x14, then weekly",
        "medication": "cyanocobalamin",
        "sources": "002",
        "phases": [
            _phase("Loading", "days", 1, "count", 14, route="intranasal"),
            _phase("Maintenance", "weeks", 1, "lifelong", route="intranasal"),
        ],
    },
    {
        "slug": "b12-oral-daily",
        "name": "B12 by mouth: daily",
        "medication": "cyanocobalamin",
        "sources": "000, 002, 003, 004",
        "phases": [
            _phase(
                "Maintenance",
                "days",
                1,
                "lifelong",
                route="oral",
                amount_min="1000",
                amount_max="2000",
            ),
        ],
    },
]
