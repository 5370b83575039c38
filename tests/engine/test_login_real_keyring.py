"""The persistent token cache with a real OS keyring: a private D-Bus session with GNOME Keyring (the Secret
Service libsecret talks to), so a device-code login is kept encrypted and `resume` signs in without a prompt.

Runs in a child process, because the keyring needs its own D-Bus session and the system's PyGObject (`gi`, from the
python3-gi package: it is not installable into the venv without a compiler). Needs `dbus-run-session`,
`gnome-keyring-daemon` and python3-gi + gir1.2-secret-1 (apt); skipped, with that reason, without them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wizard.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_GI = Path("/usr/lib/python3/dist-packages/gi")
NEEDS = "dbus-run-session, gnome-keyring-daemon and python3-gi + gir1.2-secret-1 (apt-get install dbus gnome-keyring " \
        "python3-gi gir1.2-secret-1)"

# The child: sign in twice with device codes (a first run, then a resume from the saved session), and report the
# prompts and events of each. It prints JSON only.
CHILD = """
import json, sys
from pathlib import Path
from wizard import target
from wizard.azure import credentials
from wizard.session import Session, SessionStore, Target
from wizard.steps.base import Context, LoginOptions
from tests.engine.support import Recorder, seed_plan
from wizard.steps.login import LoginStep

cloud = target.sandbox(Path(sys.argv[1]))
prompts = []
def run(logins=None):
    plan = seed_plan()
    events = Recorder()
    options = LoginOptions(cluster="device-code", identity="device-code",
                           device_code_prompt=lambda uri, code, expires: prompts.append(code))
    ctx = Context(plan=plan, session=Session("kept", plan, Target("sandbox", cloud.endpoints_path)), cloud=cloud,
                  report=events, logins=options)
    if logins is not None:
        ctx.session.logins = logins
    LoginStep().apply(ctx)
    SessionStore().save(ctx.session)
    ctx.credentials["identity"].get_token("https://management.azure.com/.default")  # later calls still work
    return [e.message for e in events.events], {s: l.account for s, l in ctx.session.logins.items()}

problem = credentials.keyring_problem()
first, accounts = run()
after_first = len(prompts)
second, again = run(SessionStore().load("kept").logins)
print(json.dumps({"problem": problem, "first": first, "second": second, "prompts": [after_first, len(prompts)],
                  "accounts": [accounts, again]}))
"""


def _gi_only(tmp_path: Path) -> Path:
    """A folder holding only the system's `gi` package: the whole dist-packages would shadow the venv's packages."""
    folder = tmp_path / "gi-only"
    folder.mkdir()
    (folder / "gi").symlink_to(SYSTEM_GI)
    return folder


@pytest.mark.skipif(not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")
                         and SYSTEM_GI.is_dir()), reason=f"needs {NEEDS}")
def test_with_an_os_keyring_resume_signs_in_from_the_encrypted_cache_without_a_prompt(
        sandbox: Sandbox, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": f"{ROOT}{os.pathsep}{_gi_only(tmp_path)}"}
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    shell = (f"echo -n test-keyring-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null && "
             f"exec {sys.executable} {script} {Path(sandbox.state_dir) / 'endpoints.json'}")

    done = subprocess.run(["dbus-run-session", "--", "sh", "-c", shell], capture_output=True, text=True,
                          timeout=120, env=env, cwd=ROOT, check=False)

    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["problem"] is None  # the keyring works in this session
    assert report["prompts"] == [2, 2]  # two on the first run, none on resume
    assert report["accounts"][0] == report["accounts"][1] == {
        "cluster": "alex@contoso.onmicrosoft.com", "identity": "megan@fabrikam.onmicrosoft.com"}
    assert "Signed in to the identity's tenant as megan@fabrikam.onmicrosoft.com (from the token cache, no prompt)" \
        in report["second"]
    assert not any(m.startswith("No OS keyring") for m in report["first"] + report["second"])
    # Encrypted only: no file under HOME (keyring files included) or the wizard's home holds a token in clear.
    for path in [*home.rglob("*"), *Path(os.environ["WI_WIZARD_HOME"]).rglob("*")]:
        if path.is_file():
            data = path.read_bytes()
            assert b"eyJ" not in data and b"RefreshToken" not in data and b"AccessToken" not in data, path
