// Openslot's proof-of-work check (the ALTCHA v2 protocol, algorithm "SHA-256"): fetch a
// signed challenge, find the counter whose derived key starts with the challenge's
// prefix using WebCrypto, and put the solution in the form's hidden `captcha` field.
// The derived key is SHA-256 applied `cost` times to salt || nonce || counter
// (4 bytes, big-endian).
(function () {
  "use strict";

  function hexToBytes(hex) {
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }

  function bytesToHex(bytes) {
    return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function derive(salt, nonce, counter, cost) {
    let data = new Uint8Array(salt.length + nonce.length + 4);
    data.set(salt, 0);
    data.set(nonce, salt.length);
    new DataView(data.buffer).setUint32(salt.length + nonce.length, counter, false);
    for (let i = 0; i < Math.max(cost, 1); i++) {
      data = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    }
    return data;
  }

  async function solve(challenge) {
    const p = challenge.parameters;
    const salt = hexToBytes(p.salt);
    const nonce = hexToBytes(p.nonce);
    const prefix = p.keyPrefix.toLowerCase();
    for (let counter = 0; counter < 5000000; counter++) {
      const key = await derive(salt, nonce, counter, p.cost);
      const hex = bytesToHex(key.slice(0, p.keyLength));
      if (hex.startsWith(prefix)) {
        return { counter: counter, derivedKey: hex };
      }
    }
    throw new Error("no solution");
  }

  async function run(box) {
    const form = box.closest("form");
    const field = form.querySelector('input[name="captcha"]');
    const status = box.querySelector("[data-captcha-status]");
    const submit = form.querySelector('button[type="submit"]');
    submit.disabled = true;
    status.textContent = "Checking you are not a robot…";
    try {
      const response = await fetch(box.dataset.challenge, { credentials: "same-origin" });
      const challenge = await response.json();
      const started = performance.now();
      const solution = await solve(challenge);
      solution.time = performance.now() - started;
      field.value = btoa(JSON.stringify({ challenge: challenge, solution: solution }));
      status.textContent = "Done: you can create your account.";
      submit.disabled = false;
    } catch (e) {
      status.textContent = "The anti-robot check failed; reload the page to try again.";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-captcha]").forEach(run);
  });
})();
