"""callboard core: domain models, config, suites, engine, CLI."""
