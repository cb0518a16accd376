"""`make bench`: load tests run against the real entry points in separate processes (see taps.py)."""
