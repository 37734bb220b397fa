// The proof-of-work solver in a Web Worker, so that solving never blocks the page
// (Lighthouse counted 1.2 s of blocking time when it ran on the main thread).
// Receives a challenge, answers `{ solution }` or `{ error }`.
"use strict";
importScripts("/static/pow-solver.js");

self.onmessage = async function (event) {
  try {
    const started = performance.now();
    const solution = await openslotSolve(event.data);
    solution.time = performance.now() - started;
    self.postMessage({ solution: solution });
  } catch (e) {
    self.postMessage({ error: String(e) });
  }
};
