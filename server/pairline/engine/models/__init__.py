"""The local model: which file a model setting names, loading it, and the one model the features
share.

- `manifest`: built-in models and GGUF paths → `ResolvedModel` (`resolve`, `FimTemplate`).
- `loading`: `load_local`, the one way every front end loads the model (`load_served`: as the
  language server runs it, in the model host process unless `model.host` is off).
- `local`: `LocalModel`, owned by the server and asked by completion, next edits and code actions.
"""
