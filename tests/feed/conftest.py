from tests.frontline_fixtures import (  # noqa: F401  (fixtures for this directory)
    DAY,
    fixed_clock,
    frontline_a,
    frontline_b,
    login,
    make_sent_task,
    make_task,
    pinned_business_date,
)
