"""The one model of what Jekyll 4.3 publishes (issue 10).

- `psych`: YAML typed as Ruby's Psych types it (Jekyll reads front matter with it).
- `dates`: the instant Jekyll publishes a post at (Psych's timestamps, then `Time.parse`).
- `site`: the `_config.yml` settings that change what is published.
- `model`: for one file, what Jekyll does with it (`Publication`).
- `liquid`: Liquid in bodies, parsed with python-liquid and Jekyll's tags (imported only when
  a body holds `{{` or `{%`).

Nothing here imports python-liquid, or reads a file, at import time.
"""
