"""Model backends: the in-process llama.cpp model, and (later) remote HTTP models."""
