"""The in-memory tracker as a plugin module, for CLI tests (``SPECTRYN_PLUGINS=tests.support.mem_plugin``)."""

from tests.support.memtracker import MemoryTracker

TRACKER = MemoryTracker("memory")

tracker_name = TRACKER.tracker_name
open_tracker = TRACKER.open_tracker
check_tracker = TRACKER.check_tracker
read_items = TRACKER.read_items
render_item = TRACKER.render_item
create_item = TRACKER.create_item
update_item = TRACKER.update_item
read_extras = TRACKER.read_extras
add_comment = TRACKER.add_comment
upload_attachment = TRACKER.upload_attachment
link_pull_request = TRACKER.link_pull_request
