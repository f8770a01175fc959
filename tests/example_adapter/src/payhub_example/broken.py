"""An adapter module that fails to import: the registry must report it, not crash."""

raise ImportError("payhub_example.broken needs a library that is not installed")
