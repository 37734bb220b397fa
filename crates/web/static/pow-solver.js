// Openslot's proof-of-work solver (the ALTCHA v2 protocol, algorithm "SHA-256"), shared by
// the Web Worker (pow-worker.js) and, where a browser has no workers, the page itself.
// The derived key is SHA-256 applied `cost` times to salt || nonce || counter
// (4 bytes, big-endian); the solution is the first counter whose derived key starts with
// the challenge's prefix.
/* exported openslotSolve */
"use strict";

function openslotHexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

function openslotBytesToHex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function openslotSolve(challenge) {
  const p = challenge.parameters;
  const salt = openslotHexToBytes(p.salt);
  const nonce = openslotHexToBytes(p.nonce);
  const prefix = p.keyPrefix.toLowerCase();
  const input = new Uint8Array(salt.length + nonce.length + 4);
  input.set(salt, 0);
  input.set(nonce, salt.length);
  const view = new DataView(input.buffer);
  for (let counter = 0; counter < 5000000; counter++) {
    view.setUint32(salt.length + nonce.length, counter, false);
    let data = input;
    for (let i = 0; i < Math.max(p.cost, 1); i++) {
      data = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    }
    const hex = openslotBytesToHex(data.slice(0, p.keyLength));
    if (hex.startsWith(prefix)) {
      return { counter: counter, derivedKey: hex };
    }
  }
  throw new Error("no solution");
}
