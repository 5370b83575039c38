"""The session as a bash script of `az` and `kubectl` commands, in the wizard's order, safe to run again.

The commands are the steps' own `describe()` commands (one source for what the screens show and what is exported),
taken from a "fresh world" view of the session: the subscriptions, tenants, names, scopes and the pod are the
session's real values, but what a new cluster or identity gets anew — the OIDC issuer URL, the identity's client
and principal IDs — is read when the script runs (`ISSUER=$(az aks show …)`) and compared with what the session
saw, so the script reproduces the set-up on another run of the same plan instead of federating a stale issuer.

Every value read is assigned first (`X="$(az …)"`), so a failing az stops the script under `set -e` instead of
being taken for an empty answer. Idempotence: `az group/identity create` and `az identity federated-credential
create` are PUTs by name; the role assignment is created only when `az role assignment list` finds none; the
cluster update runs only while the issuer or workload identity is off; the pod is deleted and created again (the
webhook mutates pods only when they are created). Only what the session itself created is created: a resource
group or identity that existed before is used, never re-written.
"""

from __future__ import annotations

import copy
import shlex
from collections.abc import Iterable

from wizard.export.facts import created_ids, describe_context, session_created, tenants
from wizard.export.manifests import documents, dump
from wizard.session import Session
from wizard.steps.base import Description, Step
from wizard.steps.cluster import ClusterStep
from wizard.steps.deploy import DeployStep
from wizard.steps.federation import FederationStep
from wizard.steps.identity import IdentityStep
from wizard.steps.login import LoginStep
from wizard.steps.logs import LogsStep
from wizard.steps.role import RoleStep, scope_of
from wizard.workloads import PROBE_ERROR, PROBE_OK, PROBE_PREFIX, QUOTA_ERROR_PREFIX, QUOTA_USAGE_PREFIX, kind_of

# Stand-ins for what a fresh world assigns anew: shell-safe words that shlex.quote leaves alone, replaced by the
# shell variables the script reads them into.
_LIVE = {"__WI_ISSUER__": "ISSUER", "__WI_CLIENT_ID__": "CLIENT_ID", "__WI_PRINCIPAL_ID__": "PRINCIPAL_ID"}
_HEREDOC = "<<'EOF'\n"
# What the known workloads print on success and on failure (wizard/workloads.py): (proof, failure).
_VERDICT_MARKERS = {"probe": (PROBE_PREFIX + PROBE_OK, PROBE_PREFIX + PROBE_ERROR),
                    "quota": (QUOTA_USAGE_PREFIX, QUOTA_ERROR_PREFIX)}


def _live_view(session: Session, *, identity_created: bool) -> Session:
    """A copy of the session whose per-world values are the stand-ins; with `identity_created=False` the identity
    is not known yet (so the identity step describes creating it), and the cluster never looks enabled (so the
    cluster step describes turning the issuer on, which the script guards)."""
    view = copy.deepcopy(session)
    cluster = view.outcome("cluster").values
    cluster.pop("oidc_issuer", None)
    cluster.pop("workload_identity", None)
    cluster["issuer_url"] = "__WI_ISSUER__"
    identity = view.outcome("identity").values
    if identity_created:
        identity["client_id"], identity["principal_id"] = "__WI_CLIENT_ID__", "__WI_PRINCIPAL_ID__"
    else:
        identity.pop("client_id", None)
        identity.pop("principal_id", None)
    return view


def _describe(step: Step, session: Session) -> Description:
    return step.describe(describe_context(session))


def _pick(commands: Iterable[str], prefix: str, contains: str = "") -> str:
    found = [c for c in commands if c.startswith(prefix) and contains in c]
    if len(found) != 1:
        raise AssertionError(f"a step's description no longer has one {prefix!r} command")  # a refactor broke it
    return found[0]


def shellify(command: str) -> str:
    """Replace the stand-ins with the shell variables: `"$ISSUER"` as an argument; inside a heredoc (made
    expanding, with everything else escaped) as `${ISSUER}`."""
    if _HEREDOC in command and any(word in command.split(_HEREDOC, 1)[1] for word in _LIVE):
        head, body = command.split(_HEREDOC, 1)
        body = body.replace("\\", "\\\\").replace("$", "\\$").replace("`", "\\`")
        for word, var in _LIVE.items():
            body = body.replace(word, "${" + var + "}")
        command = head + "<<EOF\n" + body
    for word, var in _LIVE.items():
        command = command.replace(word, f'"${var}"')
    return command


def _quote(value: str) -> str:
    return shlex.quote(value)


def render(session: Session) -> str:
    plan = session.plan
    values = {step: outcome.values for step, outcome in session.outcomes.items()}
    cluster, identity = values["cluster"], values["identity"]
    created = created_ids(session)
    known_view = _live_view(session, identity_created=True)
    fresh_view = _live_view(session, identity_created=False)
    cluster_sub, identity_sub = cluster["subscription_id"], identity["subscription_id"]
    cluster_tenant, identity_tenant = tenants(session)
    lines: list[str] = [
        "#!/usr/bin/env bash",
        f"# wi-wizard session {session.name}: cross-tenant AKS workload identity, exported as az/kubectl commands.",
        f"# Target: {session.target.label}. Session started {session.created_at}, last changed {session.updated_at}.",
        f"# Cluster {plan.cluster.name} (resource group {plan.cluster.resource_group}, subscription {cluster_sub}) "
        f"in tenant {cluster_tenant};",
        f"# identity {plan.identity.name} (resource group {plan.identity.resource_group}, subscription "
        f"{identity_sub}) in tenant {identity_tenant}.",
        "# Safe to run again: what exists is found, not duplicated. Needs az and kubectl. No secret is written here:",
        "# a service-principal login reads its secret from $AZURE_CLIENT_SECRET.",
        "set -euo pipefail",
        "",
        "# A value read now may differ from the session's on another cluster or identity: say so, use the current one.",
        'expect() { [ "$2" = "$3" ] || echo "note: $1 is $2 now (the session saw $3); using the current value" >&2; }',
    ]

    def section(title: str, *body: str) -> None:
        lines.extend(["", f"# -- {title}", *body])

    # 1. login: one az login per tenant (az keeps both); skipped when that subscription is already reachable.
    logins = _describe(LoginStep(), session).commands
    sides = [(cluster_sub, cluster_tenant, logins[0])]
    if len(logins) > 1:
        sides.append((identity_sub, identity_tenant, logins[1]))
    who = "the cluster's tenant and the identity's tenant" if len(sides) > 1 else \
        f"tenant {cluster_tenant} (the cluster's and the identity's)"
    section(f"1. Sign in to {who}, unless already signed in. Every",
            "# command below names its subscription, so each goes to its own tenant's login.",
            *[f"az account show --subscription {sub} -o none 2>/dev/null || {command} -o none"
              for sub, _, command in sides])
    if len(logins) == 1 and identity_sub != cluster_sub:
        lines.append(f"az account show --subscription {identity_sub} -o none")

    # 2. cluster: turn the issuer and workload identity on if needed, read the issuer verbatim.
    cluster_commands = _describe(ClusterStep(), fresh_view).commands
    issuer_command = _pick(cluster_commands, "az aks show", "issuerUrl")
    where = issuer_command.removeprefix("az aks show ").split(" --query ", 1)[0]
    body = [f"az account set --subscription {cluster_sub}"]
    if plan.cluster.enable_workload_identity:
        update = _pick(cluster_commands, "az aks update")
        body += ["# Turn on the OIDC issuer and workload identity while either is off (a cluster update: minutes).",
                 f'ENABLED="$(az aks show {where} --query "oidcIssuerProfile.enabled && '
                 'securityProfile.workloadIdentity.enabled" -o tsv)"',
                 'if [ "$ENABLED" != "true" ]; then', f"  {update} -o none", "fi"]
    body += ["# The issuer URL exactly as AKS reports it (trailing slash included): the credential must equal it.",
             f'ISSUER="$({issuer_command})"',
             ': "${ISSUER:?the cluster reports no OIDC issuer URL}"',
             f"expect \"the cluster's OIDC issuer\" \"$ISSUER\" {_quote(cluster.get('issuer_url', ''))}"]
    section(f"2. Cluster {plan.cluster.name}: OIDC issuer and workload identity", *body)

    # 3. identity (tenant B): resource group and identity when the session created them.
    identity_commands = _describe(IdentityStep(), fresh_view).commands
    show = _pick(identity_commands, "az identity show")
    body = [f"az account set --subscription {identity_sub}"]
    if not plan.identity.reuse:
        body.append(_pick(identity_commands, "az provider register"))
        group_id = identity.get("resource_group_id", "")
        if group_id in created:
            body.append(_pick(identity_commands, "az group create") + " -o none")
        else:
            body.append(f"# Resource group {plan.identity.resource_group} existed before the session: used as it is.")
        if identity.get("identity_id", "") in created:
            body.append(_pick(identity_commands, "az identity create") + " -o none")
        else:
            body.append(f"# Identity {plan.identity.name} existed before the session: used as it is.")
    shown = show.split(" --query ", 1)[0]
    # One row, the two IDs tab-separated ([[…]]: a list of one list; a plain list would print one per line).
    body += [f'IDS="$({shown} --query "[[clientId, principalId]]" -o tsv)"',
             'read -r CLIENT_ID PRINCIPAL_ID <<<"$IDS"',
             ': "${CLIENT_ID:?no client ID read}" "${PRINCIPAL_ID:?no principal ID read}"',
             f"expect \"the identity's client ID\" \"$CLIENT_ID\" {_quote(identity.get('client_id', ''))}",
             f"expect \"the identity's principal ID\" \"$PRINCIPAL_ID\" {_quote(identity.get('principal_id', ''))}"]
    section(f"3. Managed identity {plan.identity.name} in the identity's tenant", *body)

    # 4. roles: created only when no equal assignment exists at the scope.
    if plan.roles:
        body = []
        role_commands = _describe(RoleStep(), known_view).commands
        for grant, command in zip(plan.roles, role_commands, strict=True):
            scope = scope_of(describe_context(session), grant)
            body += [f'ASSIGNED="$(az role assignment list --scope {_quote(scope)} --role {_quote(grant.role)} '
                     '--query "[?principalId==\'$PRINCIPAL_ID\'] | length(@)" -o tsv)"',
                     'if [ "$ASSIGNED" = "0" ]; then', f"  {shellify(command)} -o none", "fi"]
        section("4. Role assignments of the identity (created only when missing)", *body)

    # 5. federated credential: a PUT by name, so running it again converges it.
    federation = _pick(_describe(FederationStep(), known_view).commands, "az identity federated-credential create")
    fic = values.get("federation", {})
    section(f"5. Federated credential {plan.federation_name}: trust the cluster's issuer for "
            f"{plan.subject}",
            f"# The session federated issuer {fic.get('issuer', '')} subject {fic.get('subject', '')} audience "
            f"{fic.get('audience', '')}",
            shellify(federation) + " -o none")

    # 6. cluster credentials, in a file of this run only.
    get_credentials = f"az aks get-credentials {where} --file \"$KUBECONFIG\" --overwrite-existing -o none"
    body = ['KUBECONFIG="$(mktemp)"', "export KUBECONFIG", "trap 'rm -f \"$KUBECONFIG\"' EXIT", get_credentials]
    if cluster.get("aad") == "true":
        body.append("kubelogin convert-kubeconfig -l azurecli  # the cluster uses Entra ID for Kubernetes")
    section(f"6. Credentials for cluster {plan.cluster.name} (a temporary kubeconfig, removed on exit)", *body)

    # 7. deploy: namespace and ServiceAccount as the wizard applied them, then the pod created afresh.
    deploy_commands = _describe(DeployStep(), known_view).commands
    k, w = plan.kubernetes, plan.workload
    account_ours = session_created(session, "serviceaccounts", k.service_account)
    body = []
    if account_ours:
        objects = documents(known_view)[:-1]  # namespace (if ours) and ServiceAccount; the pod is created below
        body.append(shellify("kubectl apply -f - " + _HEREDOC + dump(objects) + "EOF"))
    else:
        if session_created(session):
            body.append(_pick(deploy_commands, "kubectl create namespace"))
        body += [f"# ServiceAccount {k.namespace}/{k.service_account} existed before: only the workload identity "
                 "annotations are added.", shellify(_pick(deploy_commands, "kubectl annotate serviceaccount"))]
    body += ["# The webhook injects the identity only when a pod is created: replace the pod.",
             _pick(deploy_commands, "kubectl delete pod"),
             shellify(_pick(deploy_commands, "kubectl create -f -"))]
    section(f"7. ServiceAccount {k.namespace}/{k.service_account} and pod {k.namespace}/{w.pod}", *body)

    # 8. logs: read (not followed: the quota reader never exits) until the workload's verdict line appears.
    follow = _pick(_describe(LogsStep(), session).commands, "kubectl logs -f ")
    logs = follow.replace("kubectl logs -f ", "kubectl logs ", 1)
    tries = int(LogsStep.start_timeout + LogsStep.verdict_timeout) // 2
    markers = _VERDICT_MARKERS.get(kind_of(w.image))
    if markers is None:
        section(f"8. The pod's logs ({w.image} is not a known workload: it cannot prove access by itself)",
                f"kubectl wait pod/{_quote(w.pod)} -n {_quote(k.namespace)} --for=jsonpath='{{.status.phase}}'=Running "
                f"--timeout={int(LogsStep.start_timeout)}s", logs)
    else:
        ok, failed = markers
        section(f"8. The pod's logs: the workload proves it reached the identity's tenant ({w.image})",
                'verdict=""', 'output=""',
                f"for _ in $(seq {tries}); do",
                f'  output="$({logs} 2>/dev/null || true)"',
                f'  case "$output" in *{_quote(ok)}*) verdict=proven; break ;; *{_quote(failed)}*) break ;; esac',
                "  sleep 2",
                "done",
                "printf '%s\\n' \"$output\"",
                '[ "$verdict" = proven ] || { echo "the workload did not prove access: see its logs above" >&2; '
                "exit 1; }",
                f'echo "Access proven from pod {k.namespace}/{w.pod}."')
    return "\n".join(lines) + "\n"
