"""Storage URLs as they appear in files and logs: the password never does."""

from __future__ import annotations

import pytest

from lstm_tuner.storage.study import redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:secret@db:5432/hpo", "postgresql://u:***@db:5432/hpo"),
        ("postgresql://:secret@db/hpo", "postgresql://:***@db/hpo"),  # no user name
        ("postgresql://u:p@ss:w/rd@db/hpo", "postgresql://u:***@db/hpo"),  # raw '@', ':', '/'
        ("postgresql://u@db/hpo", "postgresql://u@db/hpo"),  # no password
        (
            "postgresql://db/hpo?user=u&password=secret&x=1",
            "postgresql://db/hpo?user=u&password=***&x=1",
        ),
        (
            "mysql+pymysql://root:secret@127.0.0.1/optuna",
            "mysql+pymysql://root:***@127.0.0.1/optuna",
        ),
        ("sqlite:///runs/a/study.db", "sqlite:///runs/a/study.db"),
    ],
)
def test_redact_url_hides_every_password(url, shown):
    assert redact_url(url) == shown
    assert "secret" not in redact_url(url) and "ss:w" not in redact_url(url)
