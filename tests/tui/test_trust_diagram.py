"""The trust diagram drawn from constructed sessions: which arrows are green, red or not yet checked, and that the
issuer appears verbatim (with its trailing slash). No sandbox: the widget reads only the session."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import App, ComposeResult

from tests.tui.trust_fixtures import CLIENT_ID, ISSUER, SCOPE, seed_session
from wizard.session import Session
from wizard.tui.widgets.trust_diagram import TrustDiagram, link_from_event, link_states, render_diagram

ALL_PASSED = dict.fromkeys(("issuer", "signature", "match", "tenant", "role"), "passed")


def _arrows(text: Text) -> list[tuple[str, str]]:
    """(line, style) of each arrow line of a rendered diagram."""
    found = []
    for line in text.split("\n"):
        if line.plain.lstrip().startswith("▼"):
            assert len(line.spans) == 1, line.spans
            found.append((line.plain.strip(), str(line.spans[0].style)))
    return found


def _draw(session: Session) -> Text:
    return render_diagram(session, link_states(session))


def test_before_the_trust_step_every_arrow_is_not_yet_checked() -> None:
    arrows = _arrows(_draw(seed_session()))
    assert arrows == [
        ("▼ · issuer + signature: not yet checked", "dim"),
        ("▼ · match: not yet checked", "dim"),
        ("▼ · tenant: not yet checked", "dim"),
        ("▼ · role: not yet checked", "dim"),
        ("▼ · role: not yet checked", "dim"),
    ]


def test_when_every_link_passed_every_arrow_is_green() -> None:
    arrows = _arrows(_draw(seed_session(**ALL_PASSED)))
    assert [line for line, _ in arrows] == [
        "▼ ✓ issuer + signature: passed", "▼ ✓ match: passed", "▼ ✓ tenant: passed", "▼ ✓ role: passed",
        "▼ ✓ role: passed"]
    assert {style for _, style in arrows} == {"bold green"}


def test_a_failed_match_turns_its_arrow_red_and_leaves_the_links_after_it_unchecked() -> None:
    session = seed_session(issuer="passed", signature="passed", match="failed", tenant="skipped", role="skipped")
    assert _arrows(_draw(session)) == [
        ("▼ ✓ issuer + signature: passed", "bold green"),
        ("▼ ✗ match: failed", "bold red"),
        ("▼ · tenant: not yet checked", "dim"),
        ("▼ · role: not yet checked", "dim"),
        ("▼ · role: not yet checked", "dim"),
    ]


def test_an_arrow_proven_by_two_links_is_red_when_either_failed_and_green_only_when_both_passed() -> None:
    one_failed = seed_session(issuer="passed", signature="failed", match="skipped", tenant="skipped", role="skipped")
    assert _arrows(_draw(one_failed))[0] == ("▼ ✗ issuer + signature: failed", "bold red")
    one_unchecked = render_diagram(seed_session(), {"issuer": "passed"})
    assert _arrows(one_unchecked)[0] == ("▼ · issuer + signature: not yet checked", "dim")


def test_the_chain_names_each_hop_with_the_issuer_verbatim_and_the_observed_ids() -> None:
    lines = _draw(seed_session()).plain.splitlines()
    nodes = [line for line in lines if not line.lstrip().startswith("▼")]
    assert [line.split()[0] for line in nodes] == ["Cluster", "Issuer", "Federated", "Identity", "Role", "Scope"]
    assert nodes[0].endswith("aks-wi-demo · tenant A contoso.onmicrosoft.com")
    assert nodes[1].endswith(ISSUER), "the issuer is shown exactly as the cluster reports it, trailing slash too"
    assert "fc-wi-demo · subject system:serviceaccount:default:wi-demo-account · audience api://AzureADTokenExchange" \
        in nodes[2]
    assert f"mi-wi-demo · client {CLIENT_ID} · tenant B 44444444-4444-4444-4444-444444444444" in nodes[3]
    assert nodes[4].endswith("Reader")
    assert nodes[5].endswith(SCOPE)


def test_before_the_cluster_step_the_issuer_is_said_to_be_unknown_and_the_plan_fills_the_rest() -> None:
    session = seed_session()
    session.outcomes.clear()
    lines = _draw(session).plain.splitlines()
    assert lines[2].endswith("not known yet (the cluster step reads it)")
    assert lines[6].endswith("mi-wi-demo · tenant B fabrikam.onmicrosoft.com")
    assert lines[10].endswith("subscription")


def test_values_from_the_cloud_are_shown_as_text_never_as_markup() -> None:
    session = seed_session()
    session.outcomes["cluster"].values["issuer_url"] = "https://evil/[bold red]x[/]/"
    assert "https://evil/[bold red]x[/]/" in _draw(session).plain


def test_trust_step_events_are_read_as_link_results_and_other_events_are_not() -> None:
    assert link_from_event("match: failed — The federated credential does not match") == ("match", "failed")
    assert link_from_event("issuer: passed — tokens carry https://x/") == ("issuer", "passed")
    assert link_from_event("Trust check") is None
    assert link_from_event("waiting: match: passed") is None
    assert link_from_event("role: passedly") is None


def test_the_widget_redraws_with_live_states_and_falls_back_to_the_saved_ones() -> None:
    session = seed_session(**ALL_PASSED)

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield TrustDiagram(session)

    async def drive() -> None:
        async with Host().run_test(size=(120, 30)) as pilot:
            diagram = pilot.app.query_one(TrustDiagram)
            assert diagram.states == ALL_PASSED
            diagram.show(session, {"issuer": "failed"})
            await pilot.pause()
            assert "✗ issuer + signature: failed" in str(diagram.render())
            assert "match: not yet checked" in str(diagram.render())
            diagram.show(session)
            await pilot.pause()
            assert diagram.states == ALL_PASSED

    asyncio.run(drive())
