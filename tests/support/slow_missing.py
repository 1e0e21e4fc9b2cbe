"""A module whose import fails, slowly: it holds a schema generation inside the lazy
import of an extension's target class long enough for a second one to get there too."""

import time

time.sleep(0.3)
raise ImportError("tests.support.slow_missing is never importable")
