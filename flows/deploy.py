"""Deployments the secretariat starts from the Prefect UI (``tematik serve``); their form is
drawn from the flows' parameters (:mod:`flows.parameters`)."""

from __future__ import annotations

from flows.series import series_flow
from flows.workshop import workshop_flow

def deployments(taxonomy: str | None, out: str, models: str):
    """The two deployments with their default parameters; the UI form can change each one."""
    common = {"taxonomy": taxonomy, "out": out, "models": models}
    return [
        workshop_flow.to_deployment(
            name="efter-workshop",
            description="Kør efter en workshop: vælg inputmappe og taksonomi.",
            parameters=common,
            tags=["tematik"],
        ),
        series_flow.to_deployment(
            name="workshopserie",
            description="Flere workshops i én kørsel: én emnemodel, resultater pr. workshop og samlet.",
            parameters=common,
            tags=["tematik"],
        ),
    ]


def serve_deployments(taxonomy: str | None, out: str, models: str) -> None:
    from prefect import serve

    serve(*deployments(taxonomy, out, models))
