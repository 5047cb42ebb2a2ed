from tests.frontline_fixtures import (  # noqa: F401  (fixtures for this directory)
    DAY,
    frontline_a,
    frontline_b,
    login,
    make_task,
    pinned_business_date,
)
