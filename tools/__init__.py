"""Repository tools: the offline HACS + hassfest checker and the pin checker."""
