"""The running show: the only package that knows every edge.

contracts.py  a Protocol per edge (screen, worker, cues, input edges, archive, status)
build.py      the real edges from a Show (App gets every part; nothing starts there)
app.py        the frame loop, routing by type, applying the director's actions
presenter.py  an arrived image to the wall; reloader.py a reloaded show;
room.py       several nodes flipping together; housekeeper.py status and systemd
inbox.py      the bounded inbox; run.py the `installation run` command
"""

from installation.app.app import App, FreshCounts, RunOptions

__all__ = ["App", "FreshCounts", "RunOptions"]
