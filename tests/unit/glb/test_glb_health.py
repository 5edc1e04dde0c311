"""Health check thresholds: how check results turn into a backend's health."""

from __future__ import annotations

import pytest

from kfed_local.glb.health import HealthSettings, TargetHealth, observe

SETTINGS = HealthSettings(unhealthy_threshold=2, healthy_threshold=3)


def run(results: list[str | None], state: TargetHealth | None = None) -> TargetHealth:
    current = state or TargetHealth()
    for error in results:
        current = observe(current, error, SETTINGS)
    return current


def test_first_check_decides_at_once() -> None:
    assert run([None]).healthy is True
    assert run(["refused"]).healthy is False


def test_healthy_backend_goes_out_after_the_unhealthy_threshold() -> None:
    healthy = run([None])
    assert run(["refused"], healthy).healthy is True
    after = run(["refused", "timed out"], healthy)
    assert after.healthy is False
    assert after.last_error == "timed out"


def test_a_success_resets_the_failure_count() -> None:
    assert run([None, "refused", None, "refused"]).healthy is True


def test_unhealthy_backend_comes_back_after_the_healthy_threshold() -> None:
    down = run(["refused"])
    assert run([None, None], down).healthy is False
    back = run([None, None, None], down)
    assert back.healthy is True
    assert back.last_error == ""


def test_default_timings_fail_over_within_five_seconds() -> None:
    defaults = HealthSettings()
    worst = (defaults.interval + defaults.timeout) * defaults.unhealthy_threshold
    assert worst <= 5.0


@pytest.mark.parametrize(
    "kwargs",
    [{"interval": 0.0}, {"timeout": -1.0}, {"unhealthy_threshold": 0}, {"path": "healthz"}],
)
def test_nonsense_health_settings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="health check"):
        HealthSettings(**kwargs)  # type: ignore[arg-type]
