"""Everything that imports Flask: the app factory, the extensions, HTTP plumbing, the blueprints for
residents, event helpers and staff, and the CLI. The domain packages beside `web` never import it
(import-linter holds that rule, see pyproject.toml)."""
