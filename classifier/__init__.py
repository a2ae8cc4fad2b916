"""Label each line of scraped Chinese document pages as body, chrome or spam; keep the body."""

__version__ = "0.1.0"
