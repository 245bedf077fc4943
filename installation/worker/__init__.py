"""The generation worker: an engine in a child process (client.py is the parent's side,
child.py the child's), what it answers (replies.py), and FakeWorker for tests."""
