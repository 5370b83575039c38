"""The sign-in and cluster screens driven with keys (Pilot): against a private sandbox over HTTPS for the real
behaviour (both tenants signed in, their subscriptions listed, the seed clusters listed, OIDC enabled, the issuer
shown verbatim and copied), and over fixed data for what the forms write into the plan."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Button, Checkbox, DataTable, Input, Select, Static

from tests.conftest import Env
from tests.tui.fixed_login_cluster import CLUSTERS, SUB_A, SUB_A2, SUB_B, FixedFormApp, signed_in
from tests.tui.seed_app import open_seed_plan, seed_app
from wizard import discover
from wizard.engine import Engine
from wizard.sandbox import Sandbox
from wizard.tui.messages import StepFinished
from wizard.tui.screens.cluster import ClusterScreen
from wizard.tui.screens.login import LoginScreen


def test_signing_in_lists_subscriptions_then_the_cluster_screen_enables_oidc_and_copies_the_issuer(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env], tmp_path: Path) -> None:
    box = make_sandbox()
    asyncio.run(_drive(box.state_dir / "endpoints.json", make_env(box), tmp_path))


async def _drive(endpoints: Path, env: Env, tmp_path: Path) -> None:
    app = seed_app(endpoints, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_seed_plan(app, pilot)
        login = app.screen
        assert isinstance(login, LoginScreen)
        assert login.query_one("#tenant-cluster-input", Input).value == "contoso.onmicrosoft.com"
        assert login.query_one("#same-tenant", Checkbox).value is False

        await pilot.press("enter")  # in the focused tenant field: runs the step
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        await app.workers.wait_for_complete()  # the subscription lookups started when the login finished
        await pilot.pause()
        for side, tenant, sub in (("cluster", "contoso", "contoso"), ("identity", "fabrikam", "fabrikam")):
            account = str(login.query_one(f"#account-{side}", Static).render())
            assert account.startswith("Signed in as ") and env.tenant_id(tenant) in account
            assert login.query_one(f"#subscription-{side}", Select).value == env.subscription_id(sub)
        assert str(login.query_one("#run", Button).label) == "Continue ▶"

        login.query_one("#run", Button).press()
        await pilot.pause(0.2)
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ClusterScreen)
        table = screen.query_one("#clusters", DataTable)
        assert sorted(c.name for c in screen.clusters.values()) == ["aks-platform", "aks-wi-demo"]
        assert table.row_count == 2
        highlighted = screen.highlighted()
        assert highlighted is not None and highlighted.name == "aks-wi-demo", "the plan's cluster is pre-selected"
        assert dict(screen.detail)["This step"].startswith("will enable the OIDC issuer and workload identity")

        table.focus()
        await pilot.press("up")  # look at the other cluster: the pane follows, the plan does not change yet
        await pilot.pause()
        assert "aks-platform" in str(screen.query_one("#cluster-detail", Static).border_title)
        assert app.engine is not None and isinstance(app.engine, Engine)
        assert app.engine.session.plan.cluster.name == "aks-wi-demo"
        await pilot.press("down", "enter")  # select aks-wi-demo: the Run button takes the focus
        await pilot.pause()
        assert screen.focused is screen.query_one("#run", Button)
        await pilot.press("enter")  # run the step
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        await app.workers.wait_for_complete()  # the table's reload after the step
        await pilot.pause()

        issuer = app.engine.session.outcomes["cluster"].values["issuer_url"]
        found = discover.cluster_choices(app.engine.ctx)  # the sandbox's ARM, through the real SDK
        assert found is not None
        wi_demo = next(c for c in found.clusters if c.name == "aks-wi-demo")
        assert wi_demo.oidc_issuer and wi_demo.workload_identity and wi_demo.issuer_url == issuer
        assert issuer.endswith("/")
        assert str(screen.query_one("#issuer", Static).render()) == issuer, "the issuer is shown verbatim"
        row = table.get_row(wi_demo.id)
        assert [str(cell) for cell in row[1:3]] == ["on", "on"], "the table shows the cluster's new state"

        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == issuer


def test_the_method_picked_for_a_side_is_how_the_login_step_signs_it_in(make_sandbox: Callable[..., Sandbox],
                                                                         tmp_path: Path) -> None:
    box = make_sandbox()
    asyncio.run(_device_code_for_the_cluster_side(box.state_dir / "endpoints.json", tmp_path))


async def _device_code_for_the_cluster_side(endpoints: Path, tmp_path: Path) -> None:
    app = seed_app(endpoints, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_seed_plan(app, pilot)
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        screen.query_one("#method-cluster", Select).value = "device-code"  # the sandbox approves it by itself
        await pilot.pause()
        screen.query_one("#run", Button).press()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)

        assert isinstance(app.engine, Engine)
        logins = app.engine.session.logins
        assert (logins["cluster"].method, logins["identity"].method) == ("device-code", "sandbox")
        assert logins["cluster"].account == "alex@contoso.onmicrosoft.com", "a person signed in, not the app"
        assert "alex@contoso.onmicrosoft.com" in str(screen.query_one("#account-cluster", Static).render())
        assert app.screen is screen, "the device-code modal closed when the login finished"


def test_continuing_writes_the_picked_subscriptions_into_the_plan(tmp_path: Path) -> None:
    asyncio.run(_continue_with_other_subscription(tmp_path))


async def _continue_with_other_subscription(tmp_path: Path) -> None:
    app = FixedFormApp(tmp_path, "login", LoginScreen)
    signed_in(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        screen.post_message(StepFinished("login", None))
        await pilot.pause()
        screen.show_subscriptions("cluster", [SUB_A, SUB_A2])
        screen.show_subscriptions("identity", [SUB_B])
        await pilot.pause()
        assert screen.query_one("#subscription-cluster", Select).value == SUB_A.id, "the plan's, by name"

        screen.query_one("#subscription-cluster", Select).value = SUB_A2.id
        screen.query_one("#run", Button).press()  # Continue
        await pilot.pause()

        assert app.session.plan.cluster.subscription == SUB_A2.id
        assert app.session.plan.identity.subscription == "fabrikam-shared", "the same one stays as the plan names it"


def test_same_tenant_makes_the_identity_side_follow_and_invalid_tenants_do_not_run(tmp_path: Path) -> None:
    asyncio.run(_same_tenant(tmp_path))


async def _same_tenant(tmp_path: Path) -> None:
    app = FixedFormApp(tmp_path, "login", LoginScreen)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        screen.query_one("#same-tenant", Checkbox).value = True
        await pilot.pause()
        identity_field = screen.query_one("#tenant-identity-input", Input)
        assert identity_field.disabled and identity_field.value == "contoso.onmicrosoft.com"

        screen.query_one("#method-cluster", Select).value = "device-code"
        await pilot.pause()
        assert screen.query_one("#method-identity", Select).value == "device-code"
        assert (app.logins.cluster, app.logins.identity) == ("device-code", "device-code")

        field = screen.query_one("#tenant-cluster-input", Input)
        field.value = "not a tenant"
        field.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.ran == [], "an invalid tenant keeps the step from running"

        field.value = "contoso.onmicrosoft.com"
        await pilot.press("enter")
        await pilot.pause()
        assert app.ran == ["login"]
        assert app.session.plan.identity.tenant == app.session.plan.cluster.tenant == "contoso.onmicrosoft.com"


def test_selecting_another_cluster_writes_it_into_the_plan(tmp_path: Path) -> None:
    asyncio.run(_select_other_cluster(tmp_path))


async def _select_other_cluster(tmp_path: Path) -> None:
    app = FixedFormApp(tmp_path, "cluster", ClusterScreen, done=("login",))
    signed_in(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ClusterScreen)
        screen.show_clusters(CLUSTERS)
        await pilot.pause()
        screen.query_one("#clusters", DataTable).focus()
        await pilot.press("up", "enter")
        await pilot.pause()

        c = app.session.plan.cluster
        assert (c.subscription, c.resource_group, c.name) == (SUB_A.id, "rg-platform", "aks-platform")
        assert "aks-platform" in str(screen.query_one("#summary", Static).render()), "the description follows"
        assert dict(screen.detail)["This step"].startswith("will read its issuer URL")
        await pilot.press("enter")  # the Run button has the focus
        await pilot.pause()
        assert app.ran == ["cluster"]
