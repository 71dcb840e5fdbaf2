"""The topology drill (`make drill`): nginx, two app instances, PostgreSQL and Redis on one machine."""
