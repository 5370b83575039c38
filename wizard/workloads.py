"""The workloads the wizard knows: what the probe runs, what known images print, and how their logs are judged.

The deploy step builds the pod from here (the probe's script, its restart policy); the logs step feeds each log
line to a `Judge` that decides from what the workload itself printed whether it proved access to the identity
tenant. The probe and the seed's quota reader print fixed markers (the sandbox's emulations print the same lines,
see wizard/sandbox/images/markers.py; a test keeps the two in step); any other image can only be judged by the
absence of a known failure signature, and the verdict says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from wizard.diagnose import Diagnosis, diagnose, diagnose_text, redact

PROBE_PREFIX = "wi-probe: "
PROBE_OK = "OK"
PROBE_ERROR = "ERROR"
QUOTA_IMAGE_PREFIX = "ttl.sh/wi-demo"
QUOTA_LIMIT_PREFIX = "limit: "
QUOTA_USAGE_PREFIX = "usage: "
QUOTA_ERROR_PREFIX = "error: "
PROBE_API_VERSION = "2022-12-01"
CONTAINER = "workload"
EVIDENCE_LIMIT = 500

# What the probe pod really runs on the Azure CLI image: one federated sign-in with the webhook's environment, one
# ARM read of WI_PROBE_RESOURCE, each outcome on a `wi-probe: ` line (the sandbox ignores the command and runs its
# emulation, which prints the same lines). Errors are folded onto one line so the verdict line carries all of it.
PROBE_SCRIPT = f"""\
say() {{ printf '{PROBE_PREFIX}%s\\n' "$*"; }}
one_line() {{ tr '\\n' ' ' | tr -s ' ' | sed 's/ $//'; }}
say "exchanging the federated token of client ${{AZURE_CLIENT_ID:-(not set)}} in tenant ${{AZURE_TENANT_ID:-(not set)}}"
if ! out=$(az login --service-principal -u "$AZURE_CLIENT_ID" -t "$AZURE_TENANT_ID" \\
    --federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" --allow-no-subscriptions --output none 2>&1); then
  say "{PROBE_ERROR} $(printf '%s' "$out" | one_line)"
  exit 1
fi
say "signed in to tenant $(az account show --query tenantId --output tsv)"
if ! body=$(az rest --method get \\
    --url "https://management.azure.com${{WI_PROBE_RESOURCE}}?api-version={PROBE_API_VERSION}" 2>&1); then
  say "{PROBE_ERROR} $(printf '%s' "$body" | one_line)"
  exit 1
fi
say "GET ${{WI_PROBE_RESOURCE}} -> 200"
say "$(printf '%s' "$body" | one_line)"
say {PROBE_OK}
"""
PROBE_COMMAND = ["/bin/sh", "-c", PROBE_SCRIPT]


def kind_of(image: str) -> str:
    """"probe", "quota" (the seed's quota reader) or "custom"."""
    if image.startswith("mcr.microsoft.com/azure-cli"):
        return "probe"
    if image.startswith(QUOTA_IMAGE_PREFIX):
        return "quota"
    return "custom"


def restart_policy(image: str) -> str:
    """The probe runs once (Never: its one verdict stays readable); other workloads are restarted on failure
    only, so one that finishes its job stays Succeeded and one that crashes shows CrashLoopBackOff."""
    return "Never" if kind_of(image) == "probe" else "OnFailure"


@dataclass
class Verdict:
    """What the workload's logs prove: `proven` with the evidence, or failed with a diagnosis."""

    proven: bool
    evidence: str
    summary: str
    diagnosis: Diagnosis | None = None


@dataclass
class Judge:
    """Reads one workload's log lines as they arrive; `feed` returns a verdict as soon as one is certain."""

    image: str
    lines: list[str] = field(default_factory=list)
    # Where the quota reader's `error: ` line is: the SDK's error text goes on over the following lines (for
    # DefaultAzureCredential, one line per credential tried), and the telling one (AADSTS…) comes later.
    error_at: int | None = field(default=None, init=False)

    @property
    def kind(self) -> str:
        return kind_of(self.image)

    def feed(self, line: str) -> Verdict | None:
        self.lines.append(line)
        if self.kind == "probe":
            return self._probe(line)
        if self.kind == "quota":
            return self._quota(line)
        found = diagnose_text(line)
        if found is not None:
            return self._failed(line, found)
        return None

    def finish(self, exit_code: int | None, running: bool) -> Verdict:
        """The verdict when the log ended (the container exited: `exit_code`) or the observation window closed
        with the container still `running`, and `feed` did not decide."""
        if self.error_at is not None:
            block = self.lines[self.error_at:]
            return self._failed(block, diagnose(" ".join(block), "logs"))
        if self.kind == "custom" and (running or exit_code == 0):
            state = "is running" if running else "completed (exit 0)"
            return Verdict(True, _evidence(self.lines[-3:]) or f"the container {state}",
                           f"The workload {state} with no known failure in its logs; success is not provable "
                           "for a custom image.")
        if exit_code not in (None, 0):
            last = next((line for line in reversed(self.lines) if line.strip()), "")
            found = diagnose_text(last) if last else None
            text = f"the workload exited with code {exit_code}" + (f"; its last line: {last}" if last else "")
            return self._failed(text, found or diagnose(text, "logs"))
        what = {"probe": f"a '{PROBE_PREFIX}{PROBE_OK}' or '{PROBE_PREFIX}{PROBE_ERROR}' line",
                "quota": f"both a '{QUOTA_LIMIT_PREFIX}' and a '{QUOTA_USAGE_PREFIX}' line"}.get(self.kind, "")
        text = f"the workload's log ended without {what}" if what else "the workload's log ended"
        return self._failed(text, diagnose(text, "logs"))

    def _probe(self, line: str) -> Verdict | None:
        if not line.startswith(PROBE_PREFIX):
            return None
        said = line[len(PROBE_PREFIX):]
        if said == PROBE_OK:
            context = [x for x in self.lines if x.startswith(PROBE_PREFIX + "signed in") or " -> " in x]
            return Verdict(True, _evidence([*context, line]), "The probe signed in as the identity and read the "
                           "resource its role allows.")
        if said.startswith(PROBE_ERROR):
            return self._failed(line, diagnose(said[len(PROBE_ERROR):].strip() or line, "logs"))
        return None

    def _quota(self, line: str) -> Verdict | None:
        found = diagnose_text(line)
        if self.error_at is None and line.startswith(QUOTA_ERROR_PREFIX):
            self.error_at = len(self.lines) - 1
            return self._failed(line, found) if found is not None else None  # else: read on, or `finish`
        if self.error_at is not None:
            return self._failed([self.lines[self.error_at], line], found) if found is not None else None
        limit = next((x for x in self.lines if x.startswith(QUOTA_LIMIT_PREFIX)), None)
        usage = next((x for x in self.lines if x.startswith(QUOTA_USAGE_PREFIX)), None)
        if limit and usage:
            return Verdict(True, _evidence([limit, usage]), "The workload read the quota and its usage in the "
                           f"identity's tenant{_quota_figures(limit, usage)}.")
        if line.startswith((QUOTA_LIMIT_PREFIX, QUOTA_USAGE_PREFIX)):
            return None
        return self._failed(line, found) if found is not None else None

    def _failed(self, lines: str | list[str], diagnosis: Diagnosis) -> Verdict:
        shown = [lines] if isinstance(lines, str) else lines
        return Verdict(False, _evidence(shown), f"The workload failed: {diagnosis.title}.", diagnosis)


def _quota_figures(limit: str, usage: str) -> str:
    """` (cores: limit 20, usage 4)` from the quota reader's two JSON lines, so the summary states the figures the
    shortened evidence may cut off; empty when a line is not the Quota API's JSON."""
    try:
        quota = json.loads(limit[len(QUOTA_LIMIT_PREFIX):])
        used = json.loads(usage[len(QUOTA_USAGE_PREFIX):])
        name, amount = quota["name"], quota["properties"]["limit"]["value"]
        current = used["properties"]["usages"]["value"]
    except (ValueError, KeyError, TypeError):
        return ""
    return f" ({name}: limit {amount}, usage {current})"


def _evidence(lines: list[str]) -> str:
    """The lines, JWTs redacted, each shortened to its share of EVIDENCE_LIMIT so that every one stays visible."""
    if not lines:
        return ""
    share = EVIDENCE_LIMIT // len(lines) - 1
    return "\n".join(x if len(x) <= share else x[:share - 3] + "..." for x in map(redact, lines))
