"""The trust check: prove, before any pod runs, that a token of the plan's ServiceAccount becomes the identity
in tenant B and may do what the first role grants — link by link, so a failure names the one thing to fix.

  issuer     the token's `iss` is the cluster's issuer URL (verbatim) and the issuer serves its discovery document
  signature  the issuer's JWKS verifies the token (RS256, audience, expiry): what Entra will check
  match      Entra accepts the token for the identity (a federated credential matches issuer, subject, audience)
  tenant     the identity lives in the tenant asked, and the token Entra returns is that tenant's
  role       one ARM read the first role should allow succeeds with that token

The exchange is the real one (azure-identity's ClientAssertionCredential, as the pod's SDK will do it). Entra
answers AADSTS70021 for a while after a credential is created, and ARM 403 for a while after a role assignment:
both are waited out visibly (`ctx.wait`) when the credentials themselves are right — the identity's federated
credentials are read first, so a real mismatch fails at once with exactly what differs instead of waiting; and on
the first 403 the role step's assignments are read, so a role whose scope does not cover the read (e.g. a resource
group when the workload reads the subscription) fails at once too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wizard.diagnose import Diagnosis, diagnose, diagnose_text
from wizard.steps.armsupport import known
from wizard.steps.base import Cancelled, Check, Context, Description, Event, Result, Step, StepFailed
from wizard.target import ARM_SCOPE
from wizard.web import FetchError, get_json

if TYPE_CHECKING:
    from wizard.azure.arm import FederatedCredential
    from wizard.kube.client import Kube

LINKS = ("issuer", "signature", "match", "tenant", "role")
TOKEN_SECONDS = 600  # the shortest a TokenRequest may ask for
REMINT_AFTER = 420.0  # a token older than this is replaced before the next exchange attempt
TENANT_CODES = ("AADSTS700016", "AADSTS90002")  # answers about the tenant, not the credential
PROPAGATION_CODES = ("AADSTS70021", "AADSTS700211", "AADSTS700212", "AADSTS700213")
_FIELD_CODES = {"issuer": "AADSTS700211", "subject": "AADSTS700213", "audience": "AADSTS700212"}


@dataclass
class _Links:
    """The state of each link and the events announcing them."""

    ctx: Context
    step: str
    states: dict[str, str] = field(default_factory=lambda: dict.fromkeys(LINKS, "skipped"))

    def passed(self, link: str, detail: str) -> None:
        self.states[link] = "passed"
        self.ctx.report(Event(self.step, f"{link}: passed — {detail}"))

    def failed(self, link: str, diagnosis: Diagnosis) -> StepFailed:
        self.states[link] = "failed"
        self.ctx.report(Event(self.step, f"{link}: failed — {diagnosis.title}", "warning"))
        return StepFailed(diagnosis, self.values("failed"))

    def values(self, verdict: str) -> dict[str, str]:
        return {"verdict": verdict, **{f"link.{name}": state for name, state in self.states.items()}}


class _Assertion:
    """The ServiceAccount token presented to Entra, minted again when it gets old during long waits."""

    def __init__(self, mint: Any) -> None:
        self._mint = mint
        self._token = ""
        self._at = 0.0

    def __call__(self) -> str:
        if not self._token or time.monotonic() - self._at > REMINT_AFTER:
            self._token = self._mint()
            self._at = time.monotonic()
        return self._token


def _claims(token: str) -> dict[str, Any]:
    import jwt

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


def _scrub(text: str) -> str:
    return diagnose(text).detail  # one line, JWTs redacted


class TrustStep(Step):
    name = "trust"
    title = "Trust check"

    def __init__(self, fic_propagation_timeout: float = 300.0, role_propagation_timeout: float = 600.0,
                 first_delay: float = 2.0, max_delay: float = 20.0) -> None:
        self.fic_propagation_timeout = fic_propagation_timeout
        self.role_propagation_timeout = role_propagation_timeout
        self.first_delay = first_delay
        self.max_delay = max_delay

    # -- the Step interface -----------------------------------------------------------------------------------

    def describe(self, ctx: Context) -> Description:
        plan, k = ctx.plan, ctx.plan.kubernetes
        issuer = known(ctx, "cluster", "issuer_url") or "<the cluster's issuer URL>"
        client_id = known(ctx, "identity", "client_id") or "<identity client ID>"
        tenant = known(ctx, "identity", "tenant_id") or plan.identity.tenant
        scope = self._scope(ctx) or "/subscriptions/<identity subscription>"
        discovery = issuer.rstrip("/") + "/.well-known/openid-configuration"
        return Description(
            f"Prove the trust before deploying: mint a token for ServiceAccount {k.namespace}/{k.service_account} "
            f"(audience {plan.federation.audience}), check it carries the cluster's issuer and verify its signature "
            f"with the issuer's published keys, exchange it in tenant {tenant} as the identity {client_id} (as the "
            f"pod will), and read {scope} with the result. Each link is reported; waits for Entra and RBAC "
            "propagation are shown as they happen. The ServiceAccount is created first when missing (the deploy "
            "step annotates it).",
            [f"TOKEN=$(kubectl create token {k.service_account} -n {k.namespace} "
             f"--audience {plan.federation.audience} --duration 10m)",
             f"curl -s {discovery}",
             f'az login --service-principal --username {client_id} --tenant {tenant} --federated-token "$TOKEN" '
             "--allow-no-subscriptions",
             f'az rest --method get --url "{ctx.cloud.arm_url}{scope}?api-version=2022-12-01"'])

    def check(self, ctx: Context) -> Check:
        """Not verified yet → missing (without a network call); verified before → verified again, once, without
        waiting (a resume notices a trust that broke meanwhile)."""
        previous = ctx.session.outcome(self.name).values.get("verdict")
        if previous != "passed":
            return Check("missing", ["the trust has not been verified yet"])
        try:
            values = self._verify(ctx, patient=False)
        except StepFailed as exc:
            d = exc.diagnosis
            return Check("drifted", [f"{d.title}: {d.cause}"], exc.values)
        return Check("done", [self._proven(ctx)], values)  # said afresh: the identity may have been re-created

    def apply(self, ctx: Context) -> Result:
        from wizard.kube.client import Kube, KubeError

        self._issuer_url(ctx)  # a cluster without an OIDC issuer is explained before any call
        try:
            created = self._ensure_account(ctx, Kube.connect(ctx))
        except KubeError as exc:
            raise self.fail(exc) from None
        try:
            values = self._verify(ctx, patient=True)
        except StepFailed as exc:
            exc.created.extend(created)  # the account stays (the deploy step needs it): say it is ours
            raise
        return Result(self._proven(ctx), values, created)

    def _proven(self, ctx: Context) -> str:
        identity = ctx.value("identity", "client_id")
        return f"Trust proven: the ServiceAccount's token becomes identity {identity} and may read {self._scope(ctx)}"

    def _ensure_account(self, ctx: Context, kube: Kube) -> list[str]:
        """The namespace and ServiceAccount must exist to mint a token: create them when missing (with the
        wizard's ownership marks; the deploy step adds the workload identity annotations). Returns the refs of
        what was created, in the deploy step's format."""
        from wizard.kube.client import owner_annotations, owner_labels
        from wizard.steps.deploy import kube_ref, observed_key, owned

        k = ctx.plan.kubernetes
        cluster_id = ctx.value("cluster", "cluster_id")
        labels, annotations = owner_labels(), owner_annotations(ctx.session.name)
        created = []
        namespace = kube.ensure_namespace(k.namespace, labels, annotations)
        if namespace.action == "created" or owned(namespace.obj, ctx.session.name):  # or made by a run that crashed
            created.append(kube_ref(cluster_id, k.namespace))
        applied = kube.apply_service_account(k.namespace, k.service_account, {}, {}, owner_labels=labels,
                                             owner_annotations=annotations)
        # What the deploy step, next in this run, would read again (see Context.observed).
        if (namespace.obj.get("metadata") or {}).get("uid"):  # the object itself (not a stand-in after a conflict)
            ctx.observed.record(observed_key(k.namespace), namespace.obj)
        ctx.observed.record(observed_key(k.namespace, "serviceaccounts", k.service_account), applied.obj)
        if applied.action == "created" or owned(applied.obj, ctx.session.name):  # or made by a run that crashed
            created.append(kube_ref(cluster_id, k.namespace, "serviceaccounts", k.service_account))
        return created

    # -- the links --------------------------------------------------------------------------------------------

    def _verify(self, ctx: Context, patient: bool) -> dict[str, str]:
        from wizard.kube.client import Kube, KubeError

        links = _Links(ctx, self.name)
        plan, k = ctx.plan, ctx.plan.kubernetes
        issuer_url = self._issuer_url(ctx)
        scope = self._scope(ctx) or ctx.value("role", "scopes")
        kube = Kube.connect(ctx)

        def mint() -> str:
            try:
                return kube.token_request(k.namespace, k.service_account, plan.federation.audience, TOKEN_SECONDS)
            except KubeError as exc:
                if exc.not_found:  # deleted, or a re-created cluster: this step's apply makes it again
                    raise StepFailed(Diagnosis(
                        "ServiceAccountNotFound", "The ServiceAccount does not exist",
                        f"ServiceAccount {k.namespace}/{k.service_account} is not on the cluster (deleted, or the "
                        "cluster was re-created), so no token can be minted for it.",
                        "Run the trust step again: it creates the ServiceAccount.", self.name, exc.message),
                        links.values("failed")) from None
                raise StepFailed(diagnose(exc, "deploy"), links.values("failed")) from None

        assertion = _Assertion(mint)
        token = assertion()
        claims = _claims(token)
        keys_url = self._issuer(links, ctx, claims, issuer_url)
        self._signature(links, ctx, token, claims, keys_url)
        credential = self._exchange(links, ctx, assertion, claims, patient)
        self._role(links, ctx, credential, scope, patient)
        return links.values("passed")

    def _issuer(self, links: _Links, ctx: Context, claims: dict[str, Any], issuer_url: str) -> str:
        """The token's issuer is the cluster's and serves its discovery document; returns its jwks_uri."""
        iss = str(claims.get("iss") or "")
        if iss != issuer_url:
            raise links.failed("issuer", Diagnosis(
                "IssuerMismatch", "The cluster signs with another issuer",
                f"Service-account tokens of this cluster carry issuer {iss!r}, but ARM reports the cluster's issuer "
                f"as {issuer_url!r}: the API server has not picked up the OIDC issuer (it restarts after OIDC is "
                "enabled), or the cluster step read another cluster.",
                "Wait a few minutes after enabling the OIDC issuer and run the cluster step again; on AKS, "
                "`az aks update` reconciles the issuer.", "cluster"))
        discovery_url = iss.rstrip("/") + "/.well-known/openid-configuration"
        try:
            document = get_json(discovery_url, ctx.cloud.ca_bundle)
        except FetchError as exc:
            raise links.failed("issuer", self._unreachable(str(exc))) from None
        named = document.get("issuer") if isinstance(document, dict) else None
        keys_url = document.get("jwks_uri") if isinstance(document, dict) else None
        if named != iss:
            raise links.failed("issuer", Diagnosis(
                "IssuerDocumentMismatch", "The issuer's discovery document names another issuer",
                f"{discovery_url} names issuer {named!r}, but the tokens carry {iss!r}; Entra refuses such an issuer.",
                "Check the cluster's OIDC issuer (`az aks show --query oidcIssuerProfile`); run `az aks update` to "
                "reconcile it.", "cluster", f"GET {discovery_url}"))
        if not isinstance(keys_url, str) or not keys_url.startswith("https://"):
            raise links.failed("issuer", self._unreachable(f"{discovery_url} has no https jwks_uri ({keys_url!r})"))
        links.passed("issuer", f"tokens carry {iss} (as ARM reports it) and it serves its discovery document")
        return keys_url

    def _signature(self, links: _Links, ctx: Context, token: str, claims: dict[str, Any], keys_url: str) -> None:
        import jwt

        try:
            jwks = get_json(keys_url, ctx.cloud.ca_bundle)
        except FetchError as exc:
            raise links.failed("signature", self._unreachable(str(exc))) from None
        kid = _header(token).get("kid")
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        jwk = next((key for key in keys or [] if isinstance(key, dict) and key.get("kid") == kid), None)
        if jwk is None:
            raise links.failed("signature", Diagnosis(
                "SigningKeyUnknown", "The issuer does not publish the signing key",
                f"The token is signed with key {kid!r}, which {keys_url} does not list, so Entra cannot verify it "
                "(AADSTS700027). The signing keys were rotated and the issuer's keys are stale, or the issuer "
                "serves another cluster's keys.",
                "Run `az aks update` to reconcile the OIDC issuer, then retry.", "cluster", f"GET {keys_url}"))
        try:
            key = jwt.PyJWK(jwk).key
            jwt.decode(token, key=key, algorithms=["RS256"], audience=ctx.plan.federation.audience,
                       issuer=str(claims.get("iss")), leeway=60,
                       options={"require": ["exp", "iat", "iss", "sub", "aud"]})
        except jwt.PyJWTError as exc:
            raise links.failed("signature", Diagnosis(
                "SignatureInvalid", "The token does not verify with the issuer's keys",
                f"Verifying the service-account token against {keys_url} failed: {exc}. Entra will refuse it "
                "the same way.", "Check the cluster's OIDC issuer and its keys; run `az aks update` to reconcile.",
                "cluster")) from None
        links.passed("signature", f"RS256 signature verified with key {kid} from {keys_url}")

    def _exchange(self, links: _Links, ctx: Context, assertion: _Assertion, claims: dict[str, Any],
                  patient: bool) -> Any:
        """Entra's verdict on the token: returns the identity's credential (holding the ARM token it got)."""
        from azure.core.exceptions import ClientAuthenticationError
        from azure.identity import ClientAssertionCredential

        client_id = ctx.value("identity", "client_id")
        tenant_id = ctx.value("identity", "tenant_id")
        principal_id = ctx.value("identity", "principal_id")
        subject = str(claims.get("sub") or "")
        if subject != ctx.plan.subject:
            raise links.failed("match", Diagnosis(
                "SubjectUnexpected", "The token names another ServiceAccount",
                f"The cluster minted a token with subject {subject!r} for {ctx.plan.subject!r}.",
                "Check kubernetes.namespace and kubernetes.service_account in the plan.", "deploy"))
        # The identity's credentials are read from ARM only once Entra refuses the token (the federation step
        # has just written them; an accepted token needs no second look).
        fics_read: tuple[bool | None, str | None] | None = None
        credential = ClientAssertionCredential(tenant_id, client_id, assertion, **ctx.cloud.credential_kwargs())
        budget = self.fic_propagation_timeout if patient else 0.0
        waited, delay = 0.0, self.first_delay
        while True:
            assertion()  # re-mint here when old: inside get_token an error would be wrapped by azure-identity
            try:
                access = credential.get_token(ARM_SCOPE)
                break
            except ClientAuthenticationError as exc:
                found = diagnose(exc, "federation")
                if fics_read is None:
                    fics_read = self._credentials_match(ctx, claims)
                matches, mismatch = fics_read
                # Propagation: with a matching credential in ARM, any "no match" answer is Entra not knowing it
                # yet (a changed credential shows its old values for a while); unread credentials leave only the
                # generic code.
                waitable = PROPAGATION_CODES if matches else ("AADSTS70021",) if matches is None else ()
                if found.code in waitable and waited + delay <= budget:
                    ctx.wait(self.name, delay, "Entra ID does not know the new federated credential yet "
                                               "(AADSTS70021, propagation): retrying")
                    waited, delay = waited + delay, min(delay * 2, self.max_delay)
                    continue
                if found.code in TENANT_CODES:
                    raise links.failed("tenant", self._tenant_diagnosis(found, tenant_id, client_id)) from None
                raise links.failed("match", self._match_diagnosis(found, mismatch)) from None
        got = _claims(access.token)
        if str(got.get("tid", tenant_id)).lower() != tenant_id.lower():
            raise links.failed("tenant", Diagnosis(
                "WrongTenant", "Entra answered for another tenant",
                f"The exchange returned a token of tenant {got.get('tid')}, not {tenant_id}.",
                "Check identity.tenant in the plan.", "identity"))
        if str(got.get("oid", principal_id)).lower() != principal_id.lower():
            raise links.failed("match", Diagnosis(
                "OtherIdentity", "The token became another identity",
                f"Client ID {client_id} belongs to principal {got.get('oid')}, not the identity's {principal_id}.",
                "Run the identity step again: the identity was re-created or the client ID is stale.", "identity"))
        links.passed("match", f"Entra accepted the token for {subject} as identity {client_id}")
        links.passed("tenant", f"the identity lives in tenant {tenant_id}; the token is that tenant's")
        return credential

    def _role(self, links: _Links, ctx: Context, credential: Any, scope: str, patient: bool) -> None:
        from azure.core.exceptions import HttpResponseError

        from wizard.azure.arm import Arm

        arm = Arm(ctx.cloud, credential)
        budget = self.role_propagation_timeout if patient else 0.0
        waited, delay = 0.0, self.first_delay
        while True:
            try:
                arm.read(scope)
                break
            except HttpResponseError as exc:
                found = diagnose(exc, "role")
                if exc.status_code == 403 and not waited and (elsewhere := self._uncovered(ctx, scope)):
                    raise links.failed("role", Diagnosis(
                        "RoleScopeNotCovered", "The identity's role does not cover what it reads",
                        f"Signed in as the identity, GET {scope} was refused (403). The role step's assignments "
                        f"are in place, at {elsewhere}, and none of them applies at {scope}: waiting for "
                        "propagation would not help.",
                        "Assign the role at that scope or one above it (the role step: a wider scope), or point "
                        "workload.probe_resource at a resource inside the role's scope.", "role",
                        found.detail)) from None
                if exc.status_code == 403 and found.code == "AuthorizationFailed" and waited + delay <= budget:
                    ctx.wait(self.name, delay, "The role assignment has not taken effect yet (ARM 403, RBAC "
                                               "propagation takes up to 10 minutes): retrying")
                    waited, delay = waited + delay, min(delay * 2, self.max_delay)
                    continue
                if found.code == "AuthorizationFailed":
                    found = Diagnosis(found.code, "The identity may not read the role's scope",
                                      f"Signed in as the identity, GET {scope} was refused (403) "
                                      + (f"after waiting {int(waited)} s for the role assignment to take effect. "
                                         if waited else ". ")
                                      + "The role is missing, assigned at another scope, or does not allow reading "
                                        "it.",
                                      "Run the role step (check the role and scope in the plan), or wait longer for "
                                      "a fresh assignment.", "role", found.detail)
                raise links.failed("role", found) from None
        links.passed("role", f"GET {scope} as the identity answered 200")

    # -- helpers ----------------------------------------------------------------------------------------------

    def _issuer_url(self, ctx: Context) -> str:
        outcome = ctx.session.outcomes.get("cluster")
        found = outcome.values.get("issuer_url") if outcome else None
        if not found:
            if outcome is None or not outcome.values:
                ctx.value("cluster", "issuer_url")  # raises: the cluster step has not run
            raise StepFailed(Diagnosis("OidcIssuerOff", "The cluster has no OIDC issuer",
                                       "Workload identity needs the cluster's OIDC issuer, and it is off.",
                                       "Enable it (cluster.enable_workload_identity = true) and run the cluster "
                                       "step again.", "cluster"))
        return found

    def _scope(self, ctx: Context) -> str:
        """What the role link reads: the plan's probe resource, else the first role assignment's scope."""
        if ctx.plan.workload.probe_resource:
            return ctx.plan.workload.probe_resource
        outcome = ctx.session.outcomes.get("role")
        scopes = (outcome.values.get("scopes") if outcome else "") or ""
        return scopes.splitlines()[0] if scopes else ""

    def _uncovered(self, ctx: Context, scope: str) -> str | None:
        """Where the role step's assignments are, when they all exist and none applies at `scope` (the read will
        be refused however long one waits); None when one covers it, one is missing (deleted, or not visible yet:
        then the 403 may be propagation) or they cannot be read. Read like the federated credentials: with the
        operator's login, before waiting."""
        from wizard.azure.arm import Arm, scope_covers

        ids = [line for line in (known(ctx, "role", "assignment_ids") or "").splitlines() if line]
        if not ids:
            return None
        try:
            roles = Arm.for_side(ctx, "identity").roles(ctx.value("identity", "subscription_id"))
            found = [roles.assignment(assignment_id) for assignment_id in ids]
        except (StepFailed, Cancelled):
            raise
        except Exception:  # e.g. the operator may not read them: not a reason to fail the check
            return None
        if any(a is None for a in found) or any(scope_covers(a.scope, scope) for a in found if a is not None):
            return None
        return ", ".join(sorted({a.scope for a in found if a is not None}))

    def _credentials_match(self, ctx: Context, claims: dict[str, Any]) -> tuple[bool | None, str | None]:
        """Whether one of the identity's federated credentials (read from ARM) matches the token: (True, None);
        (False, what differs in plain words); (None, None) when they cannot be read (then Entra's answer alone
        has to do)."""
        from wizard.azure.arm import Arm, parse_id

        parsed = parse_id(ctx.value("identity", "identity_id"))
        try:
            fics = Arm.for_side(ctx, "identity").fics(parsed.subscription_id).list(parsed.resource_group,
                                                                                    parsed.name)
        except (StepFailed, Cancelled):
            raise
        except Exception:  # e.g. the operator may not read them: not a reason to fail the check
            return None, None
        iss, sub, aud = str(claims.get("iss")), str(claims.get("sub")), ctx.plan.federation.audience
        if any(f.issuer == iss and f.subject == sub and aud in f.audiences for f in fics):
            return True, None
        if not fics:
            return False, f"identity {parsed.name} has no federated credential"
        closest = _closest(fics, ctx.plan.federation_name, ctx.session.outcomes.get("federation"))
        return False, _differences(closest, iss, sub, aud)

    def _match_diagnosis(self, found: Diagnosis, mismatch: str | None) -> Diagnosis:
        if mismatch is None:
            return found
        field_name = next((f for f in ("issuer", "subject", "audience") if mismatch.startswith(f)), None)
        specific = diagnose_text(_FIELD_CODES[field_name]) if field_name and found.code == "AADSTS70021" else None
        base = specific or found
        return Diagnosis(base.code, base.title, base.cause, base.fix, "federation",
                         _scrub(f"{mismatch}. Entra ID: {found.detail}"))

    def _tenant_diagnosis(self, found: Diagnosis, tenant_id: str, client_id: str) -> Diagnosis:
        return Diagnosis(found.code, "Identity not found in that tenant",
                         f"Entra ID found no identity with client ID {client_id} in tenant {tenant_id}: the "
                         "identity lives in another tenant, or the client ID is wrong. (A pod makes this mistake "
                         "when AZURE_TENANT_ID names the cluster's tenant.)",
                         "Check identity.tenant in the plan and run the identity step again.", "identity",
                         found.detail)

    def _unreachable(self, detail: str) -> Diagnosis:
        rule = diagnose_text("AADSTS90061")
        assert rule is not None
        return Diagnosis(rule.code, rule.title, rule.cause, rule.fix, rule.step, _scrub(detail))


def _header(token: str) -> dict[str, Any]:
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return {}
    return header if isinstance(header, dict) else {}


def _closest(fics: list[FederatedCredential], name: str, federation: Any) -> FederatedCredential:
    """The credential meant for this plan: the federation step's, else the plan's name, else the first."""
    fic_id = federation.values.get("fic_id", "").lower() if federation is not None else ""
    return next((f for f in fics if f.id.lower() == fic_id), None) \
        or next((f for f in fics if f.name == name), None) or fics[0]


def _differences(fic: FederatedCredential, iss: str, sub: str, aud: str) -> str:
    """The first of issuer, subject, audience that differs (Entra's order), byte for byte."""
    if fic.issuer != iss:
        if fic.issuer.rstrip("/") == iss.rstrip("/"):
            slash = "has no trailing '/'" if not fic.issuer.endswith("/") else "has an extra trailing '/'"
            return (f"issuer differs: federated credential {fic.name!r} has {fic.issuer!r} ({slash}), the cluster's "
                    f"tokens carry {iss!r}")
        return (f"issuer differs: federated credential {fic.name!r} has {fic.issuer!r}, the cluster's tokens carry "
                f"{iss!r}")
    if fic.subject != sub:
        return f"subject differs: federated credential {fic.name!r} has {fic.subject!r}, the token's is {sub!r}"
    return (f"audience differs: federated credential {fic.name!r} accepts {', '.join(fic.audiences) or '(none)'}, the "
            f"token is for {aud!r}")
