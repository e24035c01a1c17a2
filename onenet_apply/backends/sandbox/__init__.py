"""The sandbox: an embedded One Net Business site emulator in one SQLite file.

It enforces every platform rule (docs/domain.md, docs/lifecycle.md) on its own
and refuses illegal actions, so a planner bug shows up as a refusal in a test,
never as a quietly broken site. `backend` is the Backend; `users` and `groups`
its rule-checking writes; `carrier` the activations; `lock`, `store`, `seed` and
`consistency` the file underneath.
"""

from onenet_apply.backends.sandbox.backend import SandboxBackend
from onenet_apply.backends.sandbox.opening import open_url
from onenet_apply.backends.sandbox.store import MissingSandboxError

__all__ = ["MissingSandboxError", "SandboxBackend", "open_url"]
