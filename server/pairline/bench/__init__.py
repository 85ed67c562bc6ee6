"""`pairline bench`: latency replay, typing simulation, completion quality, fix rate, next edits.

`command` builds the command line and loads a benchmark only when it runs. The benchmarks live
in four packages:

- `harness`: what every benchmark shares: reports and machine description, the LSP client,
  starting and stopping servers (pairline, llama.cpp's llama-server, llama_cpp.server), the
  llama.vim-style peer, the typing arguments, scoring and the PNG figures;
- `typist`: a simulated person typing through the real server over stdio (`latency`,
  `accept`, `startup`, `soak`) and what they need (traces, memory breakdown);
- `quality`: completion and fix quality on fixed task sets (`infill`, `crossfile`, `fix`,
  `checks`) and the context-gathering micro-measure;
- `nextedit`: next-edit suggestions replayed on real edits between releases, and the
  propagation and model micro-measures.

The micro-measures run with `python -m` (`quality.context_measure`, `nextedit.measure`,
`nextedit.model_measure`). Figures need matplotlib, which comes with `pairline[bench]`.
"""
