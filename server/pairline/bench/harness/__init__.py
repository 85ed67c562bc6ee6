"""What every benchmark shares.

`common` (report, machine description, progress bar, text scores), `lspclient` (a minimal LSP
client over stdio), `servers` (the one place that starts and stops servers: `pairline serve`
and the HTTP peers), `peer` (a llama.cpp-style server driven as llama.vim drives it),
`llama_server` (building llama.cpp's own server), `llama_cpp_server` (llama_cpp.server loading
weights as the engine does), `arguments` (the typing and peer options), `scoring` (running a
candidate program in a subprocess) and `plot` (the PNG figures).
"""
