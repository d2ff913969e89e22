"""A plugin that fails to import (for plugin-listing tests)."""

raise RuntimeError("this plugin is broken on purpose")
