"""The completion engine: pure Python, free of any LSP types, testable on its own."""
