"""The plan: the seed example loads; every rule of wizard/plan.py and wizard/names.py is reported with the key it
concerns and the rule to follow, all at once; hostile plan files and arbitrary data only ever give a PlanError."""

from __future__ import annotations

import os
import string
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wizard import names
from wizard.plan import (
    DEFAULT_AUDIENCE,
    PLACEHOLDERS,
    PROBE_IMAGE,
    WEBHOOK_ENV,
    Plan,
    PlanError,
    fill_placeholders,
    load,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "seed-cross-tenant.toml"
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def valid() -> dict[str, Any]:
    """A complete, valid plan as plain data (what tomllib returns for the seed example)."""
    return {
        "cluster": {"tenant": "contoso.onmicrosoft.com", "subscription": "contoso-platform",
                    "resource_group": "rg-wi-demo", "name": "aks-wi-demo", "enable_workload_identity": True},
        "identity": {"tenant": "fabrikam.onmicrosoft.com", "subscription": "fabrikam-shared",
                     "resource_group": "rg-wi-demo", "location": "eastus", "name": "mi-wi-demo", "reuse": False},
        "roles": [{"role": "Reader", "scope": "subscription"}],
        "federation": {"name": "fc-wi-demo", "audience": DEFAULT_AUDIENCE},
        "kubernetes": {"namespace": "default", "service_account": "wi-demo-account"},
        "workload": {"pod": "wi-demo-app", "image": "ttl.sh/wi-demo-app:1h",
                     "env": {"AZURE_SUBSCRIPTION_ID": "${identity.subscription_id}"}},
    }


def with_value(key: str, value: Any) -> dict[str, Any]:
    """The valid plan with one dotted key (`cluster.name`, `roles.0.scope`, `workload.env.X`) set to `value`."""
    data = valid()
    *path, last = key.split(".")
    node: Any = data
    for part in path:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value
    return data


def problems_of(data: Any) -> dict[str, str]:
    """{key: message} of every problem Plan.from_dict reports (asserting it refuses the data)."""
    with pytest.raises(PlanError) as refused:
        Plan.from_dict(data, "plan.toml")
    assert refused.value.problems, "a PlanError always lists at least one problem"
    assert str(refused.value).startswith("plan.toml is not a usable plan:")
    return {p.key: p.message for p in refused.value.problems}


def only_problem(data: Any) -> tuple[str, str]:
    found = problems_of(data)
    assert len(found) == 1, found
    return next(iter(found.items()))


# -- the example -----------------------------------------------------------------------------------------------

def test_the_seed_example_loads_as_the_cross_tenant_seed_plan() -> None:
    plan = load(EXAMPLE)

    assert (plan.cluster.tenant, plan.cluster.name) == ("contoso.onmicrosoft.com", "aks-wi-demo")
    assert (plan.identity.tenant, plan.identity.name, plan.identity.location) == (
        "fabrikam.onmicrosoft.com", "mi-wi-demo", "eastus")
    assert [(r.role, r.scope) for r in plan.roles] == [("Reader", "subscription")]
    assert plan.subject == "system:serviceaccount:default:wi-demo-account"
    assert plan.federation_name == "fc-wi-demo"
    assert plan.federation.audience == DEFAULT_AUDIENCE
    assert plan.workload.env["AZURE_SUBSCRIPTION_ID"] == "${identity.subscription_id}"
    assert plan.problems() == []


def test_a_plan_survives_its_own_dict_round_trip() -> None:
    plan = load(EXAMPLE)
    assert Plan.from_dict(plan.to_dict()) == plan


def test_omitted_keys_take_their_documented_defaults() -> None:
    data = valid()
    del data["roles"], data["federation"], data["kubernetes"]
    data["workload"] = {}

    plan = Plan.from_dict(data)

    assert [(r.role, r.scope) for r in plan.roles] == [("Reader", "subscription")]
    assert plan.federation.audience == DEFAULT_AUDIENCE
    assert plan.subject == "system:serviceaccount:default:workload-identity-sa"
    assert plan.federation_name == "aks-wi-demo-default-workload-identity-sa"
    assert plan.workload.image == PROBE_IMAGE and plan.uses_probe


def test_placeholders_are_filled_and_unknown_ones_left_verbatim() -> None:
    filled = fill_placeholders("${identity.subscription_id}/${cluster.subscription_id}/${nope}",
                               {"identity.subscription_id": "s-b", "cluster.subscription_id": "s-a"})
    assert filled == "s-b/s-a/${nope}"


# -- structure: unknown keys and wrong types -------------------------------------------------------------------

@pytest.mark.parametrize("section", ["cluster", "identity", "federation", "kubernetes", "workload", "roles.0"])
def test_an_unknown_key_in_any_section_is_named_with_the_keys_allowed_there(section: str) -> None:
    key, message = only_problem(with_value(f"{section}.colour", "blue"))

    assert key == f"{section.replace('.0', '[0]')}.colour"
    assert message.startswith("unknown key; allowed here: ")


def test_an_unknown_top_level_section_is_named_with_the_sections_allowed() -> None:
    data = valid()
    data["clusters"] = {"name": "typo"}

    key, message = only_problem(data)

    assert key == "clusters"
    assert "allowed here: cluster, identity, federation, kubernetes, workload, roles" in message


def test_an_empty_or_spaced_unknown_key_is_shown_quoted() -> None:
    data = valid()
    data[""] = {}
    data["cluster"]["my name"] = "x"

    found = problems_of(data)

    assert set(found) == {'""', 'cluster."my name"'}


def test_a_plan_that_is_not_a_table_is_refused() -> None:
    assert only_problem(["cluster"]) == ("(top level)", "expected a table of sections")


@pytest.mark.parametrize("key, value, expected", [
    ("cluster.name", 42, "expected text, got 42"),
    ("cluster.tenant", True, "expected text, got True"),
    ("identity.location", ["eastus"], "expected text, got ['eastus']"),
    ("cluster.enable_workload_identity", "yes", "expected true or false, got 'yes'"),
    ("identity.reuse", 1, "expected true or false, got 1"),
    ("workload.env", "A=1", "expected a table of text values"),
    ("workload.env", {"A": 1}, "expected a table of text values"),
    ("workload.env", {"A": {"nested": "x"}}, "expected a table of text values"),
])
def test_a_value_of_the_wrong_type_names_the_key_and_the_type_expected(key: str, value: Any, expected: str) -> None:
    assert only_problem(with_value(key, value)) == (key, expected)


@pytest.mark.parametrize("section", ["cluster", "identity", "federation", "kubernetes", "workload"])
def test_a_section_that_is_not_a_table_is_named(section: str) -> None:
    found = problems_of(with_value(section, "oops"))
    assert found[section] == "expected a table"


@pytest.mark.parametrize("roles", [[], "Reader", {"role": "Reader"}])
def test_roles_must_be_a_non_empty_list_of_tables(roles: Any) -> None:
    assert only_problem(with_value("roles", roles)) == (
        "roles", "expected one or more [[roles]] tables (role and scope)")


def test_a_role_entry_that_is_not_a_table_is_named_by_its_index() -> None:
    assert only_problem(with_value("roles", [{"role": "Reader"}, "Contributor"])) == ("roles[1]", "expected a table")


def test_a_wrong_value_is_quoted_short_in_the_message() -> None:
    key, message = only_problem(with_value("cluster.name", ["x" * 100_000]))
    assert key == "cluster.name"
    assert len(message) < 200, "a huge value must not become the message"


# -- every naming rule -------------------------------------------------------------------------------------------

# (key, bad value, words the message must contain: the rule that tells people how to fix it)
NAME_RULES: list[tuple[str, str, str]] = [
    ("cluster.tenant", "", "the tenant is empty"),
    ("cluster.tenant", " contoso.onmicrosoft.com", "leading or trailing spaces"),
    ("cluster.tenant", "contoso\u200b.onmicrosoft.com", "control characters"),
    ("cluster.tenant", "contoso", "a tenant ID (a GUID) or a verified domain"),
    ("identity.tenant", "00000000-0000-0000-0000-00000000000", "a tenant ID (a GUID) or a verified domain"),
    ("cluster.subscription", "", "the subscription is empty"),
    ("identity.subscription", "s" * 65, "at most 64 characters"),
    ("cluster.resource_group", "rg.", "does not end with '.'"),
    ("identity.resource_group", "rg/wi", "1–90 letters, digits, '_', '-', '.', '(' or ')'"),
    ("identity.resource_group", "r" * 91, "1–90 letters"),
    ("cluster.name", "-aks", "1–63 letters, digits, '_' or '-', starting and ending with a letter or digit"),
    ("cluster.name", "aks.demo", "an AKS cluster name is"),
    ("cluster.name", "a" * 64, "1–63"),
    ("identity.name", "mi", "3–128 letters, digits, '-' or '_'"),
    ("identity.name", "_mi-demo", "starting with a letter or digit"),
    ("identity.name", "mi wi", "a managed identity name is"),
    ("identity.location", "East US", "lower case without spaces, such as eastus"),
    ("identity.location", "e", "an Azure region name"),
    ("roles.0.role", "", "the role is empty"),
    ("roles.0.role", "R" * 129, "at most 128 characters"),
    ("roles.0.scope", "tenant", "'subscription', 'resource-group', or a resource ID"),
    ("roles.0.scope", "/subscriptions/not-a-guid", "/subscriptions/<id>/resourceGroups/<group>"),
    ("federation.name", "fc", "3–120 letters, digits, '-' or '_'"),
    ("federation.name", "fc/wi", "a federated credential name is"),
    ("federation.audience", "api://one api://two", "without spaces, normally api://AzureADTokenExchange"),
    ("federation.audience", "a" * 601, "at most 600 characters"),
    ("federation.audience", "", "the audience is empty"),
    ("kubernetes.namespace", "Default", "lower-case letters, digits or '-'"),
    ("kubernetes.namespace", "n" * 64, "at most 63"),
    ("kubernetes.namespace", "team.a", "a namespace is"),
    ("kubernetes.service_account", "WI_SA", "a ServiceAccount name must be at most 253 lower-case letters"),
    ("kubernetes.service_account", "", "a ServiceAccount name is empty"),
    ("workload.pod", "-probe", "a pod name must be at most 253 lower-case letters"),
    ("workload.pod", "p" * 254, "a pod name must be"),
    ("workload.image", "Registry.io/App:1", "lower-case repository path"),
    ("workload.image", "app:", "an image is a reference such as"),
    ("workload.probe_resource", "/providers/Microsoft.Compute", "a scope is 'subscription'"),
]


@pytest.mark.parametrize("key, value, words", NAME_RULES, ids=[f"{k}={v[:20]!r}" for k, v, _ in NAME_RULES])
def test_each_naming_rule_names_the_key_and_says_the_rule(key: str, value: str, words: str) -> None:
    found_key, message = only_problem(with_value(key, value))

    assert found_key == key.replace(".0.", "[0].")
    assert words in message


@pytest.mark.parametrize("name, value, words", [
    ("9LIVES", "x", "does not start with a digit"),
    ("MY VAR", "x", "letters, digits, '_', '-' or '.'"),
    ("V" * 257, "x", "an environment variable name is"),
    ("GOOD", "two\nlines", "must not contain control characters such as newlines"),
    (".", "x", "must not be '.' or start with '..'"),
    ("..CONFIG", "x", "must not be '.' or start with '..'"),
    ("GOOD", "x" * 32769, "at most 32768 characters"),
])
def test_environment_names_and_values_are_checked(name: str, value: str, words: str) -> None:
    key, message = only_problem(with_value("workload.env", {name: value}))
    # A name that is not a bare TOML key is shown quoted (and shortened), like any key in a message.
    shown = {"MY VAR": '"MY VAR"', "V" * 257: '"' + "V" * 57 + '..."', ".": '"."', "..CONFIG": '"..CONFIG"'}
    assert key == f"workload.env.{shown.get(name, name)}"
    assert words in message


@pytest.mark.parametrize("validator, value, words", [
    (names.issuer, "http://oidc.example/", "an https:// URL of at most 600 characters, copied verbatim"),
    (names.issuer, "https://oidc.example/ x", "an issuer is an https:// URL"),
    (names.issuer, "https://" + "i" * 600, "at most 600 characters"),
    (names.issuer, "", "the issuer is empty"),
    (names.object_name, "Web_App", "the name must be at most 253 lower-case letters"),
])
def test_rules_the_plan_does_not_use_directly_still_say_the_fix(validator: Callable[[str], str | None], value: str,
                                                                words: str) -> None:
    message = validator(value)
    assert message is not None and words in message


@pytest.mark.parametrize("variable", WEBHOOK_ENV)
def test_variables_the_webhook_injects_may_not_be_set_in_the_plan(variable: str) -> None:
    key, message = only_problem(with_value("workload.env", {variable: "x"}))
    assert key == f"workload.env.{variable}"
    assert message == "is set by the workload identity webhook from the ServiceAccount; remove it"


def test_azure_tenant_id_may_not_be_set_in_the_plan_because_the_wizard_sets_it() -> None:
    assert only_problem(with_value("workload.env", {"AZURE_TENANT_ID": "contoso.onmicrosoft.com"})) == (
        "workload.env.AZURE_TENANT_ID", "is set by the wizard to the identity's tenant; remove it")


@pytest.mark.parametrize("value", ["${identity.subscriptionId}", "${IDENTITY.TENANT_ID}", "${}", "x${cluster.name}y"])
def test_an_unknown_placeholder_is_named_with_the_known_ones(value: str) -> None:
    key, message = only_problem(with_value("workload.env", {"TARGET": value}))

    assert key == "workload.env.TARGET"
    assert message.startswith("unknown placeholder ${")
    assert all(f"${{{p}}}" in message for p in PLACEHOLDERS)


def test_every_known_placeholder_is_accepted() -> None:
    env = {f"V{i}": f"<${{{p}}}>" for i, p in enumerate(PLACEHOLDERS)}
    assert Plan.from_dict(with_value("workload.env", env)).workload.env == env


def test_full_scopes_and_guid_tenants_are_accepted() -> None:
    scope = "/subscriptions/635cd26e-7ec3-41f4-80bd-176459f11e99/resourceGroups/rg-data/providers/" \
            "Microsoft.Storage/storageAccounts/stdata"
    data = with_value("roles", [{"role": "Storage Blob Data Reader", "scope": scope},
                                {"role": "acdd72a7-3385-48ef-bd42-f606fba81ae7", "scope": "resource-group"}])
    data["identity"]["tenant"] = "b61ff71d-b1d1-4b23-aa1e-52a18e70d50e"

    plan = Plan.from_dict(data)

    assert [r.scope for r in plan.roles] == [scope, "resource-group"]


def test_every_problem_is_reported_at_once_not_only_the_first() -> None:
    data = valid()
    data["colour"] = "blue"
    data["cluster"].update(name="-bad", tenant="nope", zone="1")
    data["identity"].update(location="East US", reuse="yes")
    data["roles"] = [{"role": "", "scope": "tenant"}, "Contributor"]
    data["federation"]["audience"] = "a b"
    data["kubernetes"]["namespace"] = "Default"
    data["workload"].update(pod="Pod", env={"AZURE_CLIENT_ID": "x", "AZURE_TENANT_ID": "y", "T": "${nope}"})

    found = problems_of(data)

    assert set(found) == {
        "colour", "cluster.zone", "cluster.name", "cluster.tenant", "identity.location", "identity.reuse",
        "roles[0].role", "roles[0].scope", "roles[1]", "federation.audience", "kubernetes.namespace",
        "workload.pod", "workload.env.AZURE_CLIENT_ID", "workload.env.AZURE_TENANT_ID", "workload.env.T",
    }


def test_an_empty_plan_lists_every_required_value() -> None:
    found = problems_of({})
    assert set(found) == {"cluster.tenant", "cluster.subscription", "cluster.resource_group", "cluster.name",
                          "identity.tenant", "identity.subscription", "identity.resource_group",
                          "identity.location", "identity.name"}
    assert all(message.endswith("is empty") for message in found.values())


# -- hostile plan files ------------------------------------------------------------------------------------------

def refused_file(path: Path) -> str:
    """The single problem load() reports for a file that is not a plan (never another exception)."""
    with pytest.raises(PlanError) as refused:
        load(path)
    assert refused.value.source == str(path)
    assert [p.key for p in refused.value.problems] == ["(file)"]
    return refused.value.problems[0].message


def test_a_missing_file_says_it_does_not_exist(tmp_path: Path) -> None:
    assert refused_file(tmp_path / "nope.toml") == "does not exist; check the path"


def test_a_directory_says_it_is_a_directory(tmp_path: Path) -> None:
    assert refused_file(tmp_path).startswith("is a directory")


def test_a_symlink_to_a_directory_says_it_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    link = tmp_path / "plan.toml"
    link.symlink_to(tmp_path / "plans")
    assert refused_file(link).startswith("is a directory")


def test_a_dangling_symlink_says_the_file_does_not_exist(tmp_path: Path) -> None:
    link = tmp_path / "plan.toml"
    link.symlink_to(tmp_path / "gone.toml")
    assert refused_file(link) == "does not exist; check the path"


def test_a_file_that_is_not_utf8_says_so(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_bytes('[cluster]\nname = "aks"\n'.encode("utf-16"))
    assert refused_file(path) == "is not UTF-8 text"


@pytest.mark.parametrize("text", ["[cluster\nname = 'x'", "name = ", "= 1", "[cluster]\x00", "a = 1\na = 2"])
def test_a_file_that_is_not_toml_says_where(tmp_path: Path, text: str) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(text)
    message = refused_file(path)
    assert message.startswith("is not valid TOML: ")
    assert "(at " in message, "the parser's position (line and column, or end of document) is kept"


def test_a_json_file_is_not_mistaken_for_a_plan(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text('{"cluster": {"name": "aks"}}')
    assert refused_file(path).startswith("is not valid TOML")


def test_toml_nested_deeper_than_the_parser_can_recurse_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text("a = " + "[" * 50_000 + "]" * 50_000)
    assert refused_file(path) == "nests arrays or tables too deeply to be a plan"


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    with path.open("wb") as handle:
        handle.truncate(2 * 1024 ** 3)  # sparse: 2 GB that would not fit the test's memory budget if read
    started = time.monotonic()
    assert refused_file(path) == "is larger than 1 MB; a plan is a few dozen lines"
    assert time.monotonic() - started < 2


def test_an_endless_device_is_refused_as_too_large() -> None:
    assert refused_file(Path("/dev/zero")) == "is larger than 1 MB; a plan is a few dozen lines"


@pytest.mark.skipif(os.geteuid() == 0, reason="running as root: root reads files whatever their permissions")
def test_an_unreadable_file_says_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(EXAMPLE.read_text())
    path.chmod(0)
    assert refused_file(path) == "cannot be read (permission denied)"


def test_a_valid_toml_file_with_invalid_values_names_the_file_and_every_key(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(EXAMPLE.read_text().replace('name = "aks-wi-demo"', 'name = "-aks"')
                    .replace('location = "eastus"', 'location = "East US"'))
    with pytest.raises(PlanError) as refused:
        load(path)
    assert str(refused.value).startswith(f"{path} is not a usable plan:")
    assert [p.key for p in refused.value.problems] == ["cluster.name", "identity.location"]


# -- properties: arbitrary data never breaks validation --------------------------------------------------------

SECTION_KEYS = {"cluster": ["tenant", "subscription", "resource_group", "name", "enable_workload_identity"],
                "identity": ["tenant", "subscription", "resource_group", "location", "name", "reuse"],
                "federation": ["name", "audience"], "kubernetes": ["namespace", "service_account"],
                "workload": ["pod", "image", "env", "probe_resource"], "roles": ["role", "scope"]}

leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40)
anything = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20)


def section_of(name: str) -> st.SearchStrategy[dict[str, Any]]:
    """Tables with this section's real keys (and some others) holding anything: reaches the deep checks."""
    keys = st.sampled_from(SECTION_KEYS[name]) | st.text(max_size=8)
    return st.dictionaries(keys, anything | st.dictionaries(st.text(max_size=8), anything, max_size=3), max_size=7)


plan_like = st.dictionaries(
    st.sampled_from(list(SECTION_KEYS)) | st.text(max_size=8),
    st.one_of(anything, *(section_of(n) for n in SECTION_KEYS if n != "roles"),
              st.lists(section_of("roles"), max_size=3)),
    max_size=7,
)


@FAST
@given(data=plan_like | anything)
@example(data={"workload": {"env": {1: "x"}}})
@example(data={"cluster": {"name": [[[[[[[[[[[["deep"]]]]]]]]]]]]}})
def test_from_dict_of_arbitrary_data_raises_only_plan_error(data: Any) -> None:
    try:
        plan = Plan.from_dict(data)
    except PlanError as exc:
        assert exc.problems
        assert all(p.key and p.message for p in exc.problems)
    else:
        assert plan.problems() == []


@FAST
@given(data=st.builds(lambda base, key, value: {**base, key: value}, st.just(valid()),
                      st.sampled_from(sorted(SECTION_KEYS)), section_of("cluster") | anything))
def test_breaking_one_section_of_a_valid_plan_raises_only_plan_error(data: dict[str, Any]) -> None:
    try:
        Plan.from_dict(data)
    except PlanError as exc:
        assert exc.problems


def _name_validators() -> list[Callable[[str], str | None]]:
    return [names.tenant, names.subscription, names.resource_group, names.cluster, names.identity,
            names.federated_credential, names.location, names.audience, names.issuer, names.namespace,
            names.object_name, names.image, names.env_name, names.env_value, names.role, names.scope]


HOSTILE = ["../../etc/passwd", "..", ".", "/", "a/../b", "C:\\Windows\\system32", "%2e%2e%2f", "\x00", "a\nb",
           "abc\n", "\u202eevil", "\ufeffbom", "名前", "ﾟ", "a" * 100_000, "-" * 100_000, "a." * 50_000,
           "a-" * 50_000 + "!", "/subscriptions/" + "a/" * 50_000, "registry.io/" + "a_" * 50_000 + "!"]
any_text = st.text() | st.sampled_from(HOSTILE) | st.text(alphabet=string.printable, min_size=200, max_size=3000)


@FAST
@given(value=any_text)
def test_every_name_validator_returns_none_or_a_sentence_for_any_text(value: str) -> None:
    for validator in _name_validators():
        verdict = validator(value)
        assert verdict is None or (isinstance(verdict, str) and verdict)
    assert isinstance(names.is_guid(value), bool)


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_is_judged_quickly_by_every_validator(value: str) -> None:
    for validator in _name_validators():
        started = time.monotonic()
        verdict = validator(value)
        assert time.monotonic() - started < 0.5, f"{validator.__name__} backtracks on {value[:30]!r}"
        assert verdict is None or isinstance(verdict, str)


# Names that end up in URLs, file names or Kubernetes paths.
PATH_NAMES = [names.cluster, names.identity, names.federated_credential, names.location, names.namespace,
              names.object_name, names.image, names.env_name, names.resource_group]
TRAVERSALS = ["../../etc/passwd", "..", ".", "/", "a/../b", "..%2f", "C:\\Windows", "\x00", "rg\n", "rg/../x"]


@pytest.mark.parametrize("value", TRAVERSALS)
def test_path_traversal_never_passes_a_name_that_becomes_a_path(value: str) -> None:
    accepted = [v.__name__ for v in PATH_NAMES if v(value) is None]
    assert accepted == [], f"{value!r} accepted by {accepted}"


@pytest.mark.parametrize("validator, good", [
    (names.cluster, "aks"), (names.identity, "mi-x"), (names.federated_credential, "fc-x"),
    (names.location, "eastus"), (names.namespace, "default"), (names.env_name, "X"),
    (names.tenant, "contoso.onmicrosoft.com"), (names.object_name, "wi-sa"), (names.image, "busybox:1"),
])
def test_a_trailing_newline_never_passes_a_name_rule(validator: Callable[[str], str | None], good: str) -> None:
    assert validator(good) is None
    assert validator(good + "\n") is not None


def test_a_guid_with_a_trailing_newline_is_not_a_guid() -> None:
    guid = "635cd26e-7ec3-41f4-80bd-176459f11e99"
    assert names.is_guid(guid)
    assert not names.is_guid(guid + "\n")


@FAST
@given(cluster=st.text(), namespace=st.text(), service_account=st.text())
@example(cluster="", namespace="", service_account="")
@example(cluster="-", namespace="_", service_account="-")
@example(cluster="ab" * 200, namespace="x", service_account="y")
@example(cluster="é", namespace="ü", service_account="ß")
def test_the_derived_federated_credential_name_always_satisfies_the_fic_rule(cluster: str, namespace: str,
                                                                                 service_account: str) -> None:
    plan = Plan()
    plan.cluster.name, plan.kubernetes.namespace, plan.kubernetes.service_account = (cluster, namespace,
                                                                                       service_account)
    assert names.federated_credential(plan.federation_name) is None, plan.federation_name


def test_an_explicit_federated_credential_name_is_used_as_given() -> None:
    plan = Plan.from_dict(with_value("federation.name", "my-fic_1"))
    assert plan.federation_name == "my-fic_1"


dns_label = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?\Z")


@FAST
@given(namespace=dns_label, service_account=dns_label)
def test_the_subject_names_the_namespace_and_service_account(namespace: str, service_account: str) -> None:
    data = valid()
    data["kubernetes"] = {"namespace": namespace, "service_account": service_account}

    plan = Plan.from_dict(data)

    assert plan.subject == f"system:serviceaccount:{namespace}:{service_account}"
    assert plan.subject.split(":") == ["system", "serviceaccount", namespace, service_account]
