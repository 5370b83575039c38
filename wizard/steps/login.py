"""Step 1: sign in to the cluster's tenant (A) and the identity's tenant (B).

Each side gets its own credential, because ARM answers a tenant-A token on a tenant-B subscription with
InvalidAuthenticationTokenTenant and the SDKs do not switch tenants by themselves. When both sides name the same
tenant with the same method, one credential (and one prompt) serves both. Credentials stay in memory
(`ctx.credentials`); the session remembers only the method, the tenant ID and the account name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wizard import names
from wizard.azure import credentials
from wizard.diagnose import Diagnosis, diagnose
from wizard.session import Login
from wizard.steps.base import SIDES, Check, Context, Description, Event, Result, Side, Step, StepFailed

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

_LABELS = {"cluster": "the cluster's tenant", "identity": "the identity's tenant"}
_HOW = {"sandbox": "the sandbox's service principal", "service-principal": "a service principal (environment)",
        "azure-cli": "the Azure CLI's login", "device-code": "a device code", "browser": "a browser sign-in"}


def _documents(ctx: Context) -> dict[str, bytes]:
    """The tenants' OpenID configurations read this run (by the domain lookup), so signing in does not read them
    a second time: one GET per tenant instead of two."""
    found = ctx.cache.setdefault("openid-documents", {})
    assert isinstance(found, dict)
    return found


def _tenant_ref(ctx: Context, side: Side) -> str:
    return ctx.plan.cluster.tenant if side == "cluster" else ctx.plan.identity.tenant


class LoginStep(Step):
    name = "login"
    title = "Sign in"

    def describe(self, ctx: Context) -> Description:
        methods = {side: self._method(ctx, side, strict=False) for side in SIDES}
        refs = {side: _tenant_ref(ctx, side) for side in SIDES}
        same = refs["cluster"].lower() == refs["identity"].lower()
        if same and methods["cluster"] == methods["identity"]:
            summary = (f"Sign in once to tenant {refs['cluster']} (cluster and identity share it) with "
                       f"{_HOW.get(methods['cluster'], methods['cluster'])}. Nothing in Azure changes.")
        else:
            summary = " ".join(f"Sign in to {_LABELS[side]} {refs[side]} with "
                               f"{_HOW.get(methods[side], methods[side])}." for side in SIDES) \
                + " Each side keeps its own login. Nothing in Azure changes."
        commands = []
        for side in SIDES:
            if same and side == "identity" and methods["cluster"] == methods["identity"]:
                break
            commands.append(_command(methods[side], ctx.session.logins.get(side), refs[side]))
        return Description(summary, commands)

    def check(self, ctx: Context) -> Check:
        missing = [f"not signed in to {_LABELS[side]} ({_tenant_ref(ctx, side)})"
                   for side in SIDES if side not in ctx.credentials or side not in ctx.session.logins]
        if missing:
            return Check("missing", missing)
        drifted = []
        for side in SIDES:
            login, ref = ctx.session.logins[side], _tenant_ref(ctx, side)
            wanted = ref.lower() if names.is_guid(ref) else ctx.cache.get(f"tenant:{ref.lower()}")
            if wanted and wanted != login.tenant_id:
                drifted.append(f"signed in to {_LABELS[side]} {login.tenant_id}, but the plan names {ref}")
            if self._method(ctx, side, strict=False) != login.method:
                drifted.append(f"signed in to {_LABELS[side]} with {login.method}, but {ctx.logins.method(side)} "
                               "is asked for")
        if drifted:
            return Check("drifted", drifted)
        return Check("done", [], self._values(ctx))

    def apply(self, ctx: Context) -> Result:
        try:
            tenant_ids = {side: self._tenant_id(ctx, side) for side in SIDES}
            for side in SIDES:
                ctx.check_cancelled()
                self._sign_in(ctx, side, tenant_ids)
        except credentials.LoginError as exc:
            raise StepFailed(exc.diagnosis) from None
        except StepFailed:
            raise
        except Exception as exc:  # an SDK error (AADSTS…): the diagnosis table knows them
            raise StepFailed(sign_in_diagnosis(exc)) from None
        values = self._values(ctx)
        accounts = {ctx.session.logins[side].account for side in SIDES}
        return Result(f"Signed in as {' and '.join(sorted(accounts))}", values)

    # -- helpers ----------------------------------------------------------------------------------------------

    def _method(self, ctx: Context, side: Side, strict: bool = True) -> str:
        requested = ctx.logins.method(side)
        try:
            return credentials.method_for(ctx.cloud, requested)
        except credentials.LoginError:
            if strict:
                raise
            return requested

    def _tenant_id(self, ctx: Context, side: Side) -> str:
        ref = _tenant_ref(ctx, side)
        key = f"tenant:{ref.lower()}"
        found = ctx.cache.get(key)
        if not isinstance(found, str):
            found = credentials.resolve_tenant(ctx.cloud, ref, f"{side}.tenant", _documents(ctx))
            ctx.cache[key] = found
        return found

    def _sign_in(self, ctx: Context, side: Side, tenant_ids: dict[Side, str]) -> None:
        method = self._method(ctx, side)
        tenant_id = tenant_ids[side]
        known = ctx.session.logins.get(side)
        current = ctx.credentials.get(side)
        if current is not None and known and known.method == method and known.tenant_id == tenant_id:
            return  # signed in earlier in this run: no second prompt
        other: Side = "cluster" if side == "identity" else "identity"
        shared = ctx.session.logins.get(other)
        if side == "identity" and shared and shared.method == method and shared.tenant_id == tenant_id \
                and other in ctx.credentials:
            ctx.credentials[side] = ctx.credentials[other]
            ctx.session.logins[side] = Login(method, tenant_id, shared.account, dict(shared.authentication_record))
            return
        ctx.report(Event(self.name, f"Signing in to {_LABELS[side]} {tenant_id} with {_HOW[method]}…", "progress"))
        # The account signed in before (a resumed session): its tokens may still be in the OS's encrypted cache.
        saved = known.authentication_record if known and known.method == method else {}
        signed = credentials.login(ctx.cloud, method, tenant_id, prompt=ctx.logins.device_code_prompt, saved=saved,
                                   documents=_documents(ctx))
        # Said as information, not a warning: nothing is wrong with this run (and `doctor` warns about it).
        if signed.cache_problem and not ctx.cache.get("token-cache-warned"):
            ctx.cache["token-cache-warned"] = True
            ctx.report(Event(self.name, "No OS keyring here: you will be asked to sign in again on resume (tokens "
                             "stay in memory; they are never written to disk unencrypted). "
                             f"Cause: {signed.cache_problem}"))
        credential: TokenCredential = signed.credential
        ctx.credentials[side] = credential
        ctx.session.logins[side] = Login(method, tenant_id, signed.account.name, dict(signed.record))
        how = "" if signed.prompted else " (from the token cache, no prompt)"
        ctx.report(Event(self.name, f"Signed in to {_LABELS[side]} as {signed.account.name}{how}"))

    def _values(self, ctx: Context) -> dict[str, str]:
        cluster, identity = ctx.session.logins["cluster"], ctx.session.logins["identity"]
        return {
            "cluster_tenant_id": cluster.tenant_id, "identity_tenant_id": identity.tenant_id,
            "cluster_account": cluster.account, "identity_account": identity.account,
            "cluster_method": cluster.method, "identity_method": identity.method,
            "same_tenant": str(cluster.tenant_id == identity.tenant_id).lower(),
        }


# The table's rows for these codes speak of the workload (a pod's environment); at sign-in they mean this.
_AT_SIGN_IN = {
    "AADSTS700016": ("App not found in that tenant",
                     "The service principal signing in is not registered in the tenant asked (a single-tenant app "
                     "of another tenant, or a wrong client ID).",
                     "Use an app registered in that tenant (each side of the plan may need its own), or sign in "
                     "another way."),
    "AADSTS7000215": ("Invalid client secret",
                      "The service principal's secret was refused: it is wrong, expired, or belongs to another app.",
                      "Check AZURE_CLIENT_SECRET (the secret's value, not its ID) and AZURE_CLIENT_ID."),
    # The operator's own sign-in, where the table's general wording would leave the person guessing what to do.
    "AADSTS50020": ("Account not in that tenant",
                    "The account that signed in is neither a member nor a guest of this tenant, so Entra refuses it "
                    "there (common when one person signs in to both tenants with the account of one).",
                    "Sign in to this side with an account of this tenant (choose it at the prompt, or `az login "
                    "--tenant <tenant>` with that account), or have an admin of the tenant invite yours as a guest "
                    "(a guest can sign in, but creating identities and role assignments there needs roles granted "
                    "to the guest in that tenant)."),
    "AADSTS50076": ("Multi-factor authentication required",
                    "The tenant requires MFA for this sign-in, and the login used cannot perform it (a cached or "
                    "refreshed token, or an Azure CLI login made before the policy applied).",
                    "Sign in again interactively so MFA can be done: choose device-code or browser for this side "
                    "(or run `az login --tenant <tenant>` again), then re-run the login step."),
    "AADSTS65001": ("Consent required",
                    "The sign-in application (the Azure CLI's public client, which wi-wizard's interactive logins "
                    "use) has not been consented to in this tenant, and users may not consent themselves.",
                    "Ask an administrator of the tenant to grant consent to 'Microsoft Azure CLI' (04b07795-8ddb-"
                    "461a-bbee-02f9e1bf7b46), or sign in with a service principal registered in the tenant."),
}


def sign_in_diagnosis(error: BaseException | str) -> Diagnosis:
    """The diagnosis of a failed sign-in: the shared table, with the sign-in wording for the codes above."""
    found = diagnose(error, LoginStep.name)
    # The table groups MFA with the other Conditional Access refusals; at sign-in MFA has its own remedy.
    code = "AADSTS50076" if "AADSTS50076" in found.detail else found.code
    if code not in _AT_SIGN_IN:
        return found
    title, cause, fix = _AT_SIGN_IN[code]
    return Diagnosis(code, title, cause, fix, "login", found.detail)


def _command(method: str, known: Login | None, tenant: str) -> str:
    tenant = known.tenant_id if known and known.tenant_id else tenant
    if method in ("service-principal", "sandbox"):
        user = known.account if known and known.account else "$AZURE_CLIENT_ID"
        return f'az login --service-principal --username {user} --password "$AZURE_CLIENT_SECRET" --tenant {tenant}'
    if method == "device-code":
        return f"az login --tenant {tenant} --use-device-code"
    return f"az login --tenant {tenant}"
