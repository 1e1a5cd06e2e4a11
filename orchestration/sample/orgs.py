"""The sample's two orgs and their projects, and the user and project the events name but the directory lacks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OrgSpec:
    org_id: str
    name: str
    timezone: str
    email_domain: str


MAIN_ORG = OrgSpec("acme", "Acme Robotics", "Europe/Berlin", "acme.example")
SECOND_ORG = OrgSpec("globex", "Globex", "America/New_York", "globex.example")


@dataclass(frozen=True)
class ProjectSpec:
    project_id: str
    name: str
    kind: str  # single | workspace
    repositories: tuple[str, ...]


PROJECTS = {
    "acme": (
        ProjectSpec("p-billing-service", "Billing service", "single", ("acme/billing-service",)),
        ProjectSpec("p-auth-gateway", "Auth gateway", "single", ("acme/auth-gateway",)),
        ProjectSpec("p-robot-firmware", "Robot firmware", "single", ("acme/robot-firmware",)),
        ProjectSpec("p-docs-site", "Docs site", "single", ("acme/docs-site",)),
        ProjectSpec(
            "p-robotics",
            "Robotics stack",
            "workspace",
            ("acme/motion-planner", "acme/vision-pipeline", "acme/sim-harness", "acme/robot-msgs"),
        ),
        ProjectSpec("p-web-platform", "Web platform", "workspace", ("acme/web-app", "acme/design-system")),
        ProjectSpec(
            "p-data-platform",
            "Data platform",
            "workspace",
            ("acme/etl-jobs", "acme/warehouse-models", "acme/ml-features"),
        ),
    ),
    "globex": (
        ProjectSpec("p-crm", "CRM", "single", ("globex/crm",)),
        ProjectSpec("p-ops-scripts", "Ops scripts", "single", ("globex/ops-scripts",)),
        ProjectSpec("p-globex-suite", "Globex suite", "workspace", ("globex/api", "globex/web", "globex/infra")),
    ),
}
# In events but deliberately missing from the directory.
UNKNOWN_USER_ID = "u-contractor-x"
UNKNOWN_PROJECT = ProjectSpec("p-legacy-scripts", "Legacy scripts", "single", ("acme/legacy-scripts",))
