"""OSC edges: remote control in (control.py), timetagged cues out (cues.py).

The namespace and its defaults live in addresses.py (pure, also used by the show
schema); fake.py holds in-memory stand-ins for tests. Import the submodules directly.
"""
