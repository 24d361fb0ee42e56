"""The loader for the corpus's YAML data (catalogue, glossary): libyaml's safe loader when PyYAML was built
with it, since a synced corpus's catalogue runs to megabytes and the pure-Python loader takes seconds over it;
otherwise the pure-Python safe loader. Both construct the same plain types."""

import yaml

YAML_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
