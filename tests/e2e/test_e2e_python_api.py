"""The seed guide's Python API, spelled as the guide spells it, against the sandbox over HTTP."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def test_seed_import_path_and_calls_work(world: Any) -> None:
    from spectryn.adapters.bitbucket import BitbucketAdapter

    assert world.sync().code == 0
    number = int(world.by_key()["US-001"]["id"])
    person = world.sandbox.account("person")
    adapter = BitbucketAdapter(  # the seed's own keywords: user + secret (Basic: email + API token)
        username=person.email, app_password=person.secret, workspace=world.sandbox.workspace,
        repo=world.sandbox.repo, base_url=world.sandbox.base_url, rate_limit=0)
    try:
        adapter.add_comment(f"#{number}", "This is a comment")
        assert "This is a comment" in [c["body"] for c in adapter.get_comments(f"#{number}")]
        assert [c["name"] for c in adapter.list_components()] == ["Frontend", "Backend"]
        assert [v["name"] for v in adapter.list_versions()] == ["1.0", "1.1"]
        updated = adapter.update_issue_with_metadata(issue_key=f"#{number}", component="Backend",
                                                     version="1.1")
        assert updated["component"]["name"] == "Backend"
        note = world.tmp / "document.txt"
        note.write_text("project documentation\n")
        adapter.upload_attachment(issue_key=f"#{number}", file_path=str(note))
        assert "document.txt" in [a["name"] for a in adapter.get_issue_attachments(f"#{number}")]
        assert adapter.delete_attachment(f"#{number}", attachment_id="document.txt")
        assert adapter.link_pull_request(issue_key=f"#{number}", pull_request_id=3)
    finally:
        adapter.close()


def test_without_the_bitbucket_extra_the_import_says_what_to_install() -> None:
    probe = ("import sys; sys.modules['requests'] = None\n"
             "try:\n    import spectryn.adapters.bitbucket\n"
             "except ImportError as error:\n    print(error)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT,
                         timeout=60).stdout
    assert "pip install 'spectryn[bitbucket]'" in out
