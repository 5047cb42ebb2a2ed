from tests.wecom_fixtures import (  # noqa: F401
    clock,
    fake,
    make_client,
    sleeps,
    token_engine,
    wecom,
)
