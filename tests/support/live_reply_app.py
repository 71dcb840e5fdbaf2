"""The app for gunicorn in tests/test_netguard_deadline.py: its guard reaches a trickling server on loopback.

Configured from the environment like the real app, plus TRICKLE_PORT and TRICKLE_CA for the guard.
"""
import os

from praatmee_site import create_app
from praatmee_site.remote_interaction.netguard import NetGuard

app = create_app({"TESTING_NET_GUARD": NetGuard(
    resolver=lambda host: ["127.0.0.1"], port=int(os.environ["TRICKLE_PORT"]), allowed_networks=("127.0.0.0/8",),
    ca_bundle=os.environ["TRICKLE_CA"])})
